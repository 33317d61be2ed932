"""Indexing throughput of `news-index add --engine ray` against the local engine, on the same articles, each run a
fresh store and a fresh process (wall clock of the whole command, model loading and Ray start-up included — what
a user waits for): the local engine; Ray started by the command on this machine, with its default workers and
with one worker using every CPU; and, with `--two-nodes`, a
simulated 2-node cluster — two Ray nodes on this machine (`ray start --head` and `ray start --address`, one CPU
each) — that the command joins with `--ray-address`.
Prints a table and writes benchmarks/results/ray-<input>.json.

    python benchmarks/bench_ray.py --input ../shared/data/bbc_news/train.jsonl --limit 1000 --two-nodes
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from results_io import write_results

BIN = Path(sys.executable).parent
RAY_PORT = 6391  # the simulated cluster's head
# the simulated cluster listens on this machine only; without this a head finding ~/.ray/auth_token expects it
# from the second node, which `ray start --address` does not send
RAY_ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


def run_add(input_path: Path, store: Path, extra: list[str]) -> dict:
    """One `news-index add` into a new store: wall seconds, passages and passages/s."""
    start = time.perf_counter()
    subprocess.run([str(BIN / "news-index"), "add", str(input_path), "--store", str(store), *extra], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=RAY_ENV)
    seconds = time.perf_counter() - start
    stats = json.loads(subprocess.run([str(BIN / "news-index"), "stats", "--store", str(store), "--json"],
                                      check=True, capture_output=True, text=True).stdout)
    return {"seconds": seconds, "articles": stats["articles"], "passages": stats["passages"],
            "passages_per_s": stats["passages"] / seconds}


def two_node_cluster() -> None:
    """Two Ray nodes on this machine, one CPU each (`ray stop` ends them)."""
    ray = str(BIN / "ray")
    subprocess.run([ray, "start", "--head", f"--port={RAY_PORT}", "--num-cpus=1", "--include-dashboard=false"],
                   check=True, env=RAY_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([ray, "start", f"--address=127.0.0.1:{RAY_PORT}", "--num-cpus=1"], check=True, env=RAY_ENV,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True, help="a JSONL file of articles")
    parser.add_argument("--limit", type=int, default=1000, help="articles taken from the start of --input")
    parser.add_argument("--two-nodes", action="store_true", help="also a simulated 2-node cluster")
    args = parser.parse_args()
    lines = Path(args.input).read_text(encoding="utf-8").splitlines(keepends=True)[:args.limit]
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        articles = work / "articles.jsonl"
        articles.write_text("".join(lines), encoding="utf-8")
        runs = {"local engine": [],
                "ray, started by the command (default: 1 worker per CPU)": ["--engine", "ray"],
                "ray, started by the command, 1 worker with every CPU": ["--engine", "ray", "--workers", "1"]}
        for i, (name, extra) in enumerate(runs.items()):
            rows[name] = run_add(articles, work / f"run-{i}", extra)
        if args.two_nodes:
            two_node_cluster()
            try:
                rows["ray, 2 simulated nodes (2 workers, 1 CPU each)"] = run_add(
                    articles, work / "two-nodes",
                    ["--engine", "ray", "--ray-address", f"127.0.0.1:{RAY_PORT}", "--workers", "2"])
            finally:
                subprocess.run([str(BIN / "ray"), "stop", "--force"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    local = rows["local engine"]["passages_per_s"]
    for row in rows.values():
        row["ratio_to_local"] = row["passages_per_s"] / local
    table = Table(title=f"news-index add: {len(lines)} articles of {args.input}, {os.cpu_count()} CPUs")
    for col in ("engine", "passages", "seconds", "passages/s", "vs local"):
        table.add_column(col, justify="right")
    for name, r in rows.items():
        table.add_row(name, str(r["passages"]), f"{r['seconds']:.1f}", f"{r['passages_per_s']:.1f}",
                      f"{r['ratio_to_local']:.2f}")
    Console().print(table)
    write_results(f"ray-{Path(args.input).stem}", {"input": args.input, "articles": len(lines), "results": rows})


if __name__ == "__main__":
    main()
