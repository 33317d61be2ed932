"""`news-index backup DEST`: a consistent copy of a store while the server reads it and `news-index` writes it.

SQLite's online backup API copies one consistent snapshot of the database, whatever commits meanwhile (write-ahead
log included). The vector file is a cache of SQLite and is replaced atomically by writers, so the copy takes
whichever version is there and then brings it in line with the snapshot (ids added or removed from SQLite's own
vectors), as any writer does on open: the copy is a store of its own, searchable at once.
"""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from search.store.base import DB_FILE, MANIFEST_FILE, VECTOR_FILE
from search.store.errors import StoreError
from search.store.store import Store


def backup(store: Store, dest: str | Path) -> Store:
    """Copy `store` into the new or empty folder `dest`; returns the copy, open for writing. StoreError when
    `dest` holds files already."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise StoreError(f"{dest} is not empty: give a new folder for the backup")
    dest.mkdir(parents=True, exist_ok=True)
    target = sqlite3.connect(dest / DB_FILE)
    try:
        with store._lock:
            store.db.conn.backup(target)
    finally:
        target.close()
    for name in (VECTOR_FILE, MANIFEST_FILE):
        if (store.folder / name).exists():
            shutil.copy2(store.folder / name, dest / name)
    copy = Store.open(dest)
    copy.sync_vectors()
    return copy
