"""The HTTP API on a real store (sample, built by the real indexer) with the real checkpoint, via TestClient."""
from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from search.api import create_app
from search.model.runtime import choose_runtime
from search.store import Store

STATIC = Path(__file__).resolve().parents[2] / "search" / "web" / "static"


@pytest.fixture(scope="module")
def client(sample_store) -> TestClient:
    with TestClient(create_app(sample_store)) as client:
        yield client


@pytest.fixture(scope="module")
def article(sample_store) -> dict:
    store = Store.open(sample_store, readonly=True)
    row = store.db.execute("""SELECT id, title, topic FROM articles WHERE EXISTS
        (SELECT 1 FROM article_entities ae WHERE ae.article_id = articles.id) ORDER BY id LIMIT 1""").fetchone()
    return dict(zip(("id", "title", "topic"), row))


def test_health_reports_model_index_and_counts(client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["model"]["id"]
    assert body["index"]["articles"] > 0 and body["index"]["passages"] >= body["index"]["articles"]
    assert body["index"]["model_id"] == body["model"]["id"] and body["shards"] is None
    assert body["model"]["ranking"]["fusion"] in ("convex", "dbsf", "rrf")  # the checkpoint's own settings
    assert body["model"]["ranking_set_by_serve"] == {}
    assert all(0.0 <= body["model"][k] <= 1.0 for k in ("min_answer_confidence", "min_relevance",
                                                          "min_topic_confidence"))
    # auto on this machine's CPU, for the released checkpoint (which has its int8 scales)
    assert body["model"]["runtime"] == choose_runtime("auto", torch.device("cpu"), Path(body["model"]["name"]))


def test_search_returns_results_facets_and_timings(client, article) -> None:
    response = client.get("/search", params={"q": article["title"], "size": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] >= 1 and len(body["results"]) <= 5
    assert len(body["results"]) == min(5, body["total"])
    first = body["results"][0]
    for key in ("article_id", "title", "source", "published_at", "url", "topic", "entities", "score", "matched",
                "passage", "similar"):
        assert key in first
    answer = first["passage"]["answer"]
    if answer:
        assert first["passage"]["text"][answer["start"]:answer["end"]] == answer["text"]
    assert set(body["facets"]) == {"topics", "entities", "sources", "dates"}
    assert body["timings_ms"]["total"] > 0


def test_exact_title_finds_its_article(client, article) -> None:
    body = client.get("/search", params={"q": article["title"], "size": 50}).json()
    assert article["id"] in [r["article_id"] for r in body["results"]]


def test_article_ids_with_a_slash_are_reachable(tmp_path, sample_store, model) -> None:
    import shutil

    from indexer.pipeline import Indexer
    from indexer.readers import read_inputs
    from tests.indexer.helpers import short_articles, write_jsonl

    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    record = {**short_articles(1)[0], "id": "https://example.org/news/1"}
    Indexer(Store.open(folder), model).add(read_inputs([str(write_jsonl(tmp_path / "in.jsonl", [record]))]))
    with TestClient(create_app(folder)) as other:
        response = other.get("/articles/" + "https:%2F%2Fexample.org%2Fnews%2F1")
    assert response.status_code == 200 and response.json()["id"] == record["id"]


def test_search_filters_and_options(client, article) -> None:
    body = client.get("/search", params={"q": "news", "topic": article["topic"], "size": 50, "rerank": "false",
                                         "answers": "false"}).json()
    assert body["results"] and {r["topic"] for r in body["results"]} == {article["topic"]}
    assert all(r["passage"]["answer"] is None for r in body["results"])


def test_article_has_full_text_with_entity_spans(client, article) -> None:
    body = client.get(f"/articles/{article['id']}").json()
    assert body["title"] == article["title"] and body["text"].startswith(article["title"])
    assert body["entities"]
    for mention in body["entities"]:
        assert 0 <= mention["start"] < mention["end"] <= len(body["text"])


def test_facets_whole_store_and_filtered(client, article) -> None:
    everything = client.get("/facets").json()
    assert article["topic"] in [f["value"] for f in everything["topics"]]
    narrowed = client.get("/facets", params={"topic": article["topic"]}).json()
    assert [f["value"] for f in narrowed["topics"]] == [article["topic"]]


@pytest.mark.parametrize("path, params, status, field", [
    ("/search", {}, 400, "q"),
    ("/search", {"q": "   "}, 400, "q"),
    ("/search", {"q": "x" * 513}, 400, "q"),
    ("/search", {"q": "x" * 5000}, 400, "q"),
    ("/search", {"q": "a", "size": 51}, 400, "size"),
    ("/search", {"q": "a", "size": 0}, 400, "size"),
    ("/search", {"q": "a", "size": "ten"}, 400, "size"),
    ("/search", {"q": "a", "page": 0}, 400, "page"),
    ("/search", {"q": "a", "k": 100000}, 400, "k"),
    ("/search", {"q": "a", "recency": 2}, 400, "recency"),
    ("/search", {"q": "a", "fusion": "sum"}, 400, "fusion"),
    ("/search", {"q": "a", "alpha": 1.5}, 400, "alpha"),
    ("/search", {"q": "a", "rerank_depth": 201}, 400, "rerank_depth"),
    ("/search", {"q": "a", "pair_window": 8}, 400, "pair_window"),
    ("/search", {"q": "a", "rerank_margin": 1.5}, 400, "rerank_margin"),
    ("/search", {"q": "a", "rerank_margin": "nan"}, 400, "rerank_margin"),
    ("/search", {"q": "a", "rerank": "maybe"}, 400, "rerank"),
    ("/search", {"q": "a", "topic": "no such topic"}, 400, "topic"),
    ("/search", {"q": "a", "source": "nowhere"}, 400, "source"),
    ("/search", {"q": "a", "entity": "Nobody Atall"}, 400, "entity"),
    ("/search", {"q": "a", "date_from": "yesterday"}, 400, "date_from"),
    ("/search", {"q": "a", "date_to": "2024-02-30"}, 400, "date_to"),
    ("/search", {"q": "a", "date_from": "2024-02-01", "date_to": "2024-01-01"}, 400, "date_from"),
    ("/search/stream", {"q": "   "}, 400, "q"),
    ("/search/stream", {"q": "a", "alpha": 1.5}, 400, "alpha"),
    ("/search/stream", {"q": "a", "size": "ten"}, 400, "size"),
    ("/facets", {"topic": "no such topic"}, 400, "topic"),
    ("/facets", {"date_from": "2024-99-01"}, 400, "date_from"),
    ("/articles/no-such-article", {}, 404, "article_id"),
    ("/no-such-endpoint", {}, 404, "path"),
])
def test_bad_input_gets_a_4xx_that_says_what_to_fix(client, path, params, status, field) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str) and len(body["error"]) > 10
    assert body.get("field") == field


@pytest.mark.parametrize("path, params, suggestion", [
    ("/search", {"q": "x", "from": "2024-01-01"}, "did you mean date_from?"),  # the example
    ("/search/stream", {"q": "x", "sise": 3}, "did you mean size?"),
    ("/facets", {"topics": "sport"}, "did you mean topic?"),
    ("/articles/some-id", {"full": "1"}, "it takes offsets"),
    ("/health", {"verbose": "1"}, "it takes none"),
])
def test_an_unknown_parameter_is_a_400_naming_the_closest_one(client, path, params, suggestion) -> None:
    """A typo in a parameter name used to be ignored: unfiltered results with 200."""
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    unknown = [name for name in params if name != "q"][0]
    assert response.json()["field"] == unknown and response.json()["error"].endswith(suggestion)


def test_a_single_value_parameter_given_twice_is_a_400_and_a_list_parameter_repeats(client) -> None:
    twice = client.get("/search?q=fire&q=flood&rerank=false&answers=false")  # used to search "flood" silently
    assert twice.status_code == 400 and twice.json()["field"] == "q" and "give it once" in twice.json()["error"]
    topics = [f["value"] for f in client.get("/facets").json()["topics"]][:2]
    both = client.get(f"/search?q=fire&topic={topics[0]}&topic={topics[1]}&rerank=false&answers=false")
    assert len(topics) == 2 and both.status_code == 200, both.text


def test_the_page_takes_any_parameter_it_reads_itself(client) -> None:
    assert client.get("/", params={"q": "x", "topic": "sport", "page": 2, "utm_source": "mail"}).status_code == 200


def test_the_stream_sends_fused_results_first_and_ends_with_what_search_returns(client, article) -> None:
    params = {"q": f"What happened in {article['title']}?", "k": 12, "size": 5}
    response = client.get("/search/stream", params=params)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["stage"] for line in lines] == ["fused", "final"]
    first, final = lines
    assert all(r["passage"]["answer"] is None for r in first["results"])
    assert first["timings_ms"]["total"] < final["timings_ms"]["total"] and "rerank_read" not in first["timings_ms"]
    whole = client.get("/search", params=params).json()  # now from the cache: the same response
    assert whole["cached"] and whole["results"] == final["results"] and whole["facets"] == final["facets"]
    assert first["facets"] == final["facets"]  # totals may differ: the final response moves weak matches out
    again = [json.loads(line) for line in client.get("/search/stream", params=params).text.splitlines()]
    assert [line["stage"] for line in again] == ["final"] and again[0]["cached"]
    plain = client.get("/search/stream", params=params | {"rerank": "false", "answers": "false", "k": 11})
    assert [json.loads(line)["stage"] for line in plain.text.splitlines()] == ["final"]


def test_a_query_as_long_as_allowed_is_cut_to_what_the_model_takes(client) -> None:
    """shared/cases/long-query: 400 CJK characters (one word piece each) or 499 characters of digits and commas
    fill the pair pass alone; the query is cut for the model and the search answers."""
    cjk = ("強い地震が沿岸の町を揺らす" * 40)[:400]
    digits = ",".join(str(i) for i in range(200))[:499]
    for q in (cjk, digits):
        response = client.get("/search", params={"q": q, "k": 6})
        assert response.status_code == 200, response.text
        assert response.json()["query"] == q


def test_concurrent_searches(client) -> None:
    queries = ["election", "earthquake", "football", "president"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda q: client.get("/search", params={"q": q, "k": 8}).status_code, queries))
    assert statuses == [200] * len(queries)


def test_page_and_openapi_are_served(client) -> None:
    page = client.get("/?q=anything")
    assert page.status_code == 200 and "<form" in page.text
    for name in ("app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    schema = client.get("/openapi.json").json()
    params = {p["name"]: p for p in schema["paths"]["/search"]["get"]["parameters"]}
    assert params["fusion"]["schema"]["enum"] == ["convex", "dbsf", "rrf"]
    assert (params["alpha"]["schema"]["minimum"], params["alpha"]["schema"]["maximum"]) == (0, 1)
    stream = schema["paths"]["/search/stream"]["get"]
    assert "application/x-ndjson" in stream["responses"]["200"]["content"]
    assert {p["name"] for p in stream["parameters"]} == set(params) - {"format"}  # export is /search's alone

    assert client.get("/docs").status_code == 200


def test_page_needs_no_network() -> None:
    """Nothing in the page loads from another host (it must work offline)."""
    for path in STATIC.iterdir():
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", path.read_text()), path.name


def test_dates_in_any_form_validation_accepts_are_served(client) -> None:
    for value in (" 2019-01-01", "2019-01-01T00:00:00Z", "20190101T0000"):
        response = client.get("/search", params={"q": "news", "date_from": value, "k": 5, "rerank": "false",
                                                 "answers": "false"})
        assert response.status_code == 200, response.text


CJK_ARTICLES = [  # shared/cases/cjk-words: made-up articles, no real event meant
    {"id": "zh-quake", "title": "沿海城市发生地震", "body": "星期二清晨，沿海城市发生六点一级地震。官员说，十四栋建筑受损，两人受伤。"},
    {"id": "zh-typhoon", "title": "台风逼近南部港口", "body": "强台风预计星期五登陆南部港口，渔船已全部返港避风，学校停课一天。"},
    {"id": "zh-election", "title": "市议会选举结果公布", "body": "市议会选举结果于周日公布，投票率为百分之五十八，新议会将于下月就职。"},
    {"id": "ja-train", "title": "新しい路面電車が運行開始", "body": "市内で新しい路面電車の運行が月曜日に始まった。運賃は二百円で、十分ごとに運行する。"},
    {"id": "ko-library", "title": "시립 도서관 새 단장", "body": "시립 도서관이 2년간의 보수 공사를 마치고 월요일에 다시 문을 열었다."},
]


def test_chinese_and_japanese_words_are_found_lexically(tmp_path, sample_jsonl, model) -> None:
    """shared/cases/cjk-words: a word inside a run of CJK characters matched nothing lexically (one FTS5 token
    per run), so 台风 was not in the top 3 of 25 articles; Korean, written with spaces, always worked."""
    from indexer.pipeline import Indexer
    from indexer.readers import read_inputs
    from indexer.records import parse_record

    store = Store.open(tmp_path / "store", create=True)
    indexer = Indexer(store, model)
    indexer.add(parse_record({**a, "published_at": "2024-04-02", "source": "示例通讯社"}) for a in CJK_ARTICLES)
    lines = sample_jsonl.read_text(encoding="utf-8").splitlines(keepends=True)[:20]
    (tmp_path / "distractors.jsonl").write_text("".join(lines), encoding="utf-8")
    indexer.add(read_inputs([str(tmp_path / "distractors.jsonl")]))
    store.close()
    with TestClient(create_app(tmp_path / "store")) as cjk:
        for word, expected in (("地震", "zh-quake"), ("台风", "zh-typhoon"), ("选举", "zh-election"),
                               ("路面電車", "ja-train"), ("運賃", "ja-train"), ("도서관", "ko-library")):
            first = cjk.get("/search", params={"q": word}).json()["results"][0]
            assert (first["article_id"], first["matched"] in ("lexical", "both")) == (expected, True), word


def js_slice(text: str, start: int, end: int) -> str:
    """What JavaScript's `text.slice(start, end)` returns: indices count UTF-16 code units."""
    return text.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")


def test_offsets_utf16_slice_in_javascript_as_codepoints_do_in_python(tmp_path, model) -> None:
    """shared/cases/emoji-offsets: code-point offsets shifted JavaScript clients by one per emoji."""
    from indexer.pipeline import Indexer
    from indexer.records import parse_record

    store = Store.open(tmp_path / "store", create=True)
    Indexer(store, model).add([parse_record({
        "id": "em-pie", "title": "Pie contest result 🥧", "source": "Example Wire",
        "body": "🎉🎉🎉 Big news 🥧🏆! The Riverside bakery won the national pie contest with a rhubarb pie, "
                "the judges in 𝐁𝐫𝐢𝐬𝐭𝐨𝐥 and Judge Mary Hale said on Sunday."})])
    store.close()
    question = {"q": "Which bakery won the national pie contest", "answers": "true"}
    with TestClient(create_app(tmp_path / "store")) as em:
        plain = em.get("/search", params=question).json()["results"][0]["passage"]
        utf16 = em.get("/search", params={**question, "offsets": "utf16"}).json()["results"][0]["passage"]
        streamed = [json.loads(line) for line in
                    em.get("/search/stream", params={**question, "offsets": "utf16"}).text.splitlines()]
        text = em.get("/articles/em-pie").json()["text"]
        spans = em.get("/articles/em-pie").json()["entities"]
        spans16 = em.get("/articles/em-pie", params={"offsets": "utf16"}).json()["entities"]
        bad = em.get("/articles/em-pie", params={"offsets": "bytes"})
    assert plain["answer"]["text"] == "Riverside bakery"
    assert plain["text"][plain["answer"]["start"]:plain["answer"]["end"]] == "Riverside bakery"
    assert js_slice(utf16["text"], utf16["answer"]["start"], utf16["answer"]["end"]) == "Riverside bakery"
    assert js_slice(text, utf16["start"], utf16["end"]) == utf16["text"] == text[plain["start"]:plain["end"]]
    final = streamed[-1]["results"][0]["passage"]
    assert js_slice(final["text"], final["answer"]["start"], final["answer"]["end"]) == "Riverside bakery"
    assert spans and [js_slice(text, m["start"], m["end"]) for m in spans16] == \
        [text[m["start"]:m["end"]] for m in spans]
    assert bad.status_code == 400 and bad.json()["field"] == "offsets"


def test_backpressure_answers_503_with_retry_after_when_the_queue_is_full_or_the_deadline_passes(sample_store) -> None:
    import threading
    import time

    from search.api import ServeSettings
    from tests.pipeline.test_admission import hold_a_pass

    params = {"q": "What did the court decide about the appeal?", "size": 3}
    with TestClient(create_app(sample_store, settings=ServeSettings(max_waiting=0, deadline_s=0.5))) as app:
        gate = app.app.state.search.pipeline.admission
        release, running = threading.Event(), threading.Event()
        busy = hold_a_pass(gate, release, running)  # the only pass is taken and no search may wait
        try:
            full = app.get("/search", params=params)
            retrieval_only = app.get("/search", params={**params, "rerank": "false", "answers": "false"})
        finally:
            release.set()
            busy.join()
        assert full.status_code == 503 and int(full.headers["Retry-After"]) >= 1 and "waiting" in full.json()["error"]
        assert retrieval_only.status_code == 200  # no pair pass, no queue

    with TestClient(create_app(sample_store, settings=ServeSettings(max_waiting=4, deadline_s=0.5))) as app:
        gate = app.app.state.search.pipeline.admission
        release, running = threading.Event(), threading.Event()
        busy = hold_a_pass(gate, release, running)
        try:
            began = time.perf_counter()
            late = app.get("/search", params=params)
            waited = time.perf_counter() - began
            lines = app.get("/search/stream", params={**params, "q": "Who won the election?"}).text.splitlines()
        finally:
            release.set()
            busy.join()
        assert late.status_code == 503 and "deadline" in late.json()["error"] and 0.4 < waited < 5
        first, last = json.loads(lines[0]), json.loads(lines[-1])
        assert first["stage"] == "fused" and last["status"] == 503 and "deadline" in last["error"]
        assert app.get("/search", params=params).status_code == 200  # the pass is free again


def test_the_servers_rerank_settings_are_the_default_a_request_overrides(sample_store, model) -> None:
    from search.api import ServeSettings

    own = model.config.ranking  # the checkpoint's
    margin = 0.25 if own.rerank_margin != 0.25 else 0.3
    served = ServeSettings(rerank_depth=3, pair_window=96, rerank_margin=margin)
    with TestClient(create_app(sample_store, settings=served)) as app:
        loaded = app.get("/health").json()["model"]
        ranking = loaded["ranking"]
        assert (ranking["rerank_depth"], ranking["pair_window"], ranking["rerank_margin"]) == (3, 96, margin)
        assert loaded["ranking_set_by_serve"] == {"rerank_depth": {"serve": 3, "checkpoint": own.rerank_depth},
                                                  "pair_window": {"serve": 96, "checkpoint": own.pair_window},
                                                  "rerank_margin": {"serve": margin,
                                                                    "checkpoint": own.rerank_margin}}
        body = app.get("/search", params={"q": "Who won the Nobel Peace Prize?"}).json()
        assert (body["ranking"]["rerank_depth"], body["ranking"]["pair_window"]) == (3, 96)
        assert body["ranking"]["rerank_margin"] == margin and body["pairs_read"] <= 3
        assert sum(1 for r in body["results"] if r["passage"]["answer"]) <= 3
        body = app.get("/search", params={"q": "Who won the Nobel Peace Prize?", "rerank_depth": 0,
                                          "pair_window": 0, "rerank_margin": 1}).json()
        assert (body["ranking"]["rerank_depth"], body["ranking"]["pair_window"]) == (0, 0)
        assert body["ranking"]["rerank_margin"] == 1
        assert body["results"] and all(r["passage"]["answer"] is None for r in body["results"])


def test_export_as_csv_and_jsonl_holds_the_json_results_in_order(client) -> None:
    import csv
    import io

    params = {"q": "Who was elected president?", "size": 7, "answers": "false"}
    ids = [r["article_id"] for r in client.get("/search", params=params).json()["results"]]
    as_csv = client.get("/search", params={**params, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"].startswith("text/csv") and [r["article_id"] for r in rows] == ids
    assert [int(r["rank"]) for r in rows] == list(range(1, len(ids) + 1))
    lines = [json.loads(line) for line in client.get("/search", params={**params, "format": "jsonl"}).text.splitlines()]
    assert [line["article_id"] for line in lines] == ids and isinstance(lines[0]["entities"], list)
    assert client.get("/search", params={**params, "format": "xml"}).json()["field"] == "format"


def test_the_api_serves_a_sharded_store_like_one_store(tmp_path, model, sample_jsonl) -> None:
    from indexer.pipeline import IndexerConfig
    from indexer.readers import read_inputs
    from indexer.sharded import add_sharded
    from search.store import open_store

    lines = sample_jsonl.read_text(encoding="utf-8").splitlines(keepends=True)[:10]
    (tmp_path / "ten.jsonl").write_text("".join(lines), encoding="utf-8")
    store = open_store(tmp_path / "store", create=True, shards=2)
    add_sharded(store, model, IndexerConfig(), read_inputs([str(tmp_path / "ten.jsonl")]))
    first = json.loads(lines[0])
    with TestClient(create_app(tmp_path / "store")) as sharded:
        found = sharded.get("/search", params={"q": first["title"]}).json()
        assert found["results"][0]["article_id"] == first["id"]
        assert sharded.get(f"/articles/{first['id']}").json()["title"] == first["title"]
        assert sharded.get(f"/articles/{first['id']}/similar").status_code == 200
        health = sharded.get("/health").json()
        assert health["index"]["articles"] == 10 and health["shards"] == {"count": 2, "read_by": "threads"}
        assert sharded.get("/watches").json() == [] and sharded.get("/watches/1").status_code == 404
        saved = sharded.post("/watches", json={"q": first["title"]})  # kept by every shard under one id
        assert saved.status_code == 201, saved.json()
        watch_id = saved.json()["id"]
        assert [w["id"] for w in sharded.get("/watches").json()] == [watch_id]
        assert sharded.get(f"/watches/{watch_id}/matches").json()["total"] == 0
        assert sharded.delete(f"/watches/{watch_id}").status_code == 204
        assert sharded.get(f"/watches/{watch_id}").status_code == 404
