"""`news-index backup DEST`: a consistent copy of a store while the server reads it and `news-index` writes it.

SQLite's online backup API copies one consistent snapshot of the database, whatever commits meanwhile (write-ahead
log included). The vector file is a cache of SQLite and is replaced atomically by writers, so the copy takes
whichever version is there and then brings it in line with the snapshot (ids added or removed from SQLite's own
vectors), as any writer does on open: the copy is a store of its own, searchable at once.
"""
from __future__ import annotations

import shutil
import sqlite3
import uuid
from dataclasses import replace
from pathlib import Path

from search.store.base import DB_FILE, MANIFEST_FILE, VECTOR_FILE
from search.store.errors import StoreError
from search.store.manifest import Manifest
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
    if (store.folder / VECTOR_FILE).exists():
        shutil.copy2(store.folder / VECTOR_FILE, dest / VECTOR_FILE)
    copy = Store.open(dest)
    own_id = uuid.uuid4().hex  # a store of its own: its manifest must not pass for the original's
    copy._set_meta("store_id", own_id)
    manifest = Manifest.read(store.folder / MANIFEST_FILE)
    if manifest is not None:  # the copied vector file is this copy's: trusted, then reconciled with the snapshot
        replace(manifest, store_id=own_id).write(dest / MANIFEST_FILE)
    copy.sync_vectors()
    return copy
