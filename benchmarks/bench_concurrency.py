"""Concurrent clients against a real server: latency to first results and to the final response, and throughput.

`news-search serve` runs in a subprocess on the store with each `--passes` setting asked for: 1 (one pair pass at a
time, the rest queue), 2, ... and "clients" (as many as clients: every search's pass runs at once, sharing the
cores). For 1, 4 and 16 clients, each client sends its own questions (article titles, no two alike, so nothing
comes from the cache; the same questions for a client count under every `--passes`, on a fresh server each time)
to `GET /search/stream` one after another; we time the first line (fused results) and the
last (the final response). Prints a table and writes benchmarks/results/concurrency-<store>.json.

    python benchmarks/bench_concurrency.py --store runs/sample-store
"""
from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from results_io import write_results

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(store: str, passes: int, *extra: str) -> tuple[subprocess.Popen, str]:
    """`news-search serve` on a free port with `--passes passes` and `extra` flags; its process and URL once
    /health answers. Raises RuntimeError with the end of the server's output when it does not start within 5
    minutes."""
    port = free_port()
    log = tempfile.TemporaryFile()  # a file, not a pipe: the server logs every request, and a full pipe blocks it
    proc = subprocess.Popen([sys.executable, "-m", "search.cli", "serve", "--store", store, "--port", str(port),
                             "--passes", str(passes), *extra], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/health", timeout=5)
            return proc, url
        except httpx.HTTPError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    proc.kill()
    proc.wait()
    log.seek(0)
    said = log.read().decode(errors="replace").strip().splitlines()[-3:]
    raise RuntimeError(f"the server on {store} did not start: " + " / ".join(said))


def one_search(client: httpx.Client, url: str, query: str) -> tuple[float, float]:
    """Milliseconds to the first line of /search/stream and to its last."""
    began = time.perf_counter()
    first = None
    with client.stream("GET", f"{url}/search/stream", params={"q": query}, timeout=600) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.strip() and first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    return (first - began) * 1000.0, (end - began) * 1000.0


def run_clients(url: str, queries: list[str], clients: int, per_client: int) -> dict:
    """`clients` threads, each sending `per_client` searches in turn; latency percentiles and searches/s."""
    batches = [queries[i * per_client:(i + 1) * per_client] for i in range(clients)]

    def client_loop(batch: list[str]) -> list[tuple[float, float]]:
        with httpx.Client() as client:
            return [one_search(client, url, q) for q in batch]

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        times = [t for batch in pool.map(client_loop, batches) for t in batch]
    wall = time.perf_counter() - began
    first, final = np.array([t[0] for t in times]), np.array([t[1] for t in times])
    return {"clients": clients, "searches": len(times), "searches_per_s": len(times) / wall,
            "first_results_ms": {"p50": float(np.percentile(first, 50)), "p95": float(np.percentile(first, 95))},
            "final_ms": {"p50": float(np.percentile(final, 50)), "p95": float(np.percentile(final, 95))}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default=str(ROOT / "store"), help="store folder (default: ./store)")
    parser.add_argument("--clients", default="1,4,16", help="comma-separated client counts")
    parser.add_argument("--per-client", type=int, default=1, help="searches each client sends")
    parser.add_argument("--passes", default="1,2,clients", help="comma-separated --passes settings of the server")
    parser.add_argument("--pair-nice", type=int, default=None,
                        help="the server's --pair-nice (default: serve's); the results file is named after it")
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    from search.api.settings import DEFAULT_PAIR_NICE
    from search.store import Store

    counts = [int(c) for c in args.clients.split(",")]
    store = Store.open(args.store, readonly=True)
    titles = [r[0] for r in store.db.execute("SELECT title FROM articles ORDER BY id")]
    stats = {k: store.stats()[k] for k in ("articles", "passages", "index_type")}
    store.close()
    # one question set per client count, the same under every --passes setting: a search's cost depends on its
    # question (how many passages the pair pass reads), so rows with the same clients compare like with like;
    # each run has a fresh server, so nothing comes from a cache
    need = sum(clients * args.per_client for clients in counts)
    if need > len(titles):
        raise SystemExit(f"the store has {len(titles)} titles, the runs need {need}: use a bigger store or fewer "
                         "--per-client")
    questions, used = {}, 0
    for clients in counts:
        questions[clients] = [f"What happened: {t}?" for t in titles[used:used + clients * args.per_client]]
        used += clients * args.per_client
    rows = []
    for passes_rule in args.passes.split(","):
        for clients in counts:
            passes = clients if passes_rule == "clients" else int(passes_rule)
            proc, url = start_server(args.store, passes,
                                     *(["--pair-nice", str(args.pair_nice)] if args.pair_nice is not None else []))
            try:
                queries = questions[clients]
                with httpx.Client() as warm:  # load the weights' pages before timing
                    one_search(warm, url, "warm-up question about the news")
                rows.append({"passes": passes, **run_clients(url, queries, clients, args.per_client)})
            finally:
                proc.terminate()
                proc.wait(timeout=60)
    table = Table(title=f"concurrent searches on {Path(args.store).name} ({stats['passages']} passages), ms")
    for column in ("passes", "clients", "first results p50 / p95", "final p50 / p95", "searches/s"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(str(r["passes"]), str(r["clients"]),
                      f"{r['first_results_ms']['p50']:.0f} / {r['first_results_ms']['p95']:.0f}",
                      f"{r['final_ms']['p50']:.0f} / {r['final_ms']['p95']:.0f}", f"{r['searches_per_s']:.2f}")
    Console().print(table)
    nice = "" if args.pair_nice is None else f"-pair-nice{args.pair_nice}"
    write_results(f"concurrency-{Path(args.store).resolve().name}{nice}",
                  {"store": str(Path(args.store).resolve()), "stats": stats, "cpus": os.cpu_count(),
                   "machine": platform.processor() or platform.machine(), "per_client": args.per_client,
                   "pair_nice": DEFAULT_PAIR_NICE if args.pair_nice is None else args.pair_nice,
                   "runs": rows})


if __name__ == "__main__":
    main()
