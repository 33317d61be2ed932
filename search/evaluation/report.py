"""Evaluation report: a markdown table on screen and the same figures as JSON."""
from __future__ import annotations

from typing import Any


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def markdown_report(results: dict[str, Any]) -> str:
    """Task tables for the flat metrics, and one side-by-side table per retrieval collection."""
    lines: list[str] = []
    for task in ("squad", "conll", "stsb"):
        if task in results:
            lines += [f"### {task}", "", "| metric | value |", "|---|---|"]
            lines += [f"| {k} | {_fmt(v)} |" for k, v in results[task].items()]
            lines.append("")
    if "topics" in results:
        lines += ["### topics", "", "| data set | accuracy | macro-F1 | texts |", "|---|---|---|---|"]
        lines += [f"| {s} | {_fmt(r['accuracy'])} | {_fmt(r['macro_f1'])} | {r['texts']} |"
                  for s, r in results["topics"].items()]
        lines.append("")
    for name, table in results.get("retrieval", {}).items():
        metrics = ["mrr@10", "recall@1", "recall@10", "recall@100", "ndcg@10"]
        lines += [f"### retrieval: {name}", "", "| system | " + " | ".join(metrics) + " |",
                  "|---" * (len(metrics) + 1) + "|"]
        lines += [f"| {system} | " + " | ".join(_fmt(r[m]) for m in metrics) + " |" for system, r in table.items()]
        lines.append("")
    return "\n".join(lines)
