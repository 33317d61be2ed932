"""Filling a trained IVF index with new vectors: the indexing process encoding them itself (`VectorIndex.add`), or
workers encoding shards with the index's trained centroids and codebooks (`fill_part`) and the indexing process
appending their codes (`VectorIndex.merge_parts`, FAISS `merge_from`) — what `news-index add --engine ray` does
for a store whose IVF index the run keeps. The figure that matters at scale is the indexing process's time per
new vector: it is the one part that does not grow with the workers.

Vectors are drawn shaped like a store's (`bench_faiss.py --like`); the parts are filled one after another here,
each timed (on a cluster they run at once, one per worker). Checks that both ways give the same search results.
Prints a table and writes benchmarks/results/merge-parts-<kind>-<n>.json.

    python benchmarks/bench_merge_parts.py --like runs/large-store --n 200000 --new 100000 --parts 4
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from bench_faiss import shaped_set, store_vectors
from results_io import write_results
from search.store.vectors import VectorIndex, fill_part


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--like", metavar="STORE", required=True, help="draw vectors shaped like this store's")
    parser.add_argument("--n", type=int, default=200_000, help="vectors the index is trained on and holds")
    parser.add_argument("--new", type=int, default=100_000, help="vectors added afterwards")
    parser.add_argument("--parts", type=int, default=4, help="workers' shards the new vectors come in")
    parser.add_argument("--kind", choices=("ivf", "ivfpq"), default="ivfpq")
    args = parser.parse_args()
    vectors, queries = shaped_set(store_vectors(args.like), args.n + args.new, 200)
    ids = np.arange(1, len(vectors) + 1)
    start = time.perf_counter()
    merged = VectorIndex.build(args.kind, vectors.shape[1], ids[:args.n], vectors[:args.n])
    built = time.perf_counter() - start
    added = merged.copy()

    start = time.perf_counter()
    added.add(ids[args.n:], vectors[args.n:])
    add_s = time.perf_counter() - start

    template = merged.part_template()
    parts, fill_s = [], []
    for shard in np.array_split(np.arange(args.n, len(vectors)), args.parts):
        start = time.perf_counter()
        parts.append((fill_part(template, vectors[shard]), ids[shard]))
        fill_s.append(time.perf_counter() - start)
    start = time.perf_counter()
    merged.merge_parts(parts)
    merge_s = time.perf_counter() - start
    same = merged.search(queries, 10) == added.search(queries, 10)

    rows = {"indexing process encodes (add)": {"indexing_process_s": add_s, "worker_s": 0.0},
            f"{args.parts} workers encode, parts merged (merge_from)": {"indexing_process_s": merge_s,
                                                                       "worker_s": max(fill_s)}}
    for row in rows.values():
        row["us_per_new_vector_in_indexing_process"] = row["indexing_process_s"] / args.new * 1e6
    table = Table(title=f"{args.new:,} new vectors into a trained {args.kind} index of {args.n:,} "
                        f"(nlist {merged.nlist}); same search results: {same}")
    for col in ("way", "indexing process s", "µs per new vector", "slowest worker s"):
        table.add_column(col, justify="right")
    for name, row in rows.items():
        table.add_row(name, f"{row['indexing_process_s']:.3f}", f"{row['us_per_new_vector_in_indexing_process']:.2f}",
                      f"{row['worker_s']:.2f}")
    Console().print(table)
    write_results(f"merge-parts-{args.kind}-{args.n}", {
        "like": args.like, "n": args.n, "new": args.new, "parts": args.parts, "kind": args.kind,
        "nlist": merged.nlist, "build_s": built, "same_search_results": same, "fill_s": fill_s, "results": rows})


if __name__ == "__main__":
    main()
