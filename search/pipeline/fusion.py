"""Reciprocal rank fusion of the dense and lexical candidate lists.

RRF (Cormack et al., 2009) scores a passage by sum over lists of 1 / (c + rank), rank starting at 1.
It needs no score calibration between BM25 and cosine similarity, which have unrelated scales, and a
passage found by both retrievers rises above one found by only one of them. c = 60 is the paper's value.
"""
from __future__ import annotations

from typing import Sequence

from search.pipeline.records import Candidate

RRF_C = 60


def reciprocal_rank_fusion(dense: Sequence[int], lexical: Sequence[int], limit: int, c: int = RRF_C) -> list[Candidate]:
    """Fuse two ranked lists of passage ids (best first) into the top `limit` candidates.

    Ties are broken by the better single rank, then by passage id, so the order is deterministic.
    """
    found: dict[int, Candidate] = {}
    for field, ranking in (("dense_rank", dense), ("lexical_rank", lexical)):
        for rank, pid in enumerate(ranking, start=1):
            cand = found.setdefault(pid, Candidate(pid, 0.0))
            if getattr(cand, field) is None:  # a list that repeats an id counts its best rank only
                setattr(cand, field, rank)
                cand.fused += 1.0 / (c + rank)

    def best_rank(cand: Candidate) -> int:
        """The better of the candidate's two ranks."""
        return min(r for r in (cand.dense_rank, cand.lexical_rank) if r is not None)

    ranked = sorted(found.values(), key=lambda cand: (-cand.fused, best_rank(cand), cand.passage_id))
    return ranked[:limit]
