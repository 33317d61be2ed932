"""Weak matches and "no good match": results the pair head judges unlikely to answer the query.

The fused score is normalised per query (its best candidate scores 1 whatever the query), so it cannot say
that nothing matches; the pair head's score is absolute. A result whose best passage went through the pair pass
with a score below the model's `min_relevance` is *weak*; results without a pair score (past the rerank depth)
are weak only when no judged result reached the floor — then the query has no good match and every result is
weak. Without a pair pass (rerank and answers off) nothing is judged and nothing is weak. `news-search tune`
chooses `min_relevance` on validation data (search/evaluation/floor.py).
"""
from __future__ import annotations

from typing import Sequence

from search.pipeline.records import Result


def split_weak(results: Sequence[Result], floor: float) -> tuple[list[Result], list[Result]]:
    """(good, weak) results, each in the given order."""
    judged = [r for r in results if r.pair_score is not None]
    if not judged:
        return list(results), []
    any_good = any(r.pair_score >= floor for r in judged)
    good = [r for r in results if (r.pair_score is None and any_good) or
            (r.pair_score is not None and r.pair_score >= floor)]
    keep = {id(r) for r in good}
    return good, [r for r in results if id(r) not in keep]
