"""FAISS index types as the store builds them (flat, HNSW, IVF): build time, recall@10 against flat, and
batch-1 search latency, on random unit vectors, on vectors shaped like a store's, or on a store's own vectors.

Isotropic random vectors (queries = stored vectors plus noise) have no structure at all, the worst case for HNSW
and IVF. `--like STORE` draws from a Gaussian with the mean and covariance of that store's passage vectors, so a
corpus of any size has the anisotropy of real embeddings (a few directions carry most of the variance), and the
queries are fresh draws from the same distribution, as unseen queries are.
Prints a table and writes benchmarks/results/faiss-<n>.json (faiss-like-<store>-<n>.json) per corpus size.

    python benchmarks/bench_faiss.py                    # 100k and 1M (1M needs ~3 GiB and some minutes)
    python benchmarks/bench_faiss.py --n 20000          # a quick smoke run
    python benchmarks/bench_faiss.py --like stores/large --n 100000 1000000   # shaped like real vectors
    python benchmarks/bench_faiss.py --store stores/large   # the real passage vectors of a store
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import faiss
import numpy as np
from rich.console import Console
from rich.table import Table

from search.store.vectors import KINDS, VectorIndex
from results_io import write_results


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def random_set(n: int, dim: int, queries: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """n random unit vectors, and queries made of stored vectors plus noise."""
    rng = np.random.default_rng(0)
    vectors = unit(rng.standard_normal((n, dim), dtype=np.float32))
    picked = rng.choice(n, queries, replace=False)
    q = unit(vectors[picked] + noise * rng.standard_normal((queries, dim), dtype=np.float32) / np.sqrt(dim))
    return vectors, q


def store_vectors(folder: str) -> np.ndarray:
    """Every passage vector of a store, (n, dim)."""
    from search.store import Store

    index = Store.open(folder, readonly=True).vectors.index
    return index.index.reconstruct_n(0, index.ntotal)


def shaped_set(real: np.ndarray, n: int, queries: int, chunk: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """n unit vectors and `queries` more, drawn from a Gaussian with the mean and covariance of `real`."""
    mean = real.mean(0)
    factor = np.linalg.cholesky(np.cov(real, rowvar=False) + 1e-6 * np.eye(real.shape[1]))
    rng = np.random.default_rng(0)
    drawn = np.empty((n + queries, real.shape[1]), np.float32)
    for i in range(0, n + queries, chunk):  # in chunks: float64 draws of 1M x 384 would need 3 GiB more
        rows = min(chunk, n + queries - i)
        drawn[i:i + rows] = unit(mean + rng.standard_normal((rows, real.shape[1])) @ factor.T)
    return drawn[:n], drawn[n:]


def store_set(folder: str, queries: int) -> tuple[np.ndarray, np.ndarray]:
    """A store's own passage vectors; the queries are held-out passages (real neighbourhoods, not in the index)."""
    vectors = store_vectors(folder)
    rng = np.random.default_rng(0)
    held = np.zeros(len(vectors), bool)
    held[rng.choice(len(vectors), queries, replace=False)] = True
    return np.ascontiguousarray(vectors[~held]), np.ascontiguousarray(vectors[held])


def bench(vectors: np.ndarray, q: np.ndarray, k: int) -> dict:
    """Build each index type over `vectors`; recall@k of each against flat (exact) and batch-1 latency."""
    n, dim = vectors.shape
    ids = np.arange(1, n + 1, dtype=np.int64)
    rows, truth = {}, None
    for kind in KINDS:
        start = time.perf_counter()
        index = VectorIndex.build(kind, dim, ids, vectors)
        build = time.perf_counter() - start
        times, found = [], []
        for i in range(len(q)):  # batch 1, as a search request
            t = time.perf_counter()
            found.append({pid for pid, _ in index.search(q[i:i + 1], k)[0]})
            times.append(time.perf_counter() - t)
        truth = truth or found  # flat comes first: exact
        recall = float(np.mean([len(f & t) / k for f, t in zip(found, truth)]))
        rows[kind] = {"build_s": build, "recall_at_k": recall, "latency_ms_p50": 1000 * float(np.median(times)),
                      "latency_ms_p95": 1000 * float(np.percentile(times, 95))}
        del index
    return {"n": n, "dim": dim, "queries": len(q), "k": k, "threads": faiss.omp_get_max_threads(), "results": rows}


def print_table(report: dict, title: str) -> None:
    table = Table(title=f"FAISS on {title}, {report['threads']} threads")
    for col in ("index", "build s", f"recall@{report['k']} vs flat", "p50 ms (batch 1)", "p95 ms"):
        table.add_column(col, justify="right")
    for kind, r in report["results"].items():
        table.add_row(kind, f"{r['build_s']:.1f}", f"{r['recall_at_k']:.3f}", f"{r['latency_ms_p50']:.2f}",
                      f"{r['latency_ms_p95']:.2f}")
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000], help="random corpus sizes")
    parser.add_argument("--store", help="use this store's passage vectors instead of random ones")
    parser.add_argument("--like", metavar="STORE", help="draw the --n vectors shaped like this store's vectors")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--noise", type=float, default=0.5, help="query = stored vector + this much noise")
    args = parser.parse_args()
    if args.store:
        vectors, q = store_set(args.store, args.queries)
        report = bench(vectors, q, args.k) | {"store": args.store}
        print_table(report, f"{len(vectors):,} passage vectors of {args.store}")
        write_results(f"faiss-store-{Path(args.store).name}", report)
        return
    real = store_vectors(args.like) if args.like else None
    for n in args.n:
        if real is None:
            vectors, q = random_set(n, args.dim, args.queries, args.noise)
            extra, title, name = {"noise": args.noise}, f"{n:,} random unit vectors", f"faiss-{n}"
        else:
            vectors, q = shaped_set(real, n, args.queries)
            extra, title = {"like": args.like}, f"{n:,} vectors shaped like {args.like}'s"
            name = f"faiss-like-{Path(args.like).name}-{n}"
        report = bench(vectors, q, args.k) | extra
        print_table(report, f"{title}, d={vectors.shape[1]}")
        write_results(name, report)


if __name__ == "__main__":
    main()
