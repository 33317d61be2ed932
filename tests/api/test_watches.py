"""The watch endpoints against a real store (a copy of the sample) and the real model: save, list, read, delete,
the matches `news-index add` records while the server holds the store, and the Atom feed, parsed by feedparser."""
from __future__ import annotations

import shutil

import feedparser
import pytest
from fastapi.testclient import TestClient

from indexer.pipeline import Indexer
from indexer.readers import read_inputs
from search.api import ServeSettings, create_app
from search.store import Store
from tests.indexer.helpers import sample_records, write_jsonl


@pytest.fixture(scope="module")
def folder(sample_store, tmp_path_factory):
    copy = tmp_path_factory.mktemp("watch_api") / "store"
    shutil.copytree(sample_store, copy)
    return copy


@pytest.fixture(scope="module")
def client(folder):
    with TestClient(create_app(folder)) as client:
        yield client


def test_save_list_read_and_delete_a_watch(client) -> None:
    body = {"q": "earthquake damage", "topic": ["world"], "entity": ["Nobody Yet"], "date_from": "2019-01-01",
            "name": "Quakes", "webhook": "http://127.0.0.1:9/hook", "min_score": 0.5}
    created = client.post("/watches", json=body)
    assert created.status_code == 201, created.text
    watch = created.json()
    assert {k: watch[k] for k in body} == body  # an entity the store does not hold yet is fine for a watch
    assert watch["matches"] == 0 and watch["feed"] == f"/watches/{watch['id']}/feed.xml"
    assert client.get(f"/watches/{watch['id']}").json() == watch
    assert watch in client.get("/watches").json()
    assert client.get(f"/watches/{watch['id']}/matches").json()["total"] == 0
    empty = feedparser.parse(client.get(f"/watches/{watch['id']}/feed.xml").content)
    assert not empty.bozo and empty.feed.title == "newsearch: Quakes" and empty.entries == []
    deleted = client.delete(f"/watches/{watch['id']}")
    assert deleted.status_code == 204 and not deleted.content
    assert client.get(f"/watches/{watch['id']}").status_code == 404
    assert client.post("/watches", json={"q": "earthquake"}).json()["id"] == watch["id"] + 1  # ids not reused


@pytest.mark.parametrize("method, path, kwargs, status, field", [
    ("post", "/watches", {"json": {}}, 400, "q"),
    ("post", "/watches", {"json": {"q": "   "}}, 400, "q"),
    ("post", "/watches", {"json": {"q": "x" * 513}}, 400, "q"),
    ("post", "/watches", {"json": {"q": "topic:sport"}}, 400, "q"),  # filters only: no words to match
    ("post", "/watches", {"json": {"q": "fire", "topic": ["no such topic"]}}, 400, "topic"),
    ("post", "/watches", {"json": {"q": "fire", "date_from": "2024-13-01"}}, 400, "date_from"),
    ("post", "/watches", {"json": {"q": "fire", "date_from": "2024-02-01", "date_to": "2024-01-01"}}, 400,
     "date_from"),
    ("post", "/watches", {"json": {"q": "fire", "webhook": "ftp://example.org/x"}}, 400, "webhook"),
    ("post", "/watches", {"json": {"q": "fire", "min_score": 1.5}}, 400, "min_score"),
    ("post", "/watches", {"json": {"q": "fire", "topics": ["world"]}}, 400, "topics"),  # a mistyped field
    ("post", "/watches", {"json": {"q": "fire"}, "params": {"dry_run": "1"}}, 400, "dry_run"),
    ("post", "/watches", {"json": {"q": "fire", "query": "flood"}}, 400, "query"),  # not the location "query"
    ("post", "/watches", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "body"),
    ("post", "/watches", {"json": ["fire"]}, 400, "body"),
    ("get", "/watches/999999", {}, 404, "watch_id"),
    ("get", "/watches/abc", {}, 400, "watch_id"),
    ("delete", "/watches/999999", {}, 404, "watch_id"),
    ("get", "/watches/999999/matches", {}, 404, "watch_id"),
    ("get", "/watches/1/matches", {"params": {"size": 51}}, 400, "size"),
    ("get", "/watches/1/matches", {"params": {"sise": 5}}, 400, "sise"),
    ("get", "/watches/999999/feed.xml", {}, 404, "watch_id"),
])
def test_bad_input_gets_a_4xx_that_says_what_to_fix(client, method, path, kwargs, status, field) -> None:
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status, response.text
    assert len(response.json()["error"]) > 10 and response.json().get("field") == field


def test_an_unknown_body_field_names_the_closest_one(client) -> None:
    response = client.post("/watches", json={"q": "fire", "from": "2024-01-01"})
    assert response.status_code == 400 and response.json() == {
        "error": "unknown field 'from' in the request body: did you mean date_from?", "field": "from"}


def test_a_watch_saved_through_the_api_gets_the_articles_added_later_and_its_feed_parses(client, folder,
                                                                                          model, tmp_path) -> None:
    watch = client.post("/watches", json={"q": "marathon world record", "name": "Marathons"}).json()
    other = client.post("/watches", json={"q": '"Hong Kong" protests', "date_to": "2019-10-09"}).json()
    records = sample_records(["wn-vat-2019-125", "wn-vat-2019-141", "wn-vat-2019-142", "wn-vat-2019-144"])
    store = Store.open(folder)  # news-index add, while the server holds the store read-only
    report = Indexer(store, model).add(read_inputs([str(write_jsonl(tmp_path / "new.jsonl", records))]))
    store.close()
    assert report.watch_matches == 3
    page = client.get(f"/watches/{watch['id']}/matches", params={"size": 1}).json()
    assert (page["total"], page["pages"], page["watch"]["matches"]) == (2, 2, 2)
    both = client.get(f"/watches/{watch['id']}/matches").json()["matches"]
    assert {m["article_id"] for m in both} == {"wn-vat-2019-141", "wn-vat-2019-142"}
    assert [m["article_id"] for m in client.get(f"/watches/{other['id']}/matches").json()["matches"]] == \
        ["wn-vat-2019-125"]  # the other Hong Kong article is after date_to

    response = client.get(f"/watches/{watch['id']}/feed.xml")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10" and feed.feed.title == "newsearch: Marathons"
    assert [(e.title, e.link) for e in feed.entries] == [(m["title"], m["url"]) for m in both]  # newest first
    assert all(e.summary and e.updated_parsed and e.published_parsed for e in feed.entries)
    assert [e.id for e in feed.entries] == [f"http://testserver/articles/{m['article_id']}" for m in both]


def test_the_api_key_covers_the_watch_endpoints(folder) -> None:
    key = "w" * 24
    with TestClient(create_app(folder, settings=ServeSettings(api_key=key))) as locked:
        for method, path in (("post", "/watches"), ("get", "/watches"), ("get", "/watches/1"),
                             ("delete", "/watches/1"), ("get", "/watches/1/matches"), ("get", "/watches/1/feed.xml")):
            response = getattr(locked, method)(path)
            assert response.status_code == 401 and response.json()["field"] == "Authorization", path
        auth = {"Authorization": f"Bearer {key}"}
        assert locked.post("/watches", json={"q": "election"}, headers=auth).status_code == 201
