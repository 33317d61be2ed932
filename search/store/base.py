"""What every part of the store shares: the folder, the SQLite connection and its lock, the model the vectors
come from, the alias table, and the `meta` table."""
from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

import numpy as np
import sqlite_utils

from search.store.errors import StoreError, is_busy
from search.store.names import Names
from search.store.vectors import SearchSettings, VectorIndex

DB_FILE = "store.db"
VECTOR_FILE = "vectors.faiss"
MANIFEST_FILE = "manifest.json"


class StoreBase:
    """The state the store's parts (search/store/{vector_sync,writes,reads}.py) work on; `Store` joins them."""

    def __init__(self, folder: Path, db: sqlite_utils.Database, readonly: bool) -> None:
        self.folder = folder
        self.db = db
        self.readonly = readonly
        self._lock = threading.RLock()  # one Store per API process, shared by its worker threads
        self._vectors: VectorIndex | None = None
        self._synced: tuple[int, int, int] | None = None  # the manifest's stamp when `_vectors` was brought up to date
        self._file_stamp: tuple[int, int, int] | None = None  # the vector file's, when it was last read
        self._merged_unsaved = False  # vector parts were merged into `_vectors` since the file was written
        self._names: tuple[str, Names] | None = None  # (the meta value it was read from, the rules)
        self.upgraded_from: int | None = None  # the schema version this open converted the store from

    def close(self) -> None:
        """Close the SQLite connection."""
        self.db.conn.close()

    # ---- model --------------------------------------------------------------------------------------
    @property
    def model_id(self) -> str | None:
        """The checkpoint every passage vector in this store came from (None while empty)."""
        return self._meta("model_id")

    def check_model(self, model_id: str) -> None:
        """Refuse a model other than the one that built the store: its vectors would not be comparable."""
        built = self.model_id
        if built is not None and built != model_id:
            raise StoreError(f"the store in {self.folder} was built with model {built}, not {model_id}; "
                             f"run `news-index rebuild --store {self.folder}` to re-index it with this model")

    @property
    def names(self) -> Names:
        """The canonical-name rules with this store's alias table (search/store/names.py)."""
        raw = self._meta("aliases") or "{}"
        if self._names is None or self._names[0] != raw:  # another process may have added aliases
            self._names = (raw, Names(json.loads(raw)))
        return self._names[1]

    def add_aliases(self, aliases: dict[str, str]) -> None:
        """Add to (or change) the store's alias table: alias -> canonical entity name, for the articles indexed
        from now on and for filter values."""
        with self._lock:
            self._set_meta("aliases", json.dumps({**self.names.extra, **aliases}, ensure_ascii=False))

    @property
    def search_settings(self) -> SearchSettings:
        """The vector index's search-time knobs for this store (`news-index tune-index` chooses and sets them)."""
        raw = self._meta("vector_search")
        return SearchSettings(**json.loads(raw)) if raw else SearchSettings()

    def set_search_settings(self, settings: SearchSettings) -> None:
        """Keep these knobs for every later search of this store, in any process."""
        self._set_meta("vector_search", json.dumps(asdict(settings)))

    def set_model(self, model_id: str, name: str) -> None:
        """Record the checkpoint (fingerprint and name) the store's vectors come from."""
        self._set_meta("model_id", model_id)
        self._set_meta("model_name", name)

    def version(self) -> tuple[int, int, float | None]:
        """Changes whenever what a search can return may have changed: SQLite's `data_version` (moves when another
        connection, e.g. another process's `news-index add`, commits), this connection's own row changes, and the
        manifest's modification time (every vector sync rewrites it). For cache keys (search/pipeline/cache.py)."""
        with self._lock:
            data_version = int(self.db.execute("PRAGMA data_version").fetchone()[0])
            return data_version, self.db.conn.total_changes, self._file_mtime(MANIFEST_FILE)

    # ---- small helpers ------------------------------------------------------------------------------
    def _count(self, table: str) -> int:
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def _meta(self, key: str) -> str | None:
        with self._lock:  # the connection is shared with the lexical retriever's thread
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    @property
    def vector_dtype(self) -> np.dtype:
        """How the vectors in SQLite are stored (float32 before schema 3). Read each time: a writer may convert
        an older store while a reader has it open."""
        return np.dtype(self._meta("vector_dtype") or "float32")

    def _decode_vectors(self, blobs: list[bytes]) -> np.ndarray:
        """(n, dim) float32 vectors from SQLite blobs, in the store's `vector_dtype` (float32 before schema 3)."""
        dim = int(self._meta("dim") or 1)
        return np.frombuffer(b"".join(blobs), self.vector_dtype).reshape(len(blobs), dim).astype(np.float32)

    def _blob(self, vector: np.ndarray, dtype: np.dtype) -> bytes:
        """A vector as the store keeps it in SQLite (`dtype`: `vector_dtype`, read once per write)."""
        return np.ascontiguousarray(vector, dtype).tobytes()

    def _set_meta(self, key: str, value: str, commit: bool = True) -> None:
        if not commit:  # inside the caller's transaction
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])
            return
        with self._writing():
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    @contextmanager
    def _writing(self, immediate: bool = False) -> Iterator[None]:
        """One write transaction under the lock. SQLite's own failures to write — a full disk, a read-only
        folder, another process holding the store past the busy timeout — roll it back and become a StoreError
        that says what to do; what earlier transactions committed stays. `immediate` takes SQLite's write lock
        before the first statement, so what the transaction reads first cannot change before it writes."""
        with self._lock:
            try:
                with self.db.conn:
                    # begun explicitly: sqlite-utils' `Database.execute` commits a write statement that opened a
                    # transaction by itself (sqlite-utils 4), so relying on sqlite3's implicit BEGIN made every
                    # statement its own commit, and a crash mid-batch left an article's passages without their
                    # FTS5 rows (found by SIGKILLs in tests/store/test_writes.py)
                    self.db.conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
                    yield
            except sqlite3.OperationalError as exc:
                raise StoreError(f"cannot write the store in {self.folder}: {exc}; free disk space or make the "
                                 "folder writable, then run the same command again (nothing committed is lost)",
                                 busy=is_busy(exc)) from exc

    def _file_mtime(self, name: str) -> float | None:
        try:
            return (self.folder / name).stat().st_mtime
        except OSError:
            return None
