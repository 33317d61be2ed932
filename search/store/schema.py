"""The SQLite schema: the only place tables, columns and indexes are defined."""
from __future__ import annotations

import sqlite3

import numpy as np
import sqlite_utils

from search.store.records import passage_text
from search.terms import lexical_text

SCHEMA_VERSION = 5  # 2: CJK runs indexed as character pairs in passages_fts (search/terms.py); 3: vectors in
# SQLite as float16 (`meta.vector_dtype`; the vector file, a cache, is rebuilt from them); 4: saved searches
# (`watches`, their `watch_matches` and the `watch_pending` journal; search/store/watches.py); 5: the article text
# kept once — passages are offsets into it and FTS5 reads them through the `passage_lexical` view — and mentions
# kept in article order without a rowid
READABLE_VERSIONS = (1, 2, 3, 4, 5)  # an older store is searched as it is and brought to 5 when opened for writing
VECTOR_DTYPE = "float16"
AUTO_VACUUM_INCREMENTAL = 2  # SQLite's `PRAGMA auto_vacuum` value: free pages kept until `incremental_vacuum`

# FTS5 "external content" (https://sqlite.org/fts5.html#external_content_tables): the index keeps no copy of the
# text; what it needs back — to delete a row, for `rebuild` and `integrity-check` — it reads from this view, which
# cuts each passage out of its article and applies `lexical_text` (SQL functions from `register_functions`).
# A row must leave passages_fts before its passage or article changes, or FTS5 would delete the wrong words.
CREATE_LEXICAL_VIEW = """CREATE VIEW IF NOT EXISTS passage_lexical (id, title, text) AS
    SELECT p.id, lexical_text(a.title), lexical_text(passage_text(a.title, a.body, p.start, p."end"))
    FROM passages p JOIN articles a ON a.id = p.article_id"""
# Mentions never overlap within an article (indexer/derive.py keeps the surer of two), so (article, start) is a
# key: stored in that order, the table is its own index for an article's mentions and a passage's.
CREATE_MENTIONS = """CREATE TABLE {name} (
    article_id TEXT NOT NULL REFERENCES articles(id), entity_id INTEGER NOT NULL REFERENCES entities(id),
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, score REAL NOT NULL, PRIMARY KEY (article_id, start)
    ) WITHOUT ROWID"""
CREATE_FTS = ("CREATE VIRTUAL TABLE passages_fts USING fts5(title, text, content='passage_lexical', "
              "content_rowid='id', tokenize='porter unicode61')")


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions the `passage_lexical` view calls; every connection that may write to passages_fts or
    check it needs them."""
    conn.create_function("lexical_text", 1, lexical_text, deterministic=True)
    conn.create_function("passage_text", 4, passage_text, deterministic=True)

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


def create(db: sqlite_utils.Database) -> int | None:
    """Create the tables on an empty database, or bring an older readable one up to date (idempotent); returns
    the version the store had (None: a new store). A store of a version this code does not know is left
    untouched (`Store.open` refuses it)."""
    stored = _stored_version(db)
    if stored is not None and stored not in READABLE_VERSIONS:
        return stored
    if stored is None and not db.table_names():
        # before the first table, the only time it can be set without rewriting the file: pages an indexing run
        # frees (replaced rows, FTS5 segment merges; 7% of a fresh sample store) can then go back to the disk
        db.execute(f"PRAGMA auto_vacuum={AUTO_VACUUM_INCREMENTAL}")
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
            position INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, topic TEXT,
            vector BLOB NOT NULL)""")
        db["passages"].create_index(["article_id", "position"])
    if "entities" not in db.table_names():
        db.execute("""CREATE TABLE entities (id INTEGER PRIMARY KEY, name TEXT NOT NULL COLLATE NOCASE,
            label TEXT NOT NULL, UNIQUE(name, label))""")
    if "article_entities" not in db.table_names():
        db.execute(CREATE_MENTIONS.format(name="article_entities"))
        db["article_entities"].create_index(["entity_id", "article_id"])
    if "passages_fts" not in db.table_names():
        db.execute(CREATE_LEXICAL_VIEW)
        db.execute(CREATE_FTS)
    if "clusters_to_recheck" not in db.table_names():  # story clusters to re-check (indexer/clusters.py)
        db.execute("CREATE TABLE clusters_to_recheck (cluster_id TEXT PRIMARY KEY)")
    create_watch_tables(db.conn)
    if stored is None:
        db["meta"].upsert({"key": "vector_dtype", "value": VECTOR_DTYPE}, pk="key")
    elif stored < 3:
        halve_vectors(db)
    if stored is not None and stored < 5:
        _mentions_without_rowid(db)
        refill_lexical(db)  # also drops the passages' own copy of their text
    db["meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")
    if stored is not None and stored < 5:
        _vacuum(db)
    return stored


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
    versions 1–4 (which also drops the passages' own text column: the text is cut from the article), and
    `news-index repair`."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")  # sqlite3 opens no transaction for DDL by itself: without this the DROP
    try:  # would commit alone, and a crash before the refill ends would leave an empty index
        conn.execute("DROP TABLE IF EXISTS passages_fts")  # dropped, not emptied: a damaged index may fail to
        if "text" in db["passages"].columns_dict:  # delete its own rows
            conn.execute("ALTER TABLE passages DROP COLUMN text")
        conn.execute(CREATE_LEXICAL_VIEW)
        conn.execute(CREATE_FTS)
        conn.execute("INSERT INTO passages_fts (passages_fts) VALUES ('rebuild')")
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


def _mentions_without_rowid(db: sqlite_utils.Database) -> None:
    """Versions 1–4 → 5: article_entities as a WITHOUT ROWID table keyed by (article, start), in one commit;
    its separate (article_id, start) index goes."""
    if "WITHOUT ROWID" in db["article_entities"].schema:
        return
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")  # the CREATE too: sqlite3 would commit DDL alone
        db.execute(CREATE_MENTIONS.format(name="article_entities_by_article"))
        db.execute("""INSERT OR IGNORE INTO article_entities_by_article
                      SELECT article_id, entity_id, start, "end", score FROM article_entities""")
        db.execute("DROP TABLE article_entities")
        db.execute("ALTER TABLE article_entities_by_article RENAME TO article_entities")
        db.execute("CREATE INDEX idx_article_entities_entity_id_article_id ON article_entities (entity_id, article_id)")


def _vacuum(db: sqlite_utils.Database) -> None:
    """Give the pages a migration freed back to the disk. Only space is at stake: when another process holds
    the store, the free pages are reused by later writes instead."""
    try:
        db.execute(f"PRAGMA auto_vacuum={AUTO_VACUUM_INCREMENTAL}")  # takes effect with the VACUUM, as on new stores
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # in WAL mode VACUUM writes the new file into the log
    except sqlite3.OperationalError:
        pass
