"""`check`, `repair` and `backup` on real stores: each kind of damage is found, repaired from SQLite, and a copy
taken while another connection writes is a consistent store of its own; a full disk loses nothing committed."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from indexer.pipeline import Indexer
from indexer.records import parse_record
from indexer.repair import repair
from search.model import NewsModel
from search.store import Store, StoreError, schema
from search.store.backup import backup
from search.store.check import check_store
from search.store.store import VECTOR_FILE
from tests.indexer.helpers import short_articles


def problems(folder: Path) -> dict[str, str]:
    store = Store.open(folder, readonly=True)
    try:
        return {c.name: c.detail for c in check_store(store) if not c.ok}
    finally:
        store.close()


def test_a_sound_store_passes_every_check(sample_store: Path) -> None:
    assert problems(sample_store) == {}


def test_each_kind_of_damage_is_found_and_repair_rebuilds_it_from_sqlite(sample_store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    Store.open(folder).sync_vectors("hnsw")  # a flat index has no file to damage: it is built from SQLite
    with sqlite3.connect(folder / "store.db") as conn:
        conn.execute("UPDATE passages_fts_data SET block = zeroblob(length(block)) "
                     "WHERE id = (SELECT max(id) FROM passages_fts_data)")  # a damaged FTS5 segment
        conn.execute("INSERT INTO passages (article_id, position, start, \"end\", vector) "
                     "VALUES ('gone', 0, 0, 4, x'00')")  # a passage whose article is gone
        conn.execute("INSERT INTO clusters_to_recheck (cluster_id) VALUES ('nobody')")  # a re-check cut short
    with open(folder / VECTOR_FILE, "r+b") as f:  # a vector file cut short, as by a full disk
        f.truncate(1000)
    found = problems(folder)
    assert set(found) == {"FTS5 index", "vector file", "orphan rows", "story clusters"}, found
    assert "damaged" in found["vector file"] and "1 passages without an article" in found["orphan rows"]
    # FTS5's own check fails on the segment, and the id comparison still counts the orphan's missing row
    assert found["FTS5 index"].startswith("integrity-check failed") and "1 passages not indexed" in found["FTS5 index"]
    with pytest.raises(StoreError, match="news-index repair"):  # a reader says what to run
        Store.open(folder, readonly=True).vectors
    store = Store.open(folder)
    repair(store)
    assert problems(folder) == {}
    reader = Store.open(folder, readonly=True)
    assert reader.lexical_search("Magnitogorsk", 3) and len(reader.vectors) == reader.stats()["passages"]


def test_a_passage_missing_from_the_fts5_index_is_found_while_a_writer_holds_the_store(sample_store: Path,
                                                                                      tmp_path: Path) -> None:
    """With the integrity check skipped (a writer holds the lock), the id comparison still finds it."""
    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    with sqlite3.connect(folder / "store.db") as conn:  # FTS5's own delete of one row, the passage kept
        schema.register_functions(conn)
        conn.execute("""INSERT INTO passages_fts (passages_fts, rowid, title, text)
                        SELECT 'delete', id, title, text FROM passage_lexical LIMIT 1""")
    writer = sqlite3.connect(folder / "store.db")
    writer.execute("BEGIN IMMEDIATE")
    try:
        found = problems(folder)
    finally:
        writer.rollback()
        writer.close()
    assert found == {"FTS5 index": "1 passages not indexed, 0 rows for passages that are gone"}, found


def test_a_backup_taken_while_another_connection_writes_is_a_consistent_store(sample_store: Path,
                                                                             tmp_path: Path) -> None:
    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    writer = sqlite3.connect(folder / "store.db")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM passages WHERE article_id = (SELECT id FROM articles LIMIT 1)")  # not committed
    copy = backup(Store.open(folder, readonly=True), tmp_path / "copy")
    writer.rollback()
    writer.close()
    assert problems(tmp_path / "copy") == {}
    assert copy.stats()["passages"] == Store.open(folder, readonly=True).stats()["passages"]
    with pytest.raises(StoreError, match="not empty"):
        backup(Store.open(folder, readonly=True), tmp_path / "copy")


def test_a_full_disk_stops_with_a_store_error_and_loses_nothing_committed(tmp_path: Path, model: NewsModel) -> None:
    """SQLite's max_page_count caps the database: writes past it fail as on a full disk (SQLITE_FULL)."""
    records = [parse_record(r) for r in short_articles(40)]
    store = Store.open(tmp_path / "store", create=True)
    Indexer(store, model).add(records[:5])
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 8}")
    with pytest.raises(StoreError, match="database or disk is full.*run the same command again"):
        Indexer(store, model).add(records)
    kept = store.stats()["articles"]
    assert 5 <= kept < 40
    store.close()
    assert problems(tmp_path / "store") == {}
    again = Store.open(tmp_path / "store")
    report = Indexer(again, model).add(records)  # room again: the same command finishes the job
    assert report.unchanged == kept and again.stats()["articles"] == 40
    assert problems(tmp_path / "store") == {}
