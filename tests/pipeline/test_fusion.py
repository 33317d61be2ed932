"""Reciprocal rank fusion against a brute-force oracle written straight from the formula."""
from __future__ import annotations

import random

import pytest

from search.pipeline.fusion import RRF_C, reciprocal_rank_fusion


def oracle(dense: list[int], lexical: list[int], c: int = RRF_C) -> dict[int, float]:
    """score(d) = Σ over lists containing d of 1 / (c + rank of d in that list), ranks from 1."""
    return {d: sum(1.0 / (c + lst.index(d) + 1) for lst in (dense, lexical) if d in lst) for d in set(dense + lexical)}


@pytest.mark.parametrize("seed", range(20))
def test_rrf_matches_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    pool = list(range(40))
    dense, lexical = rng.sample(pool, rng.randint(0, 25)), rng.sample(pool, rng.randint(0, 25))
    limit = rng.randint(1, 30)
    fused = reciprocal_rank_fusion(dense, lexical, limit)
    expected = oracle(dense, lexical)
    assert len(fused) == min(limit, len(expected))
    for cand in fused:
        assert cand.fused == pytest.approx(expected[cand.passage_id])
        assert cand.dense_rank == (dense.index(cand.passage_id) + 1 if cand.passage_id in dense else None)
        assert cand.lexical_rank == (lexical.index(cand.passage_id) + 1 if cand.passage_id in lexical else None)
    scores = [c.fused for c in fused]
    assert scores == sorted(scores, reverse=True)
    # the kept ones are the best `limit` by the oracle's scores
    cutoff = sorted(expected.values(), reverse=True)[len(fused) - 1] if fused else None
    assert all(expected[c.passage_id] >= cutoff - 1e-12 for c in fused)


def test_found_by_both_beats_found_by_one_and_says_so() -> None:
    fused = reciprocal_rank_fusion([1, 2, 3], [3, 4, 5], limit=10)
    assert fused[0].passage_id == 3 and fused[0].matched == "both"
    matched = {c.passage_id: c.matched for c in fused}
    assert matched[1] == "dense" and matched[4] == "lexical"


def test_ties_are_deterministic() -> None:
    # 1 and 7 each rank first in one list: same score, the lower id wins the tie
    assert [c.passage_id for c in reciprocal_rank_fusion([7], [1], limit=2)] == [1, 7]
