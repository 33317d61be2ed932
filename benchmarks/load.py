"""Load with backpressure: 1, 16 and 64 concurrent clients on `GET /search` (retrieval only, and the default
search with rerank and answers) while `news-index add` writes into the same store.

`news-search serve` runs in a subprocess with its default admission (one pair pass at a time, 32 searches may
wait, a 30 s deadline); a copy of the store is used, and `news-index add` indexes --write-input into that copy
during the whole run. Each level sends a fixed number of requests, every query new (no cache hits). Reported per
level: requests, 200s, deliberate 503s (with Retry-After), other errors, and p50/p95/p99 latency of the 200s.

    python benchmarks/load.py --store runs/sample-store [--write-input ../shared/data/bbc_news/test.jsonl]
        [--requests 128]

Prints a table and writes benchmarks/results/load.json.
"""
from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from bench_concurrency import start_server
from results_io import write_results

ROOT = Path(__file__).resolve().parents[1]
LEVELS = (1, 16, 64)
MODES = {"retrieval only": {"rerank": "false", "answers": "false"}, "default": {}}


def questions(store: Path) -> itertools.cycle:
    """Endless distinct questions built from the store's titles (each sent once per run: no cache hits)."""
    sys.path.insert(0, str(ROOT))
    from search.store import Store

    titles = [r[0] for r in Store.open(store, readonly=True).db.execute("SELECT title FROM articles")]
    forms = ("What happened in {}?", "{}", "Who was involved: {}", "Why does it matter that {}?")
    return iter(form.format(t) for form in forms for t in titles)


def run_level(url: str, clients: int, requests: int, params: dict, queries) -> dict:
    """`requests` searches spread over `clients` threads; statuses and latencies."""
    batch = [next(queries) for _ in range(requests)]
    results: list[tuple[int, float, bool]] = []

    def client(share: list[str]) -> list[tuple[int, float, bool]]:
        out = []
        with httpx.Client(timeout=120) as http:
            for q in share:
                began = time.perf_counter()
                try:
                    r = http.get(f"{url}/search", params={"q": q, "size": 10, **params})
                    out.append((r.status_code, (time.perf_counter() - began) * 1000, "retry-after" in r.headers))
                except httpx.HTTPError:
                    out.append((0, (time.perf_counter() - began) * 1000, False))
        return out

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for part in pool.map(client, [batch[i::clients] for i in range(clients)]):
            results += part
    wall = time.perf_counter() - began
    ok = np.array([ms for status, ms, _ in results if status == 200])
    return {"clients": clients, "requests": len(results), "ok": int(len(ok)),
            "overloaded_503": sum(1 for s, _, retry in results if s == 503 and retry),
            "errors": sum(1 for s, _, retry in results if s != 200 and not (s == 503 and retry)),
            "p50_ms": float(np.percentile(ok, 50)) if len(ok) else None,
            "p95_ms": float(np.percentile(ok, 95)) if len(ok) else None,
            "p99_ms": float(np.percentile(ok, 99)) if len(ok) else None,
            "searches_per_s": len(ok) / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True)
    parser.add_argument("--write-input", default="../shared/data/bbc_news/test.jsonl",
                        help="articles `news-index add` writes into the store during the run ('' for none)")
    parser.add_argument("--requests", type=int, default=128, help="requests per level and mode")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        shutil.copytree(args.store, store)
        queries = questions(store)
        server, url = start_server(str(store), passes=1)
        writer = None
        if args.write_input:
            writer = subprocess.Popen([sys.executable, "-m", "indexer.cli", "add", args.write_input, "--store",
                                       str(store)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rows = []
        try:
            print("| mode | clients | requests | 200 | 503 (Retry-After) | errors | p50 ms | p95 ms | p99 ms | "
                  "searches/s | indexing |\n|---|---|---|---|---|---|---|---|---|---|---|")
            for mode, params in MODES.items():
                for clients in LEVELS:
                    row = {"mode": mode, **run_level(url, clients, args.requests, params, queries),
                           "indexing": writer is not None and writer.poll() is None}
                    rows.append(row)
                    fmt = lambda v: "–" if v is None else f"{v:,.0f}"  # noqa: E731
                    print(f"| {mode} | {clients} | {row['requests']} | {row['ok']} | {row['overloaded_503']} | "
                          f"{row['errors']} | {fmt(row['p50_ms'])} | {fmt(row['p95_ms'])} | {fmt(row['p99_ms'])} | "
                          f"{row['searches_per_s']:.1f} | {'yes' if row['indexing'] else 'done'} |", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
            if writer is not None:
                writer.terminate()
                writer.wait(timeout=60)
    write_results("load", {"store": args.store, "write_input": args.write_input, "requests": args.requests,
                           "server": "news-search serve, default admission (1 pass, 32 waiting, 30 s deadline)",
                           "rows": rows})


if __name__ == "__main__":
    main()
