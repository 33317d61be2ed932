"""Evaluation report: a markdown table on screen and the same figures as JSON."""
from __future__ import annotations

import json
from typing import Any

from search.evaluation.gate import gate_report


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
    if "squadshifts" in results:
        lines += ["### squadshifts QA (never trained on)", "", "| file | exact match | F1 |", "|---|---|---|"]
        lines += [f"| {name} | {_fmt(r['exact_match'])} | {_fmt(r['f1'])} |"
                  for name, r in results["squadshifts"].items()]
        lines.append("")
    retrieval = dict(results.get("retrieval", {}))
    settings = retrieval.pop("settings", None)
    if settings:
        lines += ["### ranking settings (the checkpoint's)", "", "`" + json.dumps(settings["ranking"]) + "`", "",
                  f"chosen on: {', '.join(settings['choosing'])}; reporting only: "
                  f"{', '.join(settings['reporting only'])}", ""]
    metrics = ["mrr@10", "recall@1", "recall@10", "recall@100", "ndcg@10", "queries"]
    for name, tables in retrieval.items():
        for part in ("all queries", "reranked queries"):
            if part not in tables:
                continue
            lines += [f"### retrieval: {name} ({part})", "", "| system | " + " | ".join(metrics) + " |",
                      "|---" * (len(metrics) + 1) + "|"]
            lines += [f"| {system} | " + " | ".join(_fmt(r[m]) for m in metrics) + " |"
                      for system, r in tables[part].items()]
            lines.append("")
    if retrieval:
        lines += ratio_report(retrieval)
    if "release_gate" in results:
        lines += gate_report(results["release_gate"])
    return "\n".join(lines)


def ratio_report(retrieval: dict[str, Any]) -> list[str]:
    """The ratios per collection, each between rows measured on the same queries."""
    names = sorted({k for tables in retrieval.values() for k in tables.get("ratios (ndcg@10)", {})})
    lines = ["### ratios (ndcg@10)", "",
             "| collection | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for name, tables in retrieval.items():
        ratio = tables.get("ratios (ndcg@10)", {})
        lines.append(f"| {name} | " + " | ".join(f"{ratio[n]:.3f}" if n in ratio else "" for n in names) + " |")
    return lines + [""]
