"""Search -> first results in a real browser's page, with the server's pair pass at each `--pair-nice` setting.

The README's main job runs the server and the browser on one machine. A search's first results are ready in
tens of ms, but the pair pass that follows keeps every core busy; if the browser has to wait for a core to read
and draw them, they show late. For each `--pair-nice` value, `news-search serve --pair-nice N` runs in a
subprocess (all at once, idle but for the search in flight); headless Chromium (Playwright) types each question
into the search page of each server in turn and reads the page's own User Timing measures
("newsearch:first-results", "newsearch:final-results": from the search's start, when Enter submits it, to each
list put in the page, before the browser paints it). The first
search on each server warms it up and is not counted. Prints a table and writes
benchmarks/results/first-results-<store>.json.

    python benchmarks/bench_first_results.py --store runs/sample-store --questions 20
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from bench_concurrency import start_server
from bench_search import fixed_queries
from results_io import write_results

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"  # Debian's, as the browser test uses; else Playwright's own
TIMEOUT_MS = 120_000
FINAL = "() => performance.getEntriesByName('newsearch:final-results').length > 0"
MEASURES = "() => Object.fromEntries(performance.getEntriesByType('measure').map((m) => [m.name, m.duration]))"


def search_times(page, question: str) -> dict[str, float]:
    """Type `question`, press Enter, wait for the final results; the page's measures in ms."""
    page.locator("#q").fill(question)
    page.locator("#q").press("Enter")
    page.wait_for_function(FINAL, timeout=TIMEOUT_MS)
    measures = page.evaluate(MEASURES)
    return {"first_results_ms": measures["newsearch:first-results"],
            "final_results_ms": measures["newsearch:final-results"]}


def summary(times: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {name: {"p50": float(np.percentile([t[name] for t in times], 50)),
                   "p95": float(np.percentile([t[name] for t in times], 95))} for name in times[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default=str(ROOT / "store"), help="store folder (default: ./store)")
    parser.add_argument("--questions", type=int, default=20, help="questions timed on each server (default: 20)")
    parser.add_argument("--pair-nice", default="0,10",
                        help="comma-separated `serve --pair-nice` values, each 0-19 (default: 0,10)")
    args = parser.parse_args()
    try:
        nices = [int(n) for n in args.pair_nice.split(",")]
    except ValueError:
        parser.error(f"--pair-nice takes comma-separated whole numbers, got {args.pair_nice!r}")
    if not all(0 <= n <= 19 for n in nices):
        parser.error(f"--pair-nice values must be between 0 and 19, got {args.pair_nice}")
    if args.questions < 1:
        parser.error(f"--questions must be at least 1, got {args.questions}")

    from playwright.sync_api import sync_playwright
    from rich.console import Console
    from rich.table import Table

    from search.store import Store, StoreError

    try:
        store = Store.open(args.store, readonly=True)
    except StoreError as exc:
        parser.error(str(exc))
    questions = fixed_queries(store, args.questions + 1)  # the first warms each server up
    stats = {k: store.stats()[k] for k in ("articles", "passages", "index_type")}
    store.close()
    servers = [start_server(args.store, 1, "--pair-nice", str(nice)) for nice in nices]
    times: dict[int, list[dict[str, float]]] = {nice: [] for nice in nices}
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else None,
                                          args=["--no-sandbox", "--disable-gpu"], headless=True)
            pages = []
            for _, url in servers:
                page = chromium.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url + "/")
                pages.append(page)
            for k, question in enumerate(questions):  # the servers take turns on each question
                for nice, page in zip(nices, pages):
                    measured = search_times(page, question)
                    if k:
                        times[nice].append({"question": question, **measured})
            chromium.close()
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=60)
    rows = [{"pair_nice": nice, "searches": len(times[nice]),
             **summary([{k: v for k, v in t.items() if k != "question"} for t in times[nice]])} for nice in nices]
    table = Table(title=f"search -> results in the page, Chromium, on {Path(args.store).name} ({stats['passages']} passages, "
                        f"{os.cpu_count()} cores shared by server and browser), ms")
    for column in ("serve --pair-nice", "first results p50 / p95", "final results p50 / p95"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(str(r["pair_nice"]), f"{r['first_results_ms']['p50']:.0f} / {r['first_results_ms']['p95']:.0f}",
                      f"{r['final_results_ms']['p50']:.0f} / {r['final_results_ms']['p95']:.0f}")
    Console().print(table)
    write_results(f"first-results-{Path(args.store).resolve().name}",
                  {"store": str(Path(args.store).resolve()), "stats": stats, "runs": rows,
                   "searches": {str(nice): times[nice] for nice in nices}})


if __name__ == "__main__":
    main()
