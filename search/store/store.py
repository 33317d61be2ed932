"""The store: one folder with the SQLite database (truth), the FAISS vector file (a cache of it, for HNSW and IVF
indexes; a flat index lives in memory only) and the manifest.

SQLite keeps every passage vector too, so the vector index can always be brought back in line with it: after a
crash, when the index type changes, or when a reader opens a store another process is still writing.
Readers open SQLite read-only in WAL mode, so searching while `news-index` writes is safe. The parts, one job each:
search/store/base.py (connection, model, meta), vector_sync.py, writes.py, reads.py, watches.py.
"""
from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import sqlite_utils

from search.store import schema
from search.store.base import DB_FILE, MANIFEST_FILE, VECTOR_FILE
from search.store.errors import StoreError
from search.store.reads import KNOWN_KINDS, Reads
from search.store.vector_sync import VectorSync
from search.store.watches import Watches
from search.store.writes import ArticleWrites

__all__ = ["Store", "DB_FILE", "VECTOR_FILE", "MANIFEST_FILE", "KNOWN_KINDS"]


class Store(VectorSync, ArticleWrites, Reads, Watches):
    """Reads for search and the API; writes (`replace_articles`, `delete_articles`, `sync_vectors`) for the indexer;
    saved searches and their matches (`Watches`, search/store/watches.py)."""

    # ---- opening ------------------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: str | Path, readonly: bool = False, create: bool = False) -> "Store":
        """Open the store in `folder`; `create` makes an empty one there if there is none."""
        folder = Path(folder)
        path = folder / DB_FILE
        if not path.exists():
            if not create:
                raise StoreError(f"no store at {folder}; build one with `news-index add PATH --store {folder}`")
            folder.mkdir(parents=True, exist_ok=True)
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            conn = sqlite3.connect(path, check_same_thread=False)
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        # SQLite's NOCASE folds ASCII letters only; entity names ("Örebro", "Émile Durand") are matched through
        # Python's casefold when a value is not plain ASCII (search/store/filters.py)
        conn.create_function("casefold", 1, _casefold, deterministic=True)
        schema.register_functions(conn)
        db = sqlite_utils.Database(conn)
        stored = None
        try:
            if not readonly:
                stored = schema.create(db)
            version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError as exc:  # a read-only folder, a full disk: the file may be fine
            raise StoreError(f"cannot open the store in {folder} for writing: {exc}; free disk space or make the "
                             "folder writable") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a newsearch store ({exc})") from exc
        if version is None or int(version[0]) not in schema.READABLE_VERSIONS:
            raise StoreError(f"{path} has schema version {version and version[0]}, this newsearch needs "
                             f"{schema.SCHEMA_VERSION}; index the articles again into a new --store folder")
        store = cls(folder, db, readonly)
        if stored is not None and stored < schema.SCHEMA_VERSION:
            store.upgraded_from = stored
        if not readonly and store._meta("store_id") is None:
            store._set_meta("store_id", uuid.uuid4().hex)
        return store


def _casefold(value: str | None) -> str | None:
    return value.casefold() if isinstance(value, str) else value
