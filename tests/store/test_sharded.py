"""A 2-shard store built by the real indexer from the sample, against the 1-shard sample store: same articles
and passages, the same top results through the search pipeline, merged reads equal to the single store's."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from indexer.cli import EXIT_OK, main
from search.cli import main as search_main
from indexer.pipeline import IndexerConfig
from indexer.readers import read_inputs
from indexer.sharded import add_sharded, delete_sharded
from search.pipeline import SearchPipeline, SearchRequest
from search.store import Filters, ShardedStore, Store, StoreError, open_store
from search.store.records import ArticleWrite, Mention, PassageWrite
from search.store.sharded import shard_of

CLOCK = lambda: datetime(2025, 1, 1, tzinfo=timezone.utc)  # noqa: E731


@pytest.fixture(scope="module")
def sharded_folder(tmp_path_factory: pytest.TempPathFactory, model, sample_jsonl: Path) -> Path:
    folder = tmp_path_factory.mktemp("sharded") / "store"
    store = open_store(folder, create=True, shards=2)
    add_sharded(store, model, IndexerConfig(), read_inputs([str(sample_jsonl)]))
    store.close()
    return folder


@pytest.fixture(scope="module")
def one(sample_store: Path) -> Store:
    return Store.open(sample_store, readonly=True)


@pytest.fixture(scope="module")
def two(sharded_folder: Path) -> ShardedStore:
    store = open_store(sharded_folder, readonly=True)
    assert isinstance(store, ShardedStore)
    return store


def test_articles_go_to_their_shard_and_the_whole_matches_one_store(one: Store, two: ShardedStore) -> None:
    for i, shard in enumerate(two.shards):
        ids = [r[0] for r in shard.db.execute("SELECT id FROM articles")]
        assert ids and all(shard_of(a, 2) == i for a in ids)
    assert two.count("articles") == one.count("articles") and two.count("passages") == one.count("passages")
    stats, single = two.stats(), one.stats()
    assert [s["articles"] for s in stats["shards"]] == [s.count("articles") for s in two.shards]
    assert [(s["index_type"], s["vector_search"]) for s in stats["shards"]] == [
        (s.summary()["index_type"], s.summary()["vector_search"]) for s in two.shards]
    assert stats["topics"] == single["topics"] and stats["sources"] == single["sources"]
    assert stats["date_range"] == single["date_range"]
    whole_one, whole_two = one.facets(None, limit=5), two.facets(None, limit=5)
    assert whole_two == whole_one  # the most frequent values and the date histogram, summed over the shards
    # a shard cuts its list at 2 x limit + 10 values: what another shard reported is counted in it too
    assert stats["entities"] == single["entities"] and stats["top_entities"] == single["top_entities"]
    cut_one, cut_two = one.facets(None, limit=2), two.facets(None, limit=2)
    assert cut_two["entities"] == cut_one["entities"] and cut_two["topics"] == cut_one["topics"]
    named = [name for name, _ in one.facets(None, limit=40)["entities"]]
    assert sum((Counter(s.facet_counts("entities", named)) for s in two.shards), Counter()) == Counter(
        one.facet_counts("entities", named))
    some = list(range(1, one.count("passages") + 1, 4))  # a candidate set: counted exactly, every value
    two_ids = [pid * 2 + i for i, s in enumerate(two.shards) for pid, in s.db.execute("SELECT id FROM passages")]
    by_text = {(row.article_id, row.position): row.id for row in two.passages(two_ids)}
    mapped = [by_text[(r.article_id, r.position)] for r in one.passages(some)]
    assert two.facets(mapped) == one.facets(some)


def test_global_passage_ids_read_back_the_same_passages(one: Store, two: ShardedStore) -> None:
    hits = two.lexical_search("election minister", 20)
    assert hits and [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    rows = two.passages([pid for pid, _ in hits])
    assert [r.id for r in rows] == [pid for pid, _ in hits]
    texts = {(r.article_id, r.position): r.text for r in one.passages(list(range(1, one.count("passages") + 1)))}
    assert all(texts[(r.article_id, r.position)] == r.text for r in rows)


def test_dense_search_merges_the_shards_into_the_exact_top_k(two: ShardedStore) -> None:
    ids, vectors = [], []
    for i, shard in enumerate(two.shards):
        local, v = shard.exact_vectors(shard.vectors.ids())
        ids += [int(p) * 2 + i for p in local]
        vectors.append(v)
    vectors = np.concatenate(vectors)
    query = vectors[3:4]
    expected = np.array(ids)[np.argsort(-(vectors @ query[0]), kind="stable")[:10]]
    assert [pid for pid, _ in two.dense_search(query, 10)[0]] == expected.tolist()
    allowed = np.array(ids[::3], np.int64)
    assert {pid for pid, _ in two.dense_search(query, 10, allowed)[0]} <= set(allowed.tolist())


@pytest.mark.parametrize("rerank", [False, True])
def test_a_two_shard_store_returns_the_same_top_results_as_one_store(model, one: Store, two: ShardedStore,
                                                                    rerank: bool) -> None:
    titles = [r[0] for r in one.db.execute("SELECT title FROM articles ORDER BY id LIMIT 6")]
    queries = titles if not rerank else titles[:2]
    single, sharded = SearchPipeline(model, one, clock=CLOCK), SearchPipeline(model, two, clock=CLOCK)
    for query in queries:  # both retrievers score as one store does (BM25 with the pooled statistics), up to
        # float32 rounding in the dense scores
        request = SearchRequest(query=query, rerank=rerank, answers=rerank, size=5)
        top_one, top_two = single.search(request).results[:5], sharded.search(request).results[:5]
        assert [r.article_id for r in top_one] == [r.article_id for r in top_two], query
        assert [r.score for r in top_one] == pytest.approx([r.score for r in top_two], abs=1e-5)
    topic = one.stats()["topics"][0][0]
    request = SearchRequest(query=titles[0], rerank=False, answers=False, filters=Filters(topics=[topic]))
    assert {r.article_id for r in sharded.search(request).results} <= {
        a for a, in one.db.execute("SELECT id FROM articles WHERE topic = ?", [topic])}


def test_the_cli_adds_deletes_checks_and_backs_up_a_sharded_store(tmp_path: Path, sample_jsonl: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    lines = sample_jsonl.read_text(encoding="utf-8").splitlines(keepends=True)[:12]
    small = tmp_path / "small.jsonl"
    small.write_text("".join(lines), encoding="utf-8")
    store = tmp_path / "store"
    assert main(["add", str(small), "--store", str(store), "--shards", "3"]) == EXIT_OK
    assert "shards" in capsys.readouterr().out
    assert main(["add", str(small), "--store", str(store)]) == EXIT_OK  # the same shards: all unchanged
    sharded = open_store(store)
    assert sharded.count("articles") == 12 and all(s.count("articles") for s in sharded.shards)
    first = sharded.article_heads([a for a, in sharded.shards[0].db.execute("SELECT id FROM articles")][:1])
    assert first and first[0][0]
    victim = next(a for s in sharded.shards for a, in s.db.execute("SELECT id FROM articles LIMIT 1"))
    assert delete_sharded(sharded, [victim]).deleted == 1 and sharded.article(victim) is None
    assert main(["check", "--store", str(store)]) == EXIT_OK
    assert search_main(["watch", "add", "election", "--store", str(store)]) == 0
    assert search_main(["watch", "list", "--store", str(store)]) == 0 and "election" in capsys.readouterr().out
    assert main(["backup", str(tmp_path / "copy"), "--store", str(store)]) == EXIT_OK
    assert open_store(tmp_path / "copy", readonly=True).count("articles") == 11
    with pytest.raises(StoreError, match="has 3 shards, not 2"):
        open_store(store, shards=2)
    with pytest.raises(StoreError, match="not sharded"):
        open_store(tmp_path / "copy" / "shard-000", shards=2)


@pytest.mark.parametrize("query", ["flooding after heavy rain", "the", 'president "prime minister"',
                                   "title:election vote"])
def test_bm25_over_shards_equals_one_stores(one: Store, two: ShardedStore, query: str) -> None:
    """The oracle is FTS5 itself on the unsharded store: same passages, same scores, for free words, a phrase,
    a title word and a query of stopwords only."""
    from search.pipeline.syntax import parse_query

    match = parse_query(query).fts_match()
    single = one.lexical_search(query, 25, match=match)
    sharded = two.lexical_search(query, 25, match=match)
    rows = {p.id: (p.article_id, p.position) for p in one.passages([i for i, _ in single])}
    rows_two = {p.id: (p.article_id, p.position) for p in two.passages([i for i, _ in sharded])}
    assert single and len(sharded) == len(single)
    assert sorted((round(s, 9), rows[i]) for i, s in single) == sorted((round(s, 9), rows_two[i]) for i, s in sharded)


def test_shards_served_by_ray_actors_answer_as_the_threads_do(sharded_folder: Path, model) -> None:
    ray = pytest.importorskip("ray")
    from fastapi.testclient import TestClient

    from search.api.app import create_app
    from search.api.settings import ServeSettings
    from search.store.ray_shards import open_on_ray

    threads = open_store(sharded_folder, readonly=True)
    actors = open_on_ray(sharded_folder)
    try:
        query = model.embed_queries(["flooding after heavy rain"])
        assert actors.dense_search(query, 10) == threads.dense_search(query, 10)
        assert actors.lexical_search("flooding rain", 10) == threads.lexical_search("flooding rain", 10)
        ids = [i for i, _ in threads.dense_search(query, 10)[0]]
        assert [(p.id, p.text) for p in actors.passages(ids)] == [(p.id, p.text) for p in threads.passages(ids)]
        assert actors.facets(ids) == threads.facets(ids) and actors.model_id == threads.model_id
        request = SearchRequest(query="flooding after heavy rain", rerank=True, answers=True, size=5)
        by_actors = SearchPipeline(model, actors, clock=CLOCK).search(request).results
        by_threads = SearchPipeline(model, threads, clock=CLOCK).search(request).results
        assert [(r.article_id, r.score) for r in by_actors] == [(r.article_id, r.score) for r in by_threads]
        with pytest.raises(StoreError, match="news-index rebuild") as refused:  # the shard's own error, as itself
            actors.check_model("another-model")
        assert "Traceback" not in str(refused.value)
        with pytest.raises(StoreError, match="not a sharded store"):
            open_on_ray(sharded_folder / "shard-000")
        ray.kill(actors.shards[0].actor)  # one CPU free of two: a second opening's actors cannot all start
        with pytest.raises(StoreError, match="did not all start within 3 s; each asks for 1 CPU"):
            open_on_ray(sharded_folder, timeout_s=3)
    finally:
        ray.shutdown()
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:  # fewer CPUs than shards: each actor asks for a share
        with TestClient(create_app(sharded_folder, settings=ServeSettings(shards="ray"))) as app:
            assert app.get("/health").json()["shards"] == {"count": 2, "read_by": "ray actors"}
            assert app.get("/search", params={"q": "flooding rain", "rerank": "false"}).json()["results"]
    finally:
        ray.shutdown()


def test_serve_with_shards_on_ray_refuses_a_store_that_is_not_sharded(sample_store: Path,
                                                                      capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("ray")
    assert search_main(["serve", "--store", str(sample_store), "--shards", "ray"]) == 3
    assert "not a sharded store" in capsys.readouterr().err


SHARD_WATCHES = {  # query -> the later articles it must match (as on one store: tests/pipeline/test_watch_match.py)
    "Syria": {"wn-vat-2019-133", "wn-vat-2019-143"},
    "Hong Kong protests": {"wn-vat-2019-125", "wn-vat-2019-144"},
    "marathon world record": {"wn-vat-2019-141", "wn-vat-2019-142"},
    "football": set(),
}


def test_watches_on_a_sharded_store_match_in_every_shard(sharded_folder: Path, model, tmp_path: Path) -> None:
    """Every shard keeps the watches under the same ids and matches the articles it indexes; the store answers
    with all shards' matches — the same a single store records — and mends a copy a crash cut short."""
    import shutil

    from search.pipeline.watches import WatchRequest, save_watch
    from tests.indexer.helpers import LATER_ARTICLES, sample_records, write_jsonl

    folder = tmp_path / "sharded"
    shutil.copytree(sharded_folder, folder)
    store = open_store(folder)
    saved = [save_watch(store, model, WatchRequest(query=q), CLOCK()) for q in SHARD_WATCHES]
    assert [[w.id for w in shard.watches()] for shard in store.shards] == [[w.id for w in saved]] * 2
    later = write_jsonl(tmp_path / "later.jsonl", sample_records(LATER_ARTICLES))
    report = add_sharded(store, model, IndexerConfig(), read_inputs([str(later)]))
    matched = {w.query: {m.article_id for m in store.watch_matches(w.id, 0, 100)[1]} for w in store.watches()}
    assert matched == SHARD_WATCHES and report.watch_matches == sum(len(v) for v in SHARD_WATCHES.values())
    assert {shard_of(a, 2) for ids in matched.values() for a in ids} == {0, 1}  # matched in both shards
    assert [w.matches for w in store.watches()] == [len(v) for v in SHARD_WATCHES.values()]
    total, first = store.watch_matches(saved[0].id, 0, 1)
    assert total == 2 and len(first) == 1
    store.shards[1].delete_watch(saved[0].id)  # as a crash between the shards' copies would leave it
    store.close()
    mended = open_store(folder)
    assert [w.id for w in mended.shards[1].watches()] == [w.id for w in saved]
    assert mended.delete_watch(saved[0].id) and all(s.watch(saved[0].id) is None for s in mended.shards)


def test_whole_store_facets_fold_case_over_shards_and_complete_what_a_shard_cut(tmp_path: Path) -> None:
    """One name spelled "ZETA" in one shard and "Zeta" in the other is one value (NOCASE, as one store groups it),
    counted in full though the second shard lists it below its cut (count 1, after 15 fillers)."""
    store = open_store(tmp_path / "s", create=True, shards=2)
    ids = [f"a{k}" for k in range(40)]
    zeta_one = next(i for i in ids if shard_of(i, 2) == 1)
    for i in ids:
        shard = store.shard_for(i)
        names = [f"Filler {i} {j}" for j in range(3)]
        if shard_of(i, 2) == 0 or i == zeta_one:
            names.append("ZETA" if shard_of(i, 2) == 0 else "Zeta")
        body = " ".join(names)
        mentions = [Mention(n, "ORG", body.index(n), body.index(n) + len(n), 0.9) for n in names]
        vector = np.full(4, 0.5, np.float32)
        if shard.model_id is None:
            shard.set_model("m", "m")
        shard.replace_articles([ArticleWrite(i, "", body, None, None, None, [], {}, f"h{i}", "m", "", {}, i, vector,
                                             [PassageWrite(0, 0, len(body), body, "", vector)], mentions)])
    in_zero = sum(shard_of(i, 2) == 0 for i in ids)
    assert store.facets(None, limit=1)["entities"] == [("ZETA", in_zero + 1)]
    assert store.stats()["entities"] == 3 * len(ids) + 1
    gone = ids[-1]
    store.shard_for(gone).delete_articles([gone])  # the count kept for /health follows a shard's change
    assert store.stats()["entities"] == 3 * (len(ids) - 1) + 1
