"""Watches in the store: saved through the API's read-only store (its own short write connection, waiting for a
writer that holds the store), a store from before schema 4 read as it is and given the tables by its first watch
or writable open, carried by backups, and their orphan matches found by `check` and dropped by `repair`."""
from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from indexer.repair import repair
from search.store import Filters, Store, StoreError, schema
from search.store.errors import is_busy
from search.store.backup import backup
from search.store.check import check_store
from search.store.watches import NewWatch

NOW = "2026-01-02T03:04:05+00:00"


def new_watch(store: Store, query: str = "earthquake") -> NewWatch:
    vector = np.zeros(int(store._meta("dim")), np.float32)
    vector[0] = 1.0
    return NewWatch(name=query, query=query, filters=Filters(topics=["world"]), min_score=0.6, webhook=None,
                    model_id=store.model_id, vector=vector)


def as_schema_3(folder: Path) -> None:
    """Make the store one written before watches existed."""
    with sqlite3.connect(folder / "store.db") as conn:
        for table in ("watch_matches", "watches", "watch_pending"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")


def test_a_read_only_store_saves_and_deletes_watches_through_a_short_connection(sample_store: Path,
                                                                                tmp_path: Path) -> None:
    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    as_schema_3(folder)
    reader = Store.open(folder, readonly=True)  # as the API server holds it
    assert reader.watches() == [] and reader.watch_matches(1) == (0, [])
    assert all(c.ok for c in check_store(reader))
    saved = reader.add_watch(new_watch(reader), NOW)  # the first watch brings the tables
    assert (saved.id, saved.name, saved.filters.topics, saved.created_at) == (1, "earthquake", ["world"], NOW)
    assert [w.id for w in reader.watches()] == [1] and reader.watch_vectors()[0][1][0] == 1.0
    assert reader._meta("schema_version") == "3"  # nothing else migrated by the server
    assert reader.delete_watch(1) and not reader.delete_watch(1) and reader.watches() == []
    assert reader.add_watch(new_watch(reader), NOW).id == 2  # ids are never reused
    writer = Store.open(folder)  # the indexer's open brings the rest up to date
    assert writer._meta("schema_version") == str(schema.SCHEMA_VERSION) and [w.id for w in writer.watches()] == [2]


def test_saving_a_watch_waits_for_a_writer_holding_the_store(sample_store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    reader = Store.open(folder, readonly=True)
    held = threading.Event()

    def indexer_batch() -> None:  # another process's write transaction, as news-index add commits a batch
        conn = sqlite3.connect(folder / "store.db")
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(0.5)
        conn.commit()
        conn.close()

    thread = threading.Thread(target=indexer_batch)
    thread.start()
    held.wait()
    began = time.perf_counter()
    reader.add_watch(new_watch(reader), NOW)
    thread.join()
    assert time.perf_counter() - began >= 0.3 and len(reader.watches()) == 1


def test_a_store_held_past_the_busy_timeout_is_a_busy_store_error(sample_store: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Busy is worth retrying (the API adds Retry-After); other refusals (a read-only folder) are not."""
    from search.store import watches

    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    reader = Store.open(folder, readonly=True)
    monkeypatch.setattr(watches, "BUSY_TIMEOUT_S", 0.1)
    holder = sqlite3.connect(folder / "store.db")
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="try again once the indexer has committed") as refused:
            reader.add_watch(new_watch(reader), NOW)
    finally:
        holder.rollback()
        holder.close()
    assert refused.value.busy
    assert not is_busy(sqlite3.OperationalError("attempt to write a readonly database"))


def test_backups_carry_watches_and_check_finds_orphan_matches(sample_store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    store = Store.open(folder)
    watch = store.add_watch(new_watch(store), NOW)
    article = store.article_ids()[0]
    with store.matching():
        assert store.record_matches([(watch.id, article, 0.9), (watch.id, article, 0.8)], NOW) == 1
    copy = backup(store, tmp_path / "copy")
    assert [w.query for w in copy.watches()] == ["earthquake"]
    assert [(m.article_id, m.score) for m in copy.watch_matches(watch.id)[1]] == [(article, 0.9)]
    assert all(c.ok for c in check_store(copy))
    with sqlite3.connect(folder / "store.db") as conn:  # rows a damaged write could leave
        conn.execute("INSERT INTO watch_matches VALUES (99, ?, 0.7, ?, NULL)", [article, NOW])
        conn.execute("INSERT INTO watch_matches VALUES (?, 'gone', 0.7, ?, NULL)", [watch.id, NOW])
    found = {c.name: c.detail for c in check_store(store) if not c.ok}
    assert found == {"orphan rows": "1 watch matches without an article, 1 watch matches without a watch"}
    repair(store)
    assert all(c.ok for c in check_store(store)) and store.watch_matches(watch.id)[0] == 1
