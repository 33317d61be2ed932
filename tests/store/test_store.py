"""The store's read API on the session's sample store, and its refusal of stores it cannot serve."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from search.model import NewsModel
from search.store import Filters, Store, StoreError, VectorIndex
from search.store import schema
from search.store.store import VECTOR_FILE
from search.store.vectors import SearchSettings
from tests.store.old_layouts import as_schema_4


@pytest.fixture(scope="module")
def store(sample_store: Path) -> Store:
    return Store.open(sample_store, readonly=True)


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at .*news-index add"):
        Store.open(tmp_path / "nothing", readonly=True)


def test_model_mismatch_says_to_rebuild(store: Store, model: NewsModel) -> None:
    store.check_model(model.model_id)
    with pytest.raises(StoreError, match="news-index rebuild"):
        store.check_model("some-other-model")


def test_readonly_store_refuses_writes(store: Store) -> None:
    with pytest.raises(StoreError, match="read-only"):
        store.sync_vectors()


def test_vectors_agree_with_passages(store: Store, model: NewsModel) -> None:
    ids = store.vectors.ids()
    rows = store.db.execute("SELECT id FROM passages").fetchall()
    assert sorted(ids.tolist()) == sorted(r[0] for r in rows)
    title = store.passages([int(ids[0])])[0].title
    hit = store.vectors.search(model.embed_queries([title]), 5)[0]
    assert len(hit) == 5 and all(isinstance(i, int) and isinstance(s, float) for i, s in hit)


def test_lexical_search_survives_fts_syntax(store: Store) -> None:
    for query in ['"unbalanced', "NEAR(a b)", "col:umn AND OR NOT *", "^-+()", "", "   "]:
        store.lexical_search(query, 5, Filters())
    hits = store.lexical_search("Magnitogorsk explosion", 5, Filters())
    assert hits and "Magnitogorsk" in store.passages([hits[0][0]])[0].text
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_filters_apply_to_lexical_and_allowed_ids(store: Store) -> None:
    topic, _ = store.facets()["topics"][0]
    filters = Filters(topics=[topic], date_from="2019-01-01", date_to="2019-12-31")
    allowed = store.allowed_passage_ids(filters)
    assert store.allowed_passage_ids(Filters()) is None and len(allowed) > 0
    for row in store.passages(allowed.tolist()):
        assert row.topic == topic and "2019-01-01" <= row.published_at <= "2019-12-31"
    for pid, _ in store.lexical_search("the government said", 20, filters):
        assert pid in set(allowed.tolist())
    assert store.allowed_passage_ids(Filters(sources=["No Such Source"])).size == 0
    with pytest.raises(ValueError, match="ISO date"):
        store.allowed_passage_ids(Filters(date_from="last week"))


def test_entity_filter_matches_names_case_insensitively(store: Store) -> None:
    name, count = store.facets()["entities"][0]
    ids = store.allowed_passage_ids(Filters(entities=[name.upper()]))
    articles = {row.article_id for row in store.passages(ids.tolist())}
    assert len(articles) == count


def test_passages_keep_order_skip_missing_and_point_into_the_article(store: Store) -> None:
    ids = store.vectors.ids()[:3].tolist()
    rows = store.passages([ids[2], 10**9, ids[0]])
    assert [r.id for r in rows] == [ids[2], ids[0]]
    for row in rows:
        article = store.article(row.article_id)
        assert article.text[row.start:row.end] == row.text
        for m in row.entities:
            assert row.start <= m.start < m.end <= row.end


def test_article_has_fields_topics_entities_and_licence(store: Store) -> None:
    article = store.article("wn-vat-2019-000")
    assert article.title.startswith("Magnitogorsk") and article.source == "Wikinews"
    assert article.published_at == "2019-01-04" or article.published_at.startswith("20")
    assert "CC BY" in article.extra["licence"]
    assert article.topic == max(article.topics, key=article.topics.get)
    assert sum(article.topics.values()) == pytest.approx(1.0, abs=1e-4)
    for m in article.entities:  # the span is the mention as written; the name its canonical form (names.py)
        written = store.names.canonical(" ".join(article.text[m.start:m.end].split())).split()
        full = m.name.split()
        assert written in (full, full[:len(written)], full[-len(written):]), (m, written)
    assert article.cluster_size == store.cluster_sizes([article.cluster_id])[article.cluster_id] >= 1
    assert store.article("no-such-id") is None


def test_facets_known_values_and_stats(store: Store) -> None:
    facets = store.facets()
    assert set(facets) == {"topics", "entities", "sources", "dates"}
    assert facets["sources"] == [("Wikinews", 120)]
    assert sum(c for _, c in facets["topics"]) == 120
    some = store.lexical_search("Putin", 10, Filters())
    narrowed = store.facets([pid for pid, _ in some])
    assert sum(c for _, c in narrowed["topics"]) <= 10
    assert store.known_values("sources") == {"Wikinews"}
    assert {t for t, _ in facets["topics"]} == store.known_values("topics")
    name = facets["entities"][0][0]
    assert name in store.known_values("entities") and store.entity_labels([name])[name] in {"PER", "ORG", "LOC",
                                                                                               "MISC"}
    stats = store.stats()
    assert stats["articles"] == 120 and stats["passages"] == len(store.vectors)
    assert stats["index_type"] == "flat" and stats["model_id"] and stats["disk_bytes"] > 0


def test_lost_or_foreign_vector_file_is_rebuilt_from_sqlite(sample_store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sample_store, copy)
    store = Store.open(copy)
    before = sorted(r[0] for r in store.db.execute("SELECT id FROM passages"))
    assert sorted(store.sync_vectors().ids().tolist()) == before
    assert not (copy / VECTOR_FILE).exists()  # a flat index is built from SQLite when opened, never saved
    store.sync_vectors("hnsw")
    assert Store.open(copy, readonly=True).vectors.kind == "hnsw"
    (copy / VECTOR_FILE).unlink()  # lost
    rebuilt = Store.open(copy, readonly=True).vectors
    assert rebuilt.kind == "hnsw" and sorted(rebuilt.ids().tolist()) == before
    with sqlite3.connect(copy / "store.db") as conn:  # another store's manifest id: the file is not trusted
        conn.execute("UPDATE meta SET value = 'other' WHERE key = 'store_id'")
    reopened = Store.open(copy, readonly=True)
    assert sorted(reopened.vectors.ids().tolist()) == before and np.all(reopened.vectors.ids() > 0)


def test_date_filters_take_every_form_request_validation_accepts(store: Store) -> None:
    plain = store.allowed_passage_ids(Filters(date_from="2019-01-01", date_to="2019-06-30"))
    for low, high in ((" 2019-01-01 ", "2019-06-30 "), ("2019-01-01T00:00:00Z", "20190630T2359")):
        assert np.array_equal(store.allowed_passage_ids(Filters(date_from=low, date_to=high)), plain)


def test_entity_names_beyond_ascii_match_case_insensitively_too(tmp_path: Path, model: NewsModel) -> None:
    """shared/cases/unicode-case: SQLite's NOCASE folds ASCII only, so "örebro" missed "Örebro"."""
    from indexer.pipeline import Indexer
    from indexer.records import parse_record

    articles = [{"id": "u-hockey", "title": "Ice hockey final tonight",
                 "body": "Émile Durand will captain the team in tonight's ice hockey final in Örebro. Durand scored "
                         "twice in the semi-final."},
                {"id": "u-port", "title": "Port strike ends after talks",
                 "body": "Dock workers in Antwerp ended a three-day strike after talks with the port authority."}]
    store = Store.open(tmp_path / "store", create=True)
    Indexer(store, model).add(parse_record(a) for a in articles)
    names = {r[0] for r in store.db.execute("SELECT name FROM entities")}
    assert {"Örebro", "Émile Durand", "Antwerp"} <= names
    for asked, article in (("örebro", "u-hockey"), ("ÉMILE DURAND", "u-hockey"), ("antwerp", "u-port")):
        assert store.missing_values("entities", [asked]) == []
        ids = store.allowed_passage_ids(Filters(entities=[asked]))
        assert {row.article_id for row in store.passages(ids.tolist())} == {article}, asked
    assert store.missing_values("entities", ["örebrö", "Nobody"]) == ["örebrö", "Nobody"]


def test_a_version_1_store_is_searched_as_it_is_and_migrated_when_opened_for_writing(tmp_path: Path,
                                                                                      model: NewsModel) -> None:
    """Version 2 indexes CJK runs as character pairs; a version-1 store (whole runs as FTS5 tokens) stays
    readable and gets its FTS5 rows written again, without the model, on its first writable open."""
    from indexer.pipeline import Indexer
    from indexer.records import parse_record

    folder = tmp_path / "store"
    store = Store.open(folder, create=True)
    Indexer(store, model).add([parse_record({"id": "zh", "title": "台风逼近南部港口",
                                             "body": "强台风预计星期五登陆南部港口。"})])
    store.close()
    as_schema_4(folder, version=1)
    assert Store.open(folder, readonly=True).lexical_search("台风", 5) == []
    writable = Store.open(folder)
    assert writable._meta("schema_version") == str(schema.SCHEMA_VERSION)
    assert len(writable.lexical_search("台风", 5)) == 1
    with sqlite3.connect(folder / "store.db") as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 99"):
        Store.open(folder)


def checkpointed_size(folder: Path) -> int:
    """The database file's bytes once the write-ahead log is written into it."""
    with sqlite3.connect(folder / "store.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return (folder / "store.db").stat().st_size


def test_the_text_is_kept_once_and_a_version_4_store_is_read_then_migrated(sample_store: Path,
                                                                           tmp_path: Path) -> None:
    """Schema 5 keeps the article text only: passages are offsets into it and FTS5 reads them through a view. A
    version-4 store (passages and FTS5 each with their own copy) is searched as it is and migrated, then shrunk,
    on its first writable open; searches and passages come out the same."""
    from search.store.check import check_store

    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    current = Store.open(folder, readonly=True)
    ids = [int(r[0]) for r in current.db.execute("SELECT id FROM passages ORDER BY id")]
    texts = {p.id: p.text for p in current.passages(ids)}
    queries = ["earthquake rescue", "central bank interest rates", "台风"]
    hits = {q: current.lexical_search(q, 10) for q in queries}
    mentioned = current.db.execute("SELECT article_id FROM article_entities LIMIT 1").fetchone()[0]
    mentions = current.article(mentioned).entities
    assert "text" not in current.db["passages"].columns_dict and texts[ids[0]].strip()
    current.close()
    as_schema_4(folder)
    size_4 = checkpointed_size(folder)
    old = Store.open(folder, readonly=True)
    assert {p.id: p.text for p in old.passages(ids)} == texts
    assert {q: old.lexical_search(q, 10) for q in queries} == hits
    migrated = Store.open(folder)
    assert migrated.upgraded_from == 4 and Store.open(folder).upgraded_from is None  # converted once
    assert migrated.db.execute("PRAGMA auto_vacuum").fetchone()[0] == schema.AUTO_VACUUM_INCREMENTAL  # with VACUUM
    assert migrated._meta("schema_version") == str(schema.SCHEMA_VERSION)
    assert "text" not in migrated.db["passages"].columns_dict
    assert "WITHOUT ROWID" in migrated.db["article_entities"].schema
    assert migrated.article(mentioned).entities == mentions
    assert {p.id: p.text for p in migrated.passages(ids)} == texts
    assert {q: migrated.lexical_search(q, 10) for q in queries} == hits
    assert checkpointed_size(folder) < 0.8 * size_4
    assert not [c for c in check_store(migrated) if not c.ok]
    gone = migrated.delete_articles([migrated.article_ids()[0]])  # FTS5 deletes through the view
    migrated.sync_vectors()
    assert gone and not [c for c in check_store(migrated) if not c.ok]


def test_the_pages_a_write_run_frees_go_back_to_the_disk(sample_store: Path, tmp_path: Path) -> None:
    """New stores are made with auto_vacuum = INCREMENTAL, so `release_free_pages` can truncate the file by the
    pages deletes and FTS5 merges freed; a store made without it keeps them for later writes."""
    from search.store.check import check_store

    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    store = Store.open(folder)
    pragma = lambda name: int(store.db.execute(f"PRAGMA {name}").fetchone()[0])  # noqa: E731
    assert pragma("auto_vacuum") == schema.AUTO_VACUUM_INCREMENTAL
    store.delete_articles(store.article_ids()[:100])
    store.sync_vectors()
    free, size = pragma("freelist_count"), checkpointed_size(folder)
    assert free > 0 and store.release_free_pages() == free
    assert pragma("freelist_count") == 0 and checkpointed_size(folder) == size - free * pragma("page_size")
    assert not [c for c in check_store(store) if not c.ok]
    store.close()
    with sqlite3.connect(folder / "store.db") as conn:  # as a store made before auto_vacuum was set
        conn.executescript("PRAGMA auto_vacuum = NONE; VACUUM; DELETE FROM watch_pending;")
    store = Store.open(folder)
    store.delete_articles(store.article_ids()[:50])
    assert pragma("freelist_count") > 0 and store.release_free_pages() == 0


def test_vectors_are_kept_once_in_float16_and_a_float32_store_is_read_then_halved(tmp_path: Path,
                                                                                   model: NewsModel) -> None:
    """Schema 3 keeps vectors in SQLite as float16 (the vector file, a cache, is rebuilt from them); a store of
    schema 2 (float32 blobs) is searched as it is and converted on its first writable open."""
    from indexer.pipeline import Indexer
    from indexer.records import parse_record
    from search.store.check import check_store

    folder = tmp_path / "store"
    store = Store.open(folder, create=True)
    Indexer(store, model).add([parse_record(r) for r in [
        {"id": "a", "title": "Harbour bridge reopens", "body": "The harbour bridge reopened after repairs."},
        {"id": "b", "title": "Storm closes schools", "body": "A storm closed every school in the valley."}]])
    assert store.stats()["bytes_per_passage"]["sqlite_vector"] == 384 * 2
    exact = {int(i): v for i, v in zip(*store._passage_vectors(None))}
    store.close()
    with sqlite3.connect(folder / "store.db") as conn:  # as schema 2 wrote it: float32 blobs, no vector_dtype
        for table in ("passages", "articles"):
            rows = conn.execute(f"SELECT rowid, vector FROM {table}").fetchall()
            conn.executemany(f"UPDATE {table} SET vector = ? WHERE rowid = ?",
                             [(np.frombuffer(v, np.float16).astype(np.float32).tobytes(), i) for i, v in rows])
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        conn.execute("DELETE FROM meta WHERE key = 'vector_dtype'")
    old = Store.open(folder, readonly=True)
    assert old.vector_dtype == np.float32 and old.vectors.search(exact[1], 1)[0][0][0] == 1
    halved = Store.open(folder)
    ids, vectors = halved._passage_vectors(None)
    assert halved.vector_dtype == np.float16 and halved._meta("schema_version") == str(schema.SCHEMA_VERSION)
    assert max(float(np.abs(v - exact[int(i)]).max()) for i, v in zip(ids, vectors)) < 1e-3
    assert not [c for c in check_store(halved) if not c.ok]
    Indexer(halved, model).add([parse_record({"id": "c", "title": "Ferry strike ends",
                                              "body": "Ferry crews ended their strike on Monday."})])
    new_id, new_vector = [(int(i), v) for i, v in zip(*halved._passage_vectors(None)) if int(i) not in exact][0]
    assert old.vectors.search(new_vector, 1)[0][0][0] == new_id  # the reader that opened it as float32 keeps up


def test_the_date_histogram_counts_as_sql_does_in_the_unit_the_span_asks_for(store: Store) -> None:
    from datetime import date

    whole = dict(store.facets(None)["dates"])
    low, high = store.db.execute("SELECT MIN(published_date), MAX(published_date) FROM articles").fetchone()
    days = (date.fromisoformat(high) - date.fromisoformat(low)).days
    width = 10 if days <= 62 else 7 if days <= 5 * 366 else 4  # about 60 bars at most
    rows = store.db.execute(f"SELECT substr(published_date, 1, {width}), COUNT(*) FROM articles "
                            "WHERE published_date IS NOT NULL GROUP BY 1").fetchall()
    assert whole == dict(rows) and {len(v) for v in whole} == {width}
    ids = [r[0] for r in store.db.execute("SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id "
                                          "WHERE a.published_date LIKE '2019-03%'")]
    month = store.facets(ids)["dates"]
    assert month and all(len(value) == 10 and value.startswith("2019-03") for value, _ in month)  # days
    assert sum(c for _, c in month) == store.db.execute(
        "SELECT COUNT(*) FROM articles WHERE published_date LIKE '2019-03%'").fetchone()[0]


def test_a_readers_flat_index_follows_the_writers_syncs_on_a_copy(sample_store: Path, tmp_path: Path) -> None:
    """A flat index lives in memory only; a reader patches a copy when the writer syncs (the manifest changes), so
    a search still running on the old one is never changed under it."""
    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    reader = Store.open(folder, readonly=True)
    old = reader.vectors
    writer = Store.open(folder)
    gone = writer.article_ids()[0]
    gone_ids = {r[0] for r in writer.db.execute("SELECT id FROM passages WHERE article_id = ?", [gone])}
    writer.delete_articles([gone])
    writer.sync_vectors()
    now = reader.vectors
    assert now is not old and now.kind == "flat" and not gone_ids & set(now.ids().tolist())
    assert gone_ids <= set(old.ids().tolist())  # the index a running search holds is left as it was
    assert sorted(now.ids().tolist()) == sorted(r[0] for r in writer.db.execute("SELECT id FROM passages"))


def test_an_ivf_index_is_trained_on_a_sample_and_filled_chunk_by_chunk(sample_store: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from search.store import vector_sync

    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    monkeypatch.setattr(vector_sync, "CHUNK_PASSAGES", 300)  # the sample's 2,078 passages in 7 chunks
    store = Store.open(folder)
    ivf = store.sync_vectors("ivf")
    ids, vectors = store._passage_vectors(None)
    assert ivf.kind == "ivf" and np.array_equal(np.sort(ivf.ids()), ids)
    queries = vectors[::97]
    every_list = ivf.search(queries, 10, settings=SearchSettings(nprobe=ivf.nlist))
    exact = VectorIndex.build("flat", vectors.shape[1], ids, vectors).search(queries, 10)
    assert [[i for i, _ in row] for row in every_list] == [[i for i, _ in row] for row in exact]


def test_a_reader_without_a_vector_file_builds_the_type_the_writer_last_synced(sample_store: Path,
                                                                               tmp_path: Path) -> None:
    """A writer has asked for HNSW but not synced yet (a long `add`): a server starting now builds the flat index
    the manifest names, not the minutes-long HNSW the passage count or the request would pick."""
    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    with sqlite3.connect(folder / "store.db") as conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('index_kind', 'hnsw')")
    assert Store.open(folder, readonly=True).vectors.kind == "flat"
