"""The SQLite schema: the only place tables, columns and indexes are defined."""
from __future__ import annotations

import sqlite3

import numpy as np
import sqlite_utils

from search.terms import lexical_text

SCHEMA_VERSION = 4  # 2: CJK runs indexed as character pairs in passages_fts (search/terms.py); 3: vectors in
# SQLite as float16 (`meta.vector_dtype`; the vector file, a cache, is rebuilt from them); 4: saved searches
# (`watches`, their `watch_matches` and the `watch_pending` journal; search/store/watches.py)
READABLE_VERSIONS = (1, 2, 3, 4)  # an older store is searched as it is and brought to 4 when opened for writing
VECTOR_DTYPE = "float16"


CREATE_FTS = "CREATE VIRTUAL TABLE passages_fts USING fts5(title, text, tokenize='porter unicode61')"

# Saved searches ("watches"), their matches and the journal of articles still to match. `IF NOT EXISTS`: the API
# server, whose store connection is read-only, creates them through a short write connection of its own when a
# store from before version 4 gets its first watch (search/store/watches.py), without migrating anything else.
WATCH_TABLES = (
    # AUTOINCREMENT: a deleted watch's id is never reused, so an old feed URL never shows another watch
    """CREATE TABLE IF NOT EXISTS watches (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
        query TEXT NOT NULL, filters TEXT NOT NULL, min_score REAL NOT NULL, webhook TEXT, model_id TEXT NOT NULL,
        vector BLOB NOT NULL, created_at TEXT NOT NULL, webhook_error TEXT)""",
    # one row per (watch, article): re-indexing an article never records it twice
    """CREATE TABLE IF NOT EXISTS watch_matches (watch_id INTEGER NOT NULL REFERENCES watches(id),
        article_id TEXT NOT NULL REFERENCES articles(id), score REAL NOT NULL, matched_at TEXT NOT NULL,
        delivered_at TEXT, PRIMARY KEY (watch_id, article_id))""",
    "CREATE INDEX IF NOT EXISTS watch_matches_by_time ON watch_matches (watch_id, matched_at)",
    # articles written by `news-index add` and not yet matched: journaled with the write, cleared with the matches
    "CREATE TABLE IF NOT EXISTS watch_pending (article_id TEXT PRIMARY KEY)",
)


def create(db: sqlite_utils.Database) -> None:
    """Create the tables on an empty database, or bring an older readable one up to date (idempotent).
    A store of a version this code does not know is left untouched (`Store.open` refuses it)."""
    stored = _stored_version(db)
    if stored is not None and stored not in READABLE_VERSIONS:
        return
    db.execute("PRAGMA journal_mode=WAL")
    if "meta" not in db.table_names():
        db["meta"].create({"key": str, "value": str}, pk="key")
    if "articles" not in db.table_names():
        db["articles"].create({
            "id": str, "title": str, "body": str, "published_at": str, "published_date": str, "source": str,
            "url": str, "categories": str, "extra": str, "content_hash": str, "model_id": str, "topic": str,
            "topics": str, "cluster_id": str, "vector": bytes, "indexed_at": str,
        }, pk="id", not_null={"title", "body", "content_hash"})
        for cols in (["topic"], ["source"], ["published_date"], ["cluster_id"], ["model_id"]):
            db["articles"].create_index(cols)
    if "passages" not in db.table_names():
        # AUTOINCREMENT: a deleted passage's id is never reused, so a stale vector can never alias a new passage.
        db.execute("""CREATE TABLE passages (
            id INTEGER PRIMARY KEY AUTOINCREMENT, article_id TEXT NOT NULL REFERENCES articles(id),
            position INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
            topic TEXT, vector BLOB NOT NULL)""")
        db["passages"].create_index(["article_id", "position"])
    if "entities" not in db.table_names():
        db.execute("""CREATE TABLE entities (id INTEGER PRIMARY KEY, name TEXT NOT NULL COLLATE NOCASE,
            label TEXT NOT NULL, UNIQUE(name, label))""")
    if "article_entities" not in db.table_names():
        db.execute("""CREATE TABLE article_entities (
            article_id TEXT NOT NULL REFERENCES articles(id), entity_id INTEGER NOT NULL REFERENCES entities(id),
            start INTEGER NOT NULL, "end" INTEGER NOT NULL, score REAL NOT NULL)""")
        db["article_entities"].create_index(["article_id", "start"])
        db["article_entities"].create_index(["entity_id", "article_id"])
    if "passages_fts" not in db.table_names():
        db.execute(CREATE_FTS)
    if "clusters_to_recheck" not in db.table_names():  # story clusters to re-check (indexer/clusters.py)
        db.execute("CREATE TABLE clusters_to_recheck (cluster_id TEXT PRIMARY KEY)")
    create_watch_tables(db.conn)
    if stored == 1:
        refill_lexical(db)
    if stored is None:
        db["meta"].upsert({"key": "vector_dtype", "value": VECTOR_DTYPE}, pk="key")
    elif stored < 3:
        halve_vectors(db)
    db["meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")


def create_watch_tables(conn: sqlite3.Connection) -> None:
    """The watch tables, where missing (idempotent; inside the caller's transaction when one is open)."""
    for statement in WATCH_TABLES:
        conn.execute(statement)


def _stored_version(db: sqlite_utils.Database) -> int | None:
    if "meta" not in db.table_names():
        return None
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else None


def halve_vectors(db: sqlite_utils.Database) -> None:
    """Version 2 → 3: every passage and article vector from float32 to float16 blobs, in one commit. Cosines of
    unit vectors move by less than 1e-3; the bytes per vector halve."""
    dtype = db.execute("SELECT value FROM meta WHERE key = 'vector_dtype'").fetchone()
    if dtype is not None and dtype[0] == VECTOR_DTYPE:
        return
    with db.conn:
        for table in ("passages", "articles"):
            rows = db.execute(f"SELECT rowid, vector FROM {table} WHERE vector IS NOT NULL").fetchall()
            db.conn.executemany(f"UPDATE {table} SET vector = ? WHERE rowid = ?",
                                [(np.frombuffer(v, np.float32).astype(VECTOR_DTYPE).tobytes(), i) for i, v in rows])
        db["meta"].upsert({"key": "vector_dtype", "value": VECTOR_DTYPE}, pk="key")


def refill_lexical(db: sqlite_utils.Database) -> None:
    """Index every passage in FTS5 again as `lexical_text` (no model needed), in one commit: the migration from
    version 1, and `news-index repair`."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")  # sqlite3 opens no transaction for DDL by itself: without this the DROP
    try:  # would commit alone, and a crash before the refill ends would leave an empty index
        conn.execute("DROP TABLE IF EXISTS passages_fts")  # dropped, not emptied: a damaged index may fail to
        conn.execute(CREATE_FTS)  # delete its own rows
        rows = conn.execute("SELECT p.id, a.title, p.text FROM passages p JOIN articles a ON a.id = p.article_id")
        conn.executemany("INSERT INTO passages_fts (rowid, title, text) VALUES (?, ?, ?)",
                         [(i, lexical_text(t), lexical_text(x)) for i, t, x in rows])
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
