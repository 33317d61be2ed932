"""Weak matches: judged results below the floor, and everything when nothing judged reaches it."""
from __future__ import annotations

import pytest

from search.pipeline.records import PassageHit, Result
from search.pipeline.weak import split_weak


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
