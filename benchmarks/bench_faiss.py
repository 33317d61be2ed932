"""FAISS index types as the store builds them (flat, HNSW, IVF): build time, recall@10 against flat, and
batch-1 search latency, on random unit vectors.

Queries are stored vectors plus noise, so each has a meaningful neighbourhood. Random vectors have no cluster
structure, which makes this a hard case for HNSW and IVF: real embeddings recall better.
Prints a table and writes benchmarks/results/faiss-<n>.json per corpus size.

    python benchmarks/bench_faiss.py                    # 100k and 1M (1M needs ~3 GiB and some minutes)
    python benchmarks/bench_faiss.py --n 20000          # a quick smoke run
"""
from __future__ import annotations

import argparse
import time

import faiss
import numpy as np
from rich.console import Console
from rich.table import Table

from search.store.vectors import KINDS, VectorIndex
from results_io import write_results



def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def bench(n: int, dim: int, queries: int, k: int, noise: float) -> dict:
    rng = np.random.default_rng(0)
    vectors = unit(rng.standard_normal((n, dim), dtype=np.float32))
    picked = rng.choice(n, queries, replace=False)
    q = unit(vectors[picked] + noise * rng.standard_normal((queries, dim), dtype=np.float32) / np.sqrt(dim))
    ids = np.arange(1, n + 1, dtype=np.int64)
    rows, truth = {}, None
    for kind in KINDS:
        start = time.perf_counter()
        index = VectorIndex.build(kind, dim, ids, vectors)
        build = time.perf_counter() - start
        hits = [index.search(q[i:i + 1], k)[0] for i in range(queries)]  # batch 1, as a search request
        times = []
        for i in range(queries):
            t = time.perf_counter()
            index.search(q[i:i + 1], k)
            times.append(time.perf_counter() - t)
        found = [{pid for pid, _ in h} for h in hits]
        truth = truth or found  # flat comes first: exact
        recall = float(np.mean([len(f & t) / k for f, t in zip(found, truth)]))
        rows[kind] = {"build_s": build, "recall_at_k": recall, "latency_ms_p50": 1000 * float(np.median(times)),
                      "latency_ms_p95": 1000 * float(np.percentile(times, 95))}
        del index
    return {"n": n, "dim": dim, "queries": queries, "k": k, "noise": noise, "threads": faiss.omp_get_max_threads(),
            "results": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000], help="corpus sizes")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--noise", type=float, default=0.5, help="query = stored vector + this much noise")
    args = parser.parse_args()
    console = Console()
    for n in args.n:
        report = bench(n, args.dim, args.queries, args.k, args.noise)
        table = Table(title=f"FAISS on {n:,} random unit vectors, d={args.dim}, {report['threads']} threads")
        for col in ("index", "build s", f"recall@{args.k} vs flat", "p50 ms (batch 1)", "p95 ms"):
            table.add_column(col, justify="right")
        for kind, r in report["results"].items():
            table.add_row(kind, f"{r['build_s']:.1f}", f"{r['recall_at_k']:.3f}", f"{r['latency_ms_p50']:.2f}",
                          f"{r['latency_ms_p95']:.2f}")
        console.print(table)
        write_results(f"faiss-{n}", report)


if __name__ == "__main__":
    main()
