"""A sharded store searched by threads of one process against shards on Ray actors (`serve --shards ray`), and
the cost of BM25 with the pooled statistics of all shards against merging each shard's own scores. p50 over the
queries below, each through a fresh pipeline (no response cache); prints a table and writes
benchmarks/results/shards-<store>.json.

    news-index add data/sample --store stores/sample-2 --shards 2
    python benchmarks/bench_shards.py --store stores/sample-2
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Callable

import torch
from rich.console import Console
from rich.table import Table

from results_io import write_results
from search.model import NewsModel
from search.pipeline import SearchPipeline, SearchRequest
from search.store import ShardedStore, open_store

QUERIES = ["flooding after heavy rain", "central bank raises interest rates", "election results announced",
           "earthquake rescue teams", "football cup final", "new vaccine trial", "oil prices fall",
           "protests in the capital", "tech company buys startup", "wildfire evacuation"]


def p50_ms(run: Callable[[str], object], rounds: int = 1) -> float:
    """Median milliseconds of `run(query)` over QUERIES × rounds, after one warm-up call."""
    run(QUERIES[0])
    times = []
    for _ in range(rounds):
        for query in QUERIES:
            start = time.perf_counter()
            run(query)
            times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def per_shard_bm25(store: ShardedStore, query: str, k: int) -> list[tuple[int, float]]:
    """The merge before pooling: every shard's own BM25 scores, as they are."""
    found = store._each(lambda i, s: [(store._global(i, pid), score) for pid, score in s.lexical_search(query, k)])
    return sorted((hit for hits in found for hit in hits), key=lambda h: (-h[1], h[0]))[:k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True, help="a sharded store folder (news-index add --shards N)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    torch.set_num_threads(args.threads)
    from search.store.ray_shards import open_on_ray

    model = NewsModel.load(None)
    threads = open_store(args.store, readonly=True)
    if not isinstance(threads, ShardedStore):
        raise SystemExit(f"{args.store} is not a sharded store: make one with news-index add PATH --shards N")
    rows: dict[str, float] = {
        "BM25, each shard's own statistics (ms)": p50_ms(lambda q: per_shard_bm25(threads, q, 30), rounds=3),
        "BM25, pooled statistics (ms)": p50_ms(lambda q: threads.lexical_search(q, 30), rounds=3)}
    actors = open_on_ray(args.store)
    for name, store in (("threads", threads), ("Ray actors", actors)):
        for label, rerank in (("retrieval only", False), ("default search", True)):
            rows[f"{label}, shards on {name} (ms)"] = p50_ms(lambda q: SearchPipeline(model, store).search(
                SearchRequest(query=q, rerank=rerank, answers=rerank)))
    table = Table(title=f"{args.store}: {len(threads.shards)} shards, {len(QUERIES)} queries, p50")
    table.add_column("measure")
    table.add_column("ms", justify="right")
    for name, value in rows.items():
        table.add_row(name, f"{value:.1f}")
    Console().print(table)
    write_results(f"shards-{Path(args.store).name}", {"store": args.store, "shards": len(threads.shards),
                                                      "queries": QUERIES, "p50_ms": rows})


if __name__ == "__main__":
    main()
