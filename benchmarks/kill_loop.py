"""The kill loop on a larger input: `news-index add` killed with SIGKILL at 20 random moments while it writes,
re-run after each, then run to its end; the store must hold every article exactly once and pass `check`.

    python benchmarks/kill_loop.py [--input ../shared/data/bbc_news/train.jsonl] [--kills 20] [--seed 0]

Without --input it writes 2,000 generated articles (several passages each). Prints the report and writes
benchmarks/results/kill-loop.json. The suite runs the same loop with 3 kills (tests/indexer/test_crash.py).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from results_io import write_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = ("council harbour storm election court market vaccine river bridge strike school budget minister "
         "festival museum railway airport hospital factory drought wildfire flood league cup final").split()


def generated(n: int, seed: int) -> list[dict]:
    """`n` articles of 150–400 words each, every one different (ids gen-0000 …)."""
    rng = random.Random(seed)
    return [{"id": f"gen-{i:04d}", "title": " ".join(rng.choices(WORDS, k=6)).capitalize(),
             "body": ". ".join(" ".join(rng.choices(WORDS, k=12)).capitalize() for _ in range(rng.randint(12, 33)))
             + "."} for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", default=None, help="a JSONL file with an `id` per article")
    parser.add_argument("--articles", type=int, default=2000, help="generated articles when no --input")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-passages", type=int, default=16)
    args = parser.parse_args()

    from tests.indexer.kill_loop import kill_loop

    with tempfile.TemporaryDirectory() as tmp:
        if args.input:
            path = Path(args.input)
            ids = [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        else:
            records = generated(args.articles, args.seed)
            path = Path(tmp) / "articles.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
            ids = [r["id"] for r in records]
        report = kill_loop(path, ids, Path(tmp) / "store", args.kills, args.seed, args.batch_passages,
                           max_delay_s=8.0, timeout_s=7200)
    print(f"kills that landed mid-write: {report.kills} of {args.kills} ({report.finished_early} runs ended first)")
    print(f"final run exit code: {report.final_exit}")
    print(f"articles in / stored / lost / duplicated passages: {report.articles_in} / {report.articles_stored} / "
          f"{len(report.lost)} / {report.duplicated}")
    print(f"check: {'passed' if not report.problems else report.problems}")
    print(f"time: {report.seconds:.0f} s")
    write_results("kill-loop", {"input": args.input or f"{args.articles} generated articles", "seed": args.seed,
                                "batch_passages": args.batch_passages, **asdict(report)})


if __name__ == "__main__":
    main()
