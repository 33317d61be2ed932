"""More like this on real stores: ranked as a brute-force search over the stored vectors ranks them, never the
article itself or its story copies, filters and paging as in search."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from search.model import NewsModel
from search.pipeline import InvalidRequest
from search.pipeline.similar import similar_articles
from search.store import Filters, Store
from tests.indexer.helpers import short_articles

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def store(sample_store) -> Store:
    return Store.open(sample_store, readonly=True)


def brute_force(store: Store, article_id: str) -> list[str]:
    """Articles by their best passage's cosine to the article's vector, the article itself left out."""
    vector = store.article_vector(article_id)[0]
    ids, vectors = store._passage_vectors(None)
    owners = dict(store.db.execute("SELECT id, article_id FROM passages"))
    best: dict[str, float] = {}
    for pid, score in zip(ids.tolist(), (vectors @ vector).tolist()):
        best[owners[pid]] = max(best.get(owners[pid], -1.0), score)
    best.pop(article_id)
    return sorted(best, key=lambda a: -best[a])


def test_the_ranking_is_the_brute_force_one_without_the_article_itself(store: Store) -> None:
    article_id = store.article_ids()[7]
    response = similar_articles(store, article_id, Filters(), 1, 10, NOW)
    got = [r.article_id for r in response.results]
    assert article_id not in got and response.same_story == []
    expected = [a for a in brute_force(store, article_id) if a not in {r for x in response.results for r in x.similar_ids}]
    assert got == expected[:10]
    assert [r.score for r in response.results] == sorted((r.score for r in response.results), reverse=True)
    second = similar_articles(store, article_id, Filters(), 2, 10, NOW)
    assert not set(got) & {r.article_id for r in second.results} and second.total == response.total


def test_filters_act_inside_and_an_unknown_article_is_a_404(store: Store) -> None:
    article_id = store.article_ids()[3]
    topic = store.facets(None)["topics"][0][0]
    response = similar_articles(store, article_id, Filters(topics=[topic]), 1, 50, NOW)
    assert response.results and {r.topic for r in response.results} == {topic}
    with pytest.raises(InvalidRequest) as missing:
        similar_articles(store, "no-such-article", Filters(), 1, 10, NOW)
    assert missing.value.status == 404 and missing.value.field == "article_id"


def test_copies_of_the_same_story_come_apart_not_as_results(tmp_path: Path, model: NewsModel) -> None:
    from indexer.pipeline import Indexer
    from indexer.records import parse_record

    original, *others = short_articles(6, 40)
    copy = {**original, "id": "copy", "title": original["title"] + " (update)"}
    store = Store.open(tmp_path / "store", create=True)
    Indexer(store, model).add(parse_record(r) for r in [original, copy, *others])
    response = similar_articles(store, original["id"], Filters(), 1, 10, NOW)
    assert response.same_story == ["copy"]
    assert {r.article_id for r in response.results} == {r["id"] for r in others}
