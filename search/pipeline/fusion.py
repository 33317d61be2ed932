"""Fusion of the dense and lexical candidate lists into one list with a fused score on 0..1.

Three methods, chosen by the model's `RankingSettings` (or per request):

- ``convex``: alpha * dense + (1 - alpha) * lexical, each score min-max normalised over its own list's top k
  (Bruch et al. 2023, "An Analysis of Fusion Functions for Hybrid Retrieval"; txtai's and Weaviate's
  relative-score fusion). A candidate missing from one list gets 0 from it, the floor of that list.
- ``dbsf``: the same convex sum after distribution-based normalisation: each list's scores mapped from
  [mean - 3 std, mean + 3 std] onto [0, 1] and clipped (Qdrant's and Haystack's DBSF).
- ``rrf``: reciprocal rank fusion, sum over lists of 1 / (c + rank), rank from 1, c = 60 (Cormack et al. 2009);
  divided by its largest possible value 2 / (c + 1), so it lies on 0..1 like the others.

Ties are broken by the better single rank, then by passage id, so the order is deterministic.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from search.pipeline.records import Candidate

RRF_C = 60
FUSION_METHODS = ("convex", "dbsf", "rrf")

Scored = Sequence[tuple[int, float]]  # (passage id, raw score; higher is better), best first


def min_max(scores: Sequence[float]) -> list[float]:
    """Scores mapped onto 0..1 by the list's own minimum and maximum (all equal: 1.0 each)."""
    if not len(scores):
        return []
    low, high = min(scores), max(scores)
    if high == low:
        return [1.0] * len(scores)
    return [(s - low) / (high - low) for s in scores]


def distribution_based(scores: Sequence[float]) -> list[float]:
    """Scores mapped from [mean - 3 std, mean + 3 std] onto 0..1 and clipped (one score or no spread: 1.0)."""
    if not len(scores):
        return []
    arr = np.asarray(scores, dtype=np.float64)
    std = float(arr.std())
    if std == 0.0:
        return [1.0] * len(scores)
    low = float(arr.mean()) - 3 * std
    return np.clip((arr - low) / (6 * std), 0.0, 1.0).tolist()


def _first_rank(ranking: Scored) -> dict[int, tuple[int, float]]:
    """passage id -> (1-based rank, score) of its first occurrence: a list that repeats an id counts its best."""
    seen: dict[int, tuple[int, float]] = {}
    for rank, (pid, score) in enumerate(ranking, start=1):
        seen.setdefault(pid, (rank, score))
    return seen


def fuse(dense: Scored, lexical: Scored, limit: int, method: str = "convex", alpha: float = 0.5,
         c: int = RRF_C) -> list[Candidate]:
    """The top `limit` candidates of two ranked lists, each with its ranks and a fused score on 0..1.

    `alpha` weighs the dense list (1 - alpha the lexical one) for ``convex`` and ``dbsf``; ``rrf`` weighs both
    equally. Raises ValueError on an unknown method or an alpha outside 0..1.
    """
    if method not in FUSION_METHODS:
        raise ValueError(f"unknown fusion {method!r}; choose one of {', '.join(FUSION_METHODS)}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    lists = {"dense_rank": _first_rank(dense), "lexical_rank": _first_rank(lexical)}
    weights = {"dense_rank": alpha, "lexical_rank": 1.0 - alpha}
    normalise = min_max if method == "convex" else distribution_based
    found: dict[int, Candidate] = {}
    for field, seen in lists.items():
        ids = list(seen)
        normed = normalise([seen[pid][1] for pid in ids]) if method != "rrf" else []
        for i, pid in enumerate(ids):
            cand = found.setdefault(pid, Candidate(pid, 0.0))
            rank = seen[pid][0]
            setattr(cand, field, rank)
            if method == "rrf":
                cand.fused += (1.0 / (c + rank)) / (2.0 / (c + 1))
            else:
                cand.fused += weights[field] * normed[i]

    def best_rank(cand: Candidate) -> int:
        return min(r for r in (cand.dense_rank, cand.lexical_rank) if r is not None)

    ranked = sorted(found.values(), key=lambda cand: (-cand.fused, best_rank(cand), cand.passage_id))
    return ranked[:limit]
