"""The stages after scoring, on plain records: grouping, near-duplicate collapse, recency, paging, timing."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from search.pipeline.grouping import group_results, top_entities
from search.pipeline.paging import paginate
from search.pipeline.recency import HALF_LIFE_DAYS, blend, freshness, parse_date, reference_time
from search.pipeline.records import Candidate, ScoredPassage
from search.pipeline.timing import Stopwatch
from search.store import Mention, PassageRow

NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)


def passage(pid: int, article: str, relevance: float, cluster: str | None = None, date: str = "2023-01-01",
            entities: tuple[str, ...] = ()) -> ScoredPassage:
    row = PassageRow(id=pid, article_id=article, position=pid, text=f"text {pid}", start=0, end=6, title=article,
                     source="wn", url=None, published_at=date, topic="world", cluster_id=cluster or article,
                     entities=[Mention(name, "PER", 0, 1, 1.0) for name in entities])
    return ScoredPassage(Candidate(pid, 0.01, dense_rank=1), row, relevance, None)


def test_best_passage_per_article_wins() -> None:
    results = group_results([passage(1, "a", 0.2), passage(2, "a", 0.9), passage(3, "b", 0.5)], 0.0, NOW)
    assert [(r.article_id, r.passage.passage_id) for r in results] == [("a", 2), ("b", 3)]


def test_near_duplicates_collapse_into_the_best_with_a_count() -> None:
    results = group_results([passage(1, "a", 0.4, "s"), passage(2, "b", 0.8, "s"), passage(3, "c", 0.6, "s"),
                             passage(4, "d", 0.5)], 0.0, NOW)
    assert [r.article_id for r in results] == ["b", "d"]
    assert results[0].similar == 2 and sorted(results[0].similar_ids) == ["a", "c"]
    assert results[1].similar == 0


def test_freshness_halves_every_half_life() -> None:
    assert freshness("2024-01-01", NOW) == pytest.approx(1.0)
    assert freshness("2023-01-01", NOW) == pytest.approx(0.5 ** (365 / HALF_LIFE_DAYS))
    assert freshness("2030-01-01", NOW) == 1.0  # future dates count as today
    assert freshness(None, NOW) == 0.0 and freshness("not a date", NOW) == 0.0


def test_recency_reorders_as_documented() -> None:
    old_relevant, new_weak = passage(1, "old", 0.9, date="2010-01-01"), passage(2, "new", 0.3, date="2023-12-01")
    assert [r.article_id for r in group_results([old_relevant, new_weak], 0.0, NOW)] == ["old", "new"]
    assert [r.article_id for r in group_results([old_relevant, new_weak], 1.0, NOW)] == ["new", "old"]
    mixed = {r.article_id: r for r in group_results([old_relevant, new_weak], 0.5, NOW)}
    # age counts from the newest candidate (2023-12-01), not from NOW
    assert mixed["new"].freshness == pytest.approx(1.0)
    assert mixed["old"].freshness == pytest.approx(freshness("2010-01-01", reference_time(["2023-12-01"], NOW)))
    for r in mixed.values():
        assert r.score == pytest.approx(blend(r.relevance, r.freshness, 0.5))
        assert r.score == pytest.approx(0.5 * r.relevance + 0.5 * r.freshness)


def test_reference_time_is_the_newest_date_capped_at_now() -> None:
    assert reference_time(["2020-05-01", None, "junk", "2021-01-01T10:00:00Z"], NOW) == parse_date("2021-01-01T10:00Z")
    assert reference_time(["2099-01-01"], NOW) == NOW
    assert reference_time([None], NOW) == NOW


def test_pagination_covers_every_item_once() -> None:
    items = list(range(23))
    pages = [paginate(items, p, 10) for p in (1, 2, 3, 4)]
    assert [len(p) for p, _ in pages] == [10, 10, 3, 0]
    assert sum((p for p, _ in pages), []) == items
    assert {n for _, n in pages} == {3}
    assert paginate([], 1, 10) == ([], 0)


def test_top_entities_most_mentioned_first() -> None:
    mentions = [Mention(n, "PER", 0, 1, 1.0) for n in ["B", "A", "B", "C", "A", "B"]]
    assert top_entities(mentions, limit=2) == ["B", "A"]


def test_stopwatch_reports_each_stage_and_total() -> None:
    watch = Stopwatch()
    with watch.stage("one"):
        pass
    with watch.stage("one"):
        pass
    times = watch.finish()
    assert set(times) == {"one", "total"} and times["total"] >= times["one"] >= 0
