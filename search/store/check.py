"""`news-index check`: does every part of a store agree with SQLite, and is SQLite itself sound?

The checks follow what the store promises: SQLite holds the truth (its own `integrity_check`), FTS5 indexes
exactly the passages (FTS5's `integrity-check` command, then the two id sets), the vector file holds exactly the
passages' ids and belongs to this store and model (its manifest), no row points at a missing parent, and no
story cluster waits for its re-check. Everything but SQLite itself can be rebuilt from SQLite (`news-index
repair`, indexer/repair.py).
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from search.store import schema
from search.store.base import DB_FILE, MANIFEST_FILE, VECTOR_FILE
from search.store.errors import StoreError
from search.store.manifest import Manifest
from search.store.store import Store
from search.store.vectors import VectorIndex

ORPHANS = {  # what each query counts: rows whose parent is gone
    "passages without an article": "SELECT COUNT(*) FROM passages WHERE article_id NOT IN (SELECT id FROM articles)",
    "mentions without an article": "SELECT COUNT(*) FROM article_entities "
                                   "WHERE article_id NOT IN (SELECT id FROM articles)",
    "mentions without an entity": "SELECT COUNT(*) FROM article_entities "
                                  "WHERE entity_id NOT IN (SELECT id FROM entities)",
    "entities nobody mentions": "SELECT COUNT(*) FROM entities WHERE id NOT IN (SELECT entity_id FROM article_entities)",
    "watch matches without an article": "SELECT COUNT(*) FROM watch_matches "
                                        "WHERE article_id NOT IN (SELECT id FROM articles)",
    "watch matches without a watch": "SELECT COUNT(*) FROM watch_matches WHERE watch_id NOT IN (SELECT id FROM watches)",
}


@dataclass
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str
    repairable: bool = True  # `news-index repair` can fix it from SQLite


def check_store(store: Store) -> list[Check]:
    """Every check, in order; none raises on a damaged part (its line says what is wrong)."""
    return [_sqlite(store), _fts(store), *_vectors(store), _orphans(store), _journal(store), _watches(store)]


def _sqlite(store: Store) -> Check:
    rows = [r[0] for r in store.db.execute("PRAGMA integrity_check")]
    ok = rows == ["ok"]
    return Check("SQLite integrity_check", ok, "ok" if ok else "; ".join(rows[:3]), repairable=False)


def _fts(store: Store) -> Check:
    # FTS5's own consistency check of its index: a command spelled as an INSERT, so it needs a connection that
    # may write (it writes nothing); the store's own may be read-only
    own, failed = "integrity-check ok", False
    try:
        conn = sqlite3.connect(store.folder / DB_FILE, timeout=10)
        schema.register_functions(conn)  # the check reads the text back through the passage_lexical view
        try:
            conn.execute("INSERT INTO passages_fts(passages_fts, rank) VALUES ('integrity-check', 1)")  # 1: against the text too
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        failed = "readonly" not in str(exc) and "locked" not in str(exc)
        own = (f"integrity-check failed: {exc}" if failed else
               f"integrity-check skipped ({'read-only folder' if 'readonly' in str(exc) else 'a writer holds it'})")
    # the rows FTS5 has indexed are those of its own `docsize` table: reading passages_fts's rowids would read the
    # external content (the view), which lists every passage whatever the index holds. Counted even when FTS5's
    # own check failed: whether rows are missing or only their words differ says where the damage is.
    try:
        missing = store.db.execute("SELECT COUNT(*) FROM passages WHERE id NOT IN "
                                   "(SELECT id FROM passages_fts_docsize)").fetchone()[0]
        extra = store.db.execute("SELECT COUNT(*) FROM passages_fts_docsize WHERE id NOT IN "
                                 "(SELECT id FROM passages)").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return Check("FTS5 index", False, f"{own}; its rows cannot be read: {exc}")
    rows = "one row per passage" if not missing and not extra else \
        f"{missing} passages not indexed, {extra} rows for passages that are gone"
    ok = not missing and not extra and not failed
    return Check("FTS5 index", ok, f"{own}, {rows}" if ok or failed else rows)


def _vectors(store: Store) -> list[Check]:
    path = store.folder / VECTOR_FILE
    passages = np.fromiter((r[0] for r in store.db.execute("SELECT id FROM passages ORDER BY id")), np.int64)
    manifest = Manifest.read(store.folder / MANIFEST_FILE)
    if not path.exists():
        if store._target_kind(None) == "flat":  # kept in memory only, built from SQLite by whoever opens it
            return [Check("vector index", True, f"flat, built from SQLite's {len(passages)} vectors when opened "
                                                "(no file)"), _manifest(store, manifest, None)]
        return [Check("vector file", not len(passages), f"missing ({len(passages)} passages)")]
    try:
        index = VectorIndex.load(path)
    except StoreError as exc:
        return [Check("vector file", False, str(exc))]
    ids = np.sort(index.ids())
    same = len(ids) == len(passages) and bool(np.array_equal(ids, passages))
    missing = len(np.setdiff1d(passages, ids))
    vector_check = Check("vector file", same, f"{index.kind}, {len(ids)} vectors = passage ids" if same else
                         f"{missing} passages have no vector, {len(np.setdiff1d(ids, passages))} vectors no passage")
    return [vector_check, _manifest(store, manifest, index)]


def _manifest(store: Store, manifest: Manifest | None, index: VectorIndex | None) -> Check:
    """The manifest names this store and model and, when there is a vector file (`index`), describes it."""
    if manifest is None:
        return Check("manifest", False, "missing or unreadable")
    checks = [(manifest.store_id != store._meta("store_id"), "another store's"),
              (manifest.model_id != (store.model_id or ""), f"model {manifest.model_id}, store {store.model_id}")]
    if index is not None:
        checks += [(manifest.vectors != len(index), f"says {manifest.vectors} vectors, the file holds {len(index)}"),
                   (manifest.dim != index.dim, f"says dim {manifest.dim}, the file holds {index.dim}")]
    problems = [text for wrong, text in checks if wrong]
    checked = "this store, this model" + (
        f", {len(index)} vectors and dim {index.dim} as the file" if index is not None else "")
    return Check("manifest", not problems, "; ".join(problems) or checked)


def _orphans(store: Store) -> Check:
    tables = set(store.db.table_names())  # a store from before schema 4, read-only, has no watch tables
    counts = {name: store.db.execute(sql).fetchone()[0] for name, sql in ORPHANS.items()
              if "watch" not in sql or "watch_matches" in tables}
    found = {name: n for name, n in counts.items() if n}
    return Check("orphan rows", not found, ", ".join(f"{n} {name}" for name, n in found.items()) or "none")


def _journal(store: Store) -> Check:
    pending = store.clusters_to_recheck()
    return Check("story clusters", not pending, f"{len(pending)} wait for their re-check" if pending else
                 "none waits for a re-check")


def _watches(store: Store) -> Check:
    # articles journaled for matching and not matched yet are no damage: a crash came between the two commits,
    # and the next `news-index add` matches them first
    watches, pending = len(store.watches()), store.pending_count()
    return Check("watches", True, f"{watches} saved" + (f", {pending} new articles wait for matching (the next "
                                                         "`news-index add` matches them)" if pending else ""))
