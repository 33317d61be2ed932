"""Weak matches: judged results below the floor, those the rerank margin skipped, and everything when nothing
judged reaches the floor."""
from __future__ import annotations

import pytest

from search.pipeline.records import PassageHit, Result
from search.pipeline.weak import beyond_margin, split_weak


def result(name: str, pair: float | None) -> Result:
    return Result(name, name, None, None, None, None, [], 0.5, 0.5, 0.0, "both", pair,
                  PassageHit(0, 0, "text", 0, 4, None))


@pytest.mark.parametrize("pairs, floor, good", [
    ([0.9, 0.2, None], 0.5, ["a", "c"]),  # unjudged results stay when something judged is good
    ([0.3, 0.2, None], 0.5, []),  # nothing judged reaches the floor: no good match at all
    ([None, None], 0.5, ["a", "b"]),  # no pair pass: nothing is judged, nothing is weak
    ([0.5, 0.49], 0.5, ["a"]),  # the floor itself is good
    ([0.1, 0.0], 0.0, ["a", "b"]),  # floor 0: nothing is weak
])
def test_split_weak_by_brute_force_of_the_rule(pairs, floor, good) -> None:
    results = [result(chr(ord("a") + i), p) for i, p in enumerate(pairs)]
    got_good, got_weak = split_weak(results, floor)
    assert [r.article_id for r in got_good] == good
    assert [r.article_id for r in got_weak] == [r.article_id for r in results if r.article_id not in good]


def test_without_lexical_support_every_result_is_weak_whatever_the_pair_head_says() -> None:
    results = [result("a", 0.9), result("b", None)]
    assert split_weak(results, 0.5, lexical_support=False) == ([], results)
    assert split_weak(results, 0.5, lexical_support=True) == (results, [])


def test_results_the_rerank_margin_skipped_are_weak_and_those_past_the_depth_are_not() -> None:
    results = [result("a", 0.9), result("b", None), result("c", None)]
    good, weak = split_weak(results, 0.5, skipped={"c"})
    assert [r.article_id for r in good] == ["a", "b"] and [r.article_id for r in weak] == ["c"]
    assert split_weak(results, 0.95, skipped={"c"}) == ([], results)  # nothing judged is good: all weak


def test_beyond_margin_names_the_unread_articles_whose_best_fused_score_is_past_it() -> None:
    """Brute force over margins: an article is beyond when none of its passages was read and its best fused
    score is more than the margin below the first candidate's."""
    articles = ["a", "b", "a", "c", "d", "d"]
    fused = [0.9, 0.8, 0.5, 0.45, 0.3, 0.35]
    read = [True, False, False, False, False, False]
    for margin in (0.0, 0.1, 0.4, 0.5, 0.55, 0.6, 1.0):
        brute = {a for a in articles if a != "a"
                 and max(f for b, f in zip(articles, fused) if b == a) < 0.9 - margin}
        assert beyond_margin(articles, fused, read, margin) == brute
    assert beyond_margin(["a", "b"], [0.9, 0.1], [False, False], 0.5) == set()  # no pair pass: none
