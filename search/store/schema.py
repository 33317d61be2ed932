"""The SQLite schema: the only place tables, columns and indexes are defined."""
from __future__ import annotations

import sqlite_utils

SCHEMA_VERSION = 1


def create(db: sqlite_utils.Database) -> None:
    """Create the tables on an empty database (idempotent)."""
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
        db.execute("CREATE VIRTUAL TABLE passages_fts USING fts5(title, text, tokenize='porter unicode61')")
    db["meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")
