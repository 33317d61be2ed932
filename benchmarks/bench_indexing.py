"""Indexing throughput: `news-index add` (split + one annotate pass + SQLite + FAISS) against
sentence-transformers `encode()` alone on the same passages, same model folder, same thread count.

Each side runs in its own child process, so its peak memory (max RSS) is its own.
Prints a table and writes benchmarks/results/indexing-<input>.json.

    python benchmarks/bench_indexing.py                                   # the bundled sample
    python benchmarks/bench_indexing.py --input /work/shared/data/bbc_news/train.jsonl
    python benchmarks/bench_indexing.py --limit 50 --threads 2            # a quick smoke run
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_io import write_results

ROOT = Path(__file__).resolve().parents[1]


def articles(path: str, limit: int | None) -> list:
    from indexer.readers import read_inputs
    from indexer.records import Article

    found = [a for a in read_inputs([path]) if isinstance(a, Article)]
    return found[:limit] if limit else found


def run_indexer(args: argparse.Namespace) -> dict:
    """`news-index add` as the product runs it, into a fresh store."""
    from indexer.pipeline import Indexer
    from search.model import NewsModel
    from search.store import Store

    model = NewsModel.load(args.model)
    items = articles(args.input, args.limit)
    with tempfile.TemporaryDirectory() as folder:
        report = Indexer(Store.open(folder, create=True), model).add(items)
    return {"passages": report.passages, "seconds": report.seconds}


def run_encode(args: argparse.Namespace) -> dict:
    """sentence-transformers on the very passages the indexer makes (splitting not timed)."""
    from sentence_transformers import SentenceTransformer

    from search.passages import split_passages
    from search.model.base import default_checkpoint
    from search.store import article_text

    folder = args.model or str(default_checkpoint())
    encoder = SentenceTransformer(folder, device="cpu")
    encoder.max_seq_length = 256
    texts = []
    for a in articles(args.input, args.limit):
        text = article_text(a.title, a.body)
        texts += [text[s.start:s.end] for s in split_passages(text, encoder.tokenizer, 256)]
    start = time.perf_counter()
    encoder.encode(texts, batch_size=32, show_progress_bar=False)
    return {"passages": len(texts), "seconds": time.perf_counter() - start}


def child(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    result = (run_indexer if args.phase == "indexer" else run_encode)(args)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", default=str(ROOT / "data" / "sample" / "articles.jsonl"))
    parser.add_argument("--limit", type=int, default=None, help="first N articles only")
    parser.add_argument("--model", default=None, help="checkpoint folder (default: the released one)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--phase", choices=["indexer", "encode"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        return child(args)

    results = {}
    for phase in ("encode", "indexer"):
        cmd = [sys.executable, __file__, "--phase", phase, "--input", args.input, "--threads", str(args.threads)]
        cmd += (["--limit", str(args.limit)] if args.limit else []) + (["--model", args.model] if args.model else [])
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
        results[phase] = json.loads(out.strip().splitlines()[-1])
        results[phase]["passages_per_s"] = results[phase]["passages"] / results[phase]["seconds"]
    ratio = results["indexer"]["passages_per_s"] / results["encode"]["passages_per_s"]
    report = {"input": args.input, "limit": args.limit, "threads": args.threads, "results": results,
              "ratio_indexer_vs_encode": ratio}

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"indexing {Path(args.input).name} ({args.threads} threads; ST = sentence-transformers)")
    for col in ("", "passages", "seconds", "passages/s", "peak RSS MiB"):
        table.add_column(col, justify="right" if col else "left", no_wrap=True)
    for name, label in (("encode", "ST encode()"), ("indexer", "news-index add")):
        r = results[name]
        table.add_row(label, str(r["passages"]), f"{r['seconds']:.1f}", f"{r['passages_per_s']:.1f}",
                      f"{r['peak_rss_mib']:.0f}")
    Console().print(table)
    Console().print(f"ratio news-index / encode(): [bold]{ratio:.2f}[/] (target ≥ 1.0)")
    write_results(f"indexing-{Path(args.input).stem}{'-' + str(args.limit) if args.limit else ''}", report)


if __name__ == "__main__":
    main()
