"""FAISS index types as the store builds them (flat, HNSW, IVF, IVF-PQ with exact re-scoring): build time,
memory once loaded, recall@10 against flat and batch-1 search latency — at the default search settings and at
those `news-index tune-index` would choose for a recall target — on random unit vectors, on vectors shaped like a
store's, or on a store's own vectors.

Isotropic random vectors (queries = stored vectors plus noise) have no structure at all, the worst case for HNSW
and IVF. `--like STORE` draws from a Gaussian with the mean and covariance of that store's passage vectors, so a
corpus of any size has the anisotropy of real embeddings (a few directions carry most of the variance), and the
queries are fresh draws from the same distribution, as unseen queries are.
Prints a table and writes benchmarks/results/faiss-<n>.json (faiss-like-<store>-<n>.json) per corpus size.

    python benchmarks/bench_faiss.py                    # 100k and 1M (1M needs ~3 GiB and some minutes)
    python benchmarks/bench_faiss.py --n 20000          # a quick smoke run
    python benchmarks/bench_faiss.py --like stores/large --n 100000 1000000   # shaped like real vectors
    python benchmarks/bench_faiss.py --store stores/large   # the real passage vectors of a store
    python benchmarks/bench_faiss.py --like stores/large --n 1000000 --kinds flat ivfpq   # the 1M target
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import faiss
import numpy as np
from rich.console import Console
from rich.table import Table

from search.store.index_tuning import exact_neighbours, measure, tune_index
from search.store.vectors import KINDS, ExactVectors, SearchSettings, VectorIndex
from results_io import write_results

KNOBS = {"hnsw": ("ef_search",), "ivf": ("nprobe",), "ivfpq": ("nprobe", "refine")}


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


def fp16_table(vectors: np.ndarray, folder: Path) -> ExactVectors:
    """The exact vectors as a store keeps them (float16, on disk, read through the page cache) for ivfpq's
    re-scoring; ids are 1..n. A store reads them from SQLite (`exact_vectors`), which `--store` runs measure."""
    path = folder / "vectors.f16"
    table = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=vectors.shape)
    table[:] = vectors
    table.flush()

    def lookup(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = np.sort(np.asarray(ids, np.int64))
        return found, table[found - 1].astype(np.float32)
    return lookup


def resident_mb(path: Path) -> float:
    """Memory the index takes once loaded: the resident-set growth of a fresh process reading the file."""
    code = ("import faiss, sys\n"
            "def rss(): return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1])\n"
            "before = rss(); index = faiss.read_index(sys.argv[1]); print((rss() - before) / 1024)")
    return float(subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                                check=True).stdout)


def bench(vectors: np.ndarray, q: np.ndarray, k: int, kinds: list[str], target: float) -> dict:
    """Build each index type over `vectors`: its recall@k against flat (exact) and batch-1 latency on the queries
    `q`, at the default search settings and at the settings `tune_index` chose for recall `target` on 200 stored
    vectors (leave-one-out, as `news-index tune-index` does) — chosen on stored vectors, reported on `q`."""
    n, dim = vectors.shape
    ids = np.arange(1, n + 1, dtype=np.int64)
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        exact = fp16_table(vectors, Path(folder))
        none = [np.zeros(0, np.int64)] * len(q)  # held-out queries: nothing of theirs is in the index
        chunks = [(ids[i:i + 100_000], vectors[i:i + 100_000]) for i in range(0, n, 100_000)]
        truth = exact_neighbours(chunks, q, none, k)
        for kind in kinds:
            start = time.perf_counter()
            index = VectorIndex.build(kind, dim, ids, vectors)
            build = time.perf_counter() - start
            index.save(Path(folder) / "index.faiss")
            row = {"build_s": build, "index_mb": resident_mb(Path(folder) / "index.faiss"),
                   "file_mb": (Path(folder) / "index.faiss").stat().st_size / 2**20}
            default = measure(index, exact, q, none, truth, SearchSettings())
            row["default"] = asdict(default)
            if kind != "flat":
                tuning = tune_index(index, exact, lambda: chunks,
                                    np.random.default_rng(1).choice(ids, 200, replace=False), target, k)
                row["tuned_on_stored"] = asdict(tuning.chosen)
                row["tuned"] = asdict(measure(index, exact, q, none, truth,
                                              tuning.chosen.settings))
            rows[kind] = row
            del index
    return {"n": n, "dim": dim, "queries": len(q), "k": k, "target_recall": target,
            "threads": faiss.omp_get_max_threads(), "results": rows}


def print_table(report: dict, title: str) -> None:
    table = Table(title=f"FAISS on {title}, {report['threads']} threads")
    for col in ("index", "settings", "build s", "memory MB", f"recall@{report['k']} vs flat", "p50 ms (batch 1)",
                "p95 ms"):
        table.add_column(col, justify="right")
    for kind, r in report["results"].items():
        for label in ("default", "tuned"):
            if label in r:
                t = r[label]
                knobs = ", ".join(f"{name} {value}" for name, value in t["settings"].items()
                                  if name in KNOBS.get(kind, ()))
                table.add_row(kind, f"{label}: {knobs}" if knobs else label, f"{r['build_s']:.1f}",
                              f"{r['index_mb']:.0f}", f"{t['recall']:.3f}", f"{t['p50_ms']:.2f}", f"{t['p95_ms']:.2f}")
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
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS), help="index types to build")
    parser.add_argument("--recall", type=float, default=0.95, help="recall target the tuned rows are chosen for")
    args = parser.parse_args()
    if args.store:
        vectors, q = store_set(args.store, args.queries)
        report = bench(vectors, q, args.k, args.kinds, args.recall) | {"store": args.store}
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
        report = bench(vectors, q, args.k, args.kinds, args.recall) | extra
        print_table(report, f"{title}, d={vectors.shape[1]}")
        write_results(name, report)


if __name__ == "__main__":
    main()
