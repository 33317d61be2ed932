"""Fusion methods against brute-force oracles written straight from their formulas."""
from __future__ import annotations

import random
import statistics

import pytest

from search.pipeline.fusion import RRF_C, fuse


def rrf_oracle(dense: list[tuple[int, float]], lexical: list[tuple[int, float]]) -> dict[int, float]:
    """score(d) = Σ over lists containing d of 1 / (c + rank of d in that list), ranks from 1, over 2 / (c + 1)."""
    ids = [[pid for pid, _ in lst] for lst in (dense, lexical)]
    every = set(ids[0] + ids[1])
    return {d: sum(1.0 / (RRF_C + lst.index(d) + 1) for lst in ids if d in lst) / (2.0 / (RRF_C + 1)) for d in every}


def convex_oracle(dense, lexical, alpha: float, method: str) -> dict[int, float]:
    """alpha * norm(dense) + (1 - alpha) * norm(lexical), a missing list counting 0."""
    def norm(scores: dict[int, float]) -> dict[int, float]:
        values = list(scores.values())
        if not values:
            return {}
        if method == "convex":
            low, high = min(values), max(values)
            return {d: 1.0 if high == low else (s - low) / (high - low) for d, s in scores.items()}
        mean, std = statistics.fmean(values), statistics.pstdev(values)
        return {d: 1.0 if std == 0 else min(1.0, max(0.0, (s - mean + 3 * std) / (6 * std)))
                for d, s in scores.items()}
    nd, nl = norm(dict(dense)), norm(dict(lexical))
    return {d: alpha * nd.get(d, 0.0) + (1 - alpha) * nl.get(d, 0.0) for d in set(nd) | set(nl)}


def ranked_list(rng: random.Random, pool: list[int]) -> list[tuple[int, float]]:
    ids = rng.sample(pool, rng.randint(0, 25))
    scores = sorted((rng.choice([rng.uniform(-5, 30), 3.0]) for _ in ids), reverse=True)  # some ties
    return list(zip(ids, scores))


@pytest.mark.parametrize("method", ["rrf", "convex", "dbsf"])
@pytest.mark.parametrize("seed", range(15))
def test_fusion_matches_brute_force(method: str, seed: int) -> None:
    rng = random.Random(seed)
    pool = list(range(40))
    dense, lexical = ranked_list(rng, pool), ranked_list(rng, pool)
    alpha, limit = rng.random(), rng.randint(1, 30)
    fused = fuse(dense, lexical, limit, method, alpha)
    expected = rrf_oracle(dense, lexical) if method == "rrf" else convex_oracle(dense, lexical, alpha, method)
    assert len(fused) == min(limit, len(expected))
    dense_ids, lexical_ids = [d for d, _ in dense], [d for d, _ in lexical]
    for cand in fused:
        assert cand.fused == pytest.approx(expected[cand.passage_id])
        assert 0.0 <= cand.fused <= 1.0 + 1e-12
        assert cand.dense_rank == (dense_ids.index(cand.passage_id) + 1 if cand.passage_id in dense_ids else None)
        assert cand.lexical_rank == (lexical_ids.index(cand.passage_id) + 1 if cand.passage_id in lexical_ids else None)
    scores = [c.fused for c in fused]
    assert scores == sorted(scores, reverse=True)
    cutoff = sorted(expected.values(), reverse=True)[len(fused) - 1] if fused else None
    assert all(expected[c.passage_id] >= cutoff - 1e-9 for c in fused)  # the best `limit` are the ones kept


@pytest.mark.parametrize("method", ["rrf", "convex", "dbsf"])
def test_empty_lists_and_one_sided_candidates(method: str) -> None:
    assert fuse([], [], 10, method) == []
    only_dense = fuse([(4, 0.9), (2, 0.5)], [], 10, method, alpha=0.7)
    assert [c.passage_id for c in only_dense] == [4, 2]
    assert all(c.matched == "dense" for c in only_dense)


@pytest.mark.parametrize("method", ["convex", "dbsf"])
def test_all_equal_scores_normalise_to_one(method: str) -> None:
    fused = fuse([(1, 0.3), (2, 0.3)], [(2, 7.0), (3, 7.0)], 10, method, alpha=0.5)
    assert {c.passage_id: c.fused for c in fused} == {2: 1.0, 1: 0.5, 3: 0.5}
    assert [c.passage_id for c in fused] == [2, 1, 3]  # tie between 1 and 3: the better single rank first


def test_found_by_both_beats_found_by_one_and_says_so() -> None:
    fused = fuse([(1, 3.0), (2, 2.0), (3, 1.0)], [(3, 9.0), (4, 8.0), (5, 7.0)], limit=10, method="rrf")
    assert fused[0].passage_id == 3 and fused[0].matched == "both"
    matched = {c.passage_id: c.matched for c in fused}
    assert matched[1] == "dense" and matched[4] == "lexical"


def test_alpha_moves_the_order_between_the_lists() -> None:
    dense, lexical = [(1, 0.9), (2, 0.1)], [(2, 12.0), (1, 1.0)]
    assert fuse(dense, lexical, 2, "convex", alpha=1.0)[0].passage_id == 1
    assert fuse(dense, lexical, 2, "convex", alpha=0.0)[0].passage_id == 2


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fusion"):
        fuse([], [], 5, "sum")
    with pytest.raises(ValueError, match="alpha"):
        fuse([], [], 5, "convex", alpha=1.5)
