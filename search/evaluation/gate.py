"""The release gate: may a new checkpoint replace the current release?

Two conditions, both read from `news-search eval` results:
1. its encoder alone ranks at least as well as the untouched base encoder (nDCG@10 ratio >= 1.00, finite) on
   every retrieval collection, SQuADShifts included, all of them measured, so fine-tuning kept what the base
   knew;
2. no head's validation figure is more than one point below the current release's (F1 points for SQuAD,
   hundredths for the 0..1 figures).
"""
from __future__ import annotations

import math
from typing import Any

from search.evaluation.collections import CHOOSING, REPORTING

# head -> (path into the eval results, size of one point on that figure's scale)
HEAD_FIGURES: dict[str, tuple[tuple[str, ...], float]] = {
    "SQuAD F1": (("squad", "f1"), 1.0),
    "CoNLL entity F1": (("conll", "f1"), 0.01),
    "STS-B pair Spearman": (("stsb", "pair_spearman"), 0.01),
    "BBC accuracy": (("topics", "bbc", "accuracy"), 0.01),
    "AG News accuracy": (("topics", "ag_news", "accuracy"), 0.01),
}


def _read(results: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = results
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value)


def release_gate(results: dict[str, Any], release: dict[str, Any]) -> dict[str, Any]:
    """The gate's verdict on `results` against the current release's eval.json; a figure either side lacks is
    reported as not measured, and the gate passes only when every figure was measured and passed."""
    encoder = {name: tables["ratios (ndcg@10)"]["encoder / base"]
               for name, tables in results.get("retrieval", {}).items() if "ratios (ndcg@10)" in tables}
    heads = {}
    for head, (path, point) in HEAD_FIGURES.items():
        new, old = _read(results, path), _read(release, path)
        heads[head] = {"new": new, "release": old,
                       "passed": None if new is None or old is None else new >= old - point}
    every = set(CHOOSING + REPORTING) <= set(encoder)  # a collection not measured cannot pass
    passed = every and all(math.isfinite(r) and r >= 1.0 for r in encoder.values()) and \
        all(h["passed"] for h in heads.values())
    return {"encoder / base (ndcg@10)": encoder, "heads (within 1 point of the release)": heads, "passed": passed}


def gate_report(gate: dict[str, Any]) -> list[str]:
    """Markdown lines for the verdict."""
    lines = ["### release gate", "", "| check | new | release / floor | passed |", "|---|---|---|---|"]
    for name, ratio in gate["encoder / base (ndcg@10)"].items():
        lines.append(f"| encoder / base, {name} | {ratio:.3f} | 1.000 | {'yes' if ratio >= 1.0 else 'NO'} |")
    for head, h in gate["heads (within 1 point of the release)"].items():
        fmt = (lambda v: "not measured" if v is None else f"{v:.4f}")
        verdict = {True: "yes", False: "NO", None: "not measured"}[h["passed"]]
        lines.append(f"| {head} | {fmt(h['new'])} | {fmt(h['release'])} | {verdict} |")
    return lines + ["", f"**{'PASSED' if gate['passed'] else 'NOT passed'}**", ""]
