"""The one-screen summaries `news-index` prints at the end of a command (rich tables)."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from indexer.pipeline import RunReport
from search.store.check import Check
from search.store.index_tuning import Tuning

MAX_LISTED = 10  # skipped records / missing ids shown one per line; the rest are counted


def print_report(console: Console, title: str, report: RunReport, stats: dict,
                 always: tuple[str, ...] = ("added", "passages/s", "time")) -> None:
    """What a command did (counts, rate, time, bad records, missing ids) and the store's size after it; rows
    that are zero are left out unless named in `always` (what the command is about)."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [("added", report.added), ("updated", report.updated), ("unchanged (skipped)", report.unchanged),
            ("deleted", report.deleted), ("bad records (skipped)", len(report.skipped)),
            ("ids not found", len(report.not_found)), ("ids repeated in the input", len(report.repeated)),
            ("ids generated (no id given)", len(report.generated)), ("passages annotated", report.passages),
            ("shards annotated by Ray", report.shards_annotated),
            ("vectors encoded by Ray workers, merged", report.vectors_merged),
            ("new watch matches", f"{report.watch_matches} ({report.watches} watches)" if report.watches else 0),
            ("passages/s", f"{report.passages_per_s:.1f}"), ("time", f"{report.seconds:.1f} s"),
            ("store: articles / passages", f"{stats['articles']} / {stats['passages']}"),
            ("index", f"{stats['index_type']} ({stats['vectors']} vectors)")]
    if "shards" in stats:
        rows.append(("store: shards (articles each)", " / ".join(str(s["articles"]) for s in stats["shards"])))
    for name, value in rows:
        if (value and value != "0.0") or name in always or name.startswith(("store", "index")):
            table.add_row(name, str(value))
    console.print(table)
    hidden = 0
    for label, lines in (("skipped", [str(b) for b in report.skipped]), ("not found", report.not_found),
                         ("repeated id (the later record is kept)", report.repeated),
                         ("note", report.notes), ("id generated", report.generated),
                         ("webhook", [str(d) for d in report.deliveries])):
        for line in lines[:MAX_LISTED]:
            console.print(f"[yellow]{label}[/] {line}", markup=True, highlight=False, soft_wrap=True)
        hidden += max(len(lines) - MAX_LISTED, 0)
    if hidden:
        console.print(f"… and {hidden} more")


def print_stats(console: Console, folder: str, stats: dict) -> None:
    """`news-index stats` as a table."""
    table = Table(title=f"store {folder}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("articles", str(stats["articles"]))
    table.add_row("passages", str(stats["passages"]))
    if "shards" in stats:
        table.add_row("shards", ", ".join(f"{s['articles']}/{s['passages']}" for s in stats["shards"])
                      + " (articles/passages each)")
    table.add_row("story clusters (>1 article)", str(stats["multi_article_clusters"]))
    table.add_row("dates", " … ".join(d or "?" for d in stats["date_range"]))
    table.add_row("topics", _pairs(stats["topics"]))
    table.add_row("top entities", _pairs(stats["top_entities"]))
    table.add_row("sources", _pairs(stats["sources"]))
    table.add_row("index", f"{stats['index_type']} (asked: {stats['index_kind']}), {stats['vectors']} vectors, "
                           f"searched on the {'GPU' if stats['index_on_gpu'] else 'CPU'}")
    table.add_row("model", f"{stats['model_id']} ({stats['model_name']})")
    table.add_row("disk size", f"{stats['disk_bytes'] / 2**20:.1f} MiB")
    table.add_row("vector search", _vector_search(stats))
    per = stats["bytes_per_passage"]
    in_file = (f"{per['vector_file']:,.0f} in the vector file" if per["vector_file"] else
               "none on disk for the index (flat: built from SQLite when opened)")
    table.add_row("bytes per passage", f"{per['all_files']:,.0f} in all: vector {per['sqlite_vector']:,.0f} in SQLite "
                                       f"+ {in_file}")
    console.print(table)


def _vector_search(stats: dict) -> str:
    """The search knobs in use; per shard when a sharded store's shards differ (each is tuned on its own)."""
    def knobs(settings: dict) -> str:
        return ", ".join(f"{k} {v}" for k, v in settings.items())
    shards = stats.get("shards", [])
    if stats["index_type"] == "flat":
        return "exact (a flat index has no knobs)"
    if len({knobs(s["vector_search"]) for s in shards}) > 1:
        return "; ".join(f"shard {i}: {knobs(s['vector_search'])}" for i, s in enumerate(shards))
    return knobs(stats["vector_search"])


def print_checks(console: Console, title: str, checks: list[Check]) -> None:
    """`news-index check` as a table: one line per check, ok or what is wrong."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_column()
    for c in checks:
        table.add_row(c.name, "[green]ok[/]" if c.ok else "[red]PROBLEM[/]", c.detail)
    console.print(table)


def print_tuning(console: Console, title: str, tuning: Tuning) -> None:
    """`news-index tune-index`: every setting measured, the chosen one marked."""
    knobs = {"hnsw": ("ef_search",), "ivf": ("nprobe",), "ivfpq": ("nprobe", "refine")}.get(tuning.kind, ())
    table = Table(title=title, title_justify="left", caption_justify="left",
                  caption=f"{tuning.kind} index; recall@{tuning.k} against exact search over {tuning.queries} "
                          f"stored passages as queries, their articles left out (target {tuning.target}, "
                          "reached by the 95% low end)")
    for name in (*knobs, f"recall@{tuning.k}", "95% low", "p50 ms", "p95 ms", ""):
        table.add_column(name, justify="right")
    for trial in tuning.trials:
        chosen = "[green]chosen[/]" if trial is tuning.chosen else ""
        table.add_row(*(str(getattr(trial.settings, k)) for k in knobs), f"{trial.recall:.3f}", f"{trial.recall_low:.3f}",
                      f"{trial.p50_ms:.2f}", f"{trial.p95_ms:.2f}", chosen)
    console.print(table)


def print_pairs(console: Console, title: str, rows: list[tuple[str, str]]) -> None:
    """A two-column summary."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def _pairs(pairs: list) -> str:
    return ", ".join(f"{value} {count}" for value, count in pairs) or "-"
