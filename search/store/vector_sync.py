"""The vector index as a cache of SQLite: loaded, patched or rebuilt to hold exactly SQLite's passage ids, and saved
with its manifest.

A flat index is kept in memory only: exact search needs nothing SQLite's float16 vectors lack, so each process
builds it from them when it opens the store (about 1.3 s per 130k passages here) and patches it as the store
changes, instead of keeping a second, float32 copy of every vector on disk (1,544 bytes per passage). HNSW graphs
and IVF codebooks cost minutes to build, so those are saved to the vector file.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from search.store import schema
from search.store.base import MANIFEST_FILE, VECTOR_FILE, StoreBase
from search.store.errors import StoreError
from search.store.index_tuning import Trial, Tuning, tune_index
from search.store.manifest import Manifest
from search.store.vectors import KINDS, PQ_MIN_TRAIN, VectorIndex, choose_kind, training_size


CHUNK_PASSAGES = 50_000  # vectors read from SQLite at a time when an index is built or measured: 77 MB float32


class VectorSync(StoreBase):
    """The store's vector index (`vectors`) and bringing its file in line with SQLite (`sync_vectors`)."""

    @property
    def vectors(self) -> VectorIndex:
        """The vector index, brought up to date when another process has synced it since it was read (every sync
        rewrites the manifest)."""
        with self._lock:
            synced = _stamp(self.folder / MANIFEST_FILE)
            if self._vectors is None or (self.readonly and synced != self._synced):
                self._synced = synced
                self._vectors = self._refreshed()
            return self._vectors

    def _refreshed(self) -> VectorIndex:
        """The index after a sync: the same one when its file has not changed, the file again when it has, and
        for a flat index (no file) a copy patched from SQLite (other threads may be searching the current one)."""
        current, file = self._vectors, _stamp(self.folder / VECTOR_FILE)
        if current is not None and file is not None and file == self._file_stamp:
            return current
        self._file_stamp = file
        saved = self._load_vector_file()
        if saved is None and current is not None and current.kind == "flat":
            saved = current.copy()
        if not self.readonly:
            kind = self._target_kind(None)
        elif saved is not None:  # a reader patches ids but keeps the index type: switching is the writer's job
            kind = saved.kind
        else:  # nothing saved (a flat index): the type the writer last synced, not one the count would pick
            manifest = Manifest.read(self.folder / MANIFEST_FILE)
            kind = manifest.index_type if manifest is not None else self._target_kind(None)
        vectors, _ = self._reconciled(saved, kind)
        return vectors

    def load_vectors(self) -> None:
        """Load the vector index now rather than at the first search (a flat one is built from SQLite, about 1 s
        per 100k passages). StoreError when its file is damaged, with the command that rebuilds it."""
        self.vectors

    def dense_search(self, queries: np.ndarray, k: int,
                     allowed: np.ndarray | None = None) -> list[list[tuple[int, float]]]:
        """Top-k (passage id, cosine) per (n, dim) query within `allowed` passage ids (None: all), with the
        store's search settings; an ivfpq index re-scores its candidates with SQLite's vectors."""
        return self.vectors.search(queries, k, allowed, exact=self.exact_vectors, settings=self.search_settings)

    def exact_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids found, in id order; their (n, dim) float32 vectors) from SQLite, the exact copies."""
        with self._lock:  # the connection is shared with the API's other threads
            return self._passage_vectors(np.asarray(ids, np.int64))

    def vector_chunks(self, size: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every (ids, (n, dim) float32 vectors) of SQLite's passages, `size` (default `CHUNK_PASSAGES`) at a
        time, in id order."""
        size = size or CHUNK_PASSAGES
        last = 0
        while True:
            with self._lock:
                rows = self.db.execute("SELECT id, vector FROM passages WHERE id > ? ORDER BY id LIMIT ?",
                                       [last, size]).fetchall()
            if not rows:
                return
            yield np.array([r[0] for r in rows], np.int64), self._decode_vectors([r[1] for r in rows])
            last = rows[-1][0]

    def tune_vector_search(self, target: float = 0.95, queries: int = 200, k: int = 10,
                           on_trial: Callable[[Trial], None] | None = None) -> Tuning:
        """Measure the index's knobs on `queries` of this store's passages, each with its article's passages left
        out (search/store/index_tuning.py), keep the cheapest setting reaching recall@k `target` for later
        searches, and return what was measured."""
        with self._lock:
            ids = self._passage_ids()
        if not len(ids):
            raise StoreError(f"the store in {self.folder} has no passages to measure the index on")
        sample = np.sort(np.random.default_rng(0).choice(ids, min(queries, len(ids)), replace=False))
        tuning = tune_index(self.vectors, self.exact_vectors, self.vector_chunks, sample, target, k, on_trial,
                            siblings=self._article_passages)
        self.set_search_settings(tuning.chosen.settings)
        return tuning

    def _article_passages(self, passage_id: int) -> np.ndarray:
        """The ids of every passage of `passage_id`'s article (itself included)."""
        with self._lock:
            rows = self.db.execute("""SELECT p2.id FROM passages p1 JOIN passages p2 ON p2.article_id = p1.article_id
                                      WHERE p1.id = ?""", [passage_id]).fetchall()
        return np.array([r[0] for r in rows] or [passage_id], np.int64)

    def sync_vectors(self, kind: str | None = None) -> VectorIndex:
        """Bring the vector file in line with SQLite (adds, removals, index type) and save it with its manifest.

        `kind` is flat, hnsw, ivf or auto (chosen from the passage count); None keeps the store's setting.
        """
        if self.readonly:
            raise StoreError("the store is open read-only")
        if kind is not None:
            self._set_meta("index_kind", kind)
        with self._lock:
            vectors, changed = self._reconciled(self._vectors or self._load_vector_file(), self._target_kind(kind))
            path = self.folder / VECTOR_FILE
            if vectors.kind == "flat":
                path.unlink(missing_ok=True)  # kept in memory only (module docstring)
            elif changed or self._merged_unsaved or not path.exists():
                vectors.save(path)
            self._merged_unsaved = False
            self._write_manifest(vectors)
            self._vectors = vectors
        if vectors.kind == "ivfpq" and self._meta("vector_search") is None:
            # IVF-PQ's generic defaults (nprobe 32) gave recall@10 0.45 at 1M vectors: measure once, when a store
            # first has such an index, rather than serve that until someone runs `tune-index`
            self.tune_vector_search()
        return vectors

    def vector_part_template(self, kind: str | None = None) -> bytes | None:
        """The index's trained, empty inverted file (`VectorIndex.part_template`) for workers to fill with new
        vectors, when the next `sync_vectors(kind)` keeps the current index (an IVF type that `kind`, or the
        store's setting, still asks for); None when it would add or rebuild from SQLite anyway."""
        if self.readonly:
            return None
        with self._lock:
            current = self.vectors
            return current.part_template() if current.kind == self._target_kind(kind) else None

    def merge_vector_parts(self, parts: Iterable[tuple[bytes, np.ndarray]]) -> int:
        """Take in parts filled from `vector_part_template` — (part, passage ids in its order) — for passages
        already written to SQLite; the next `sync_vectors` saves the file. Returns the vectors taken in;
        StoreError as `VectorIndex.merge_parts`."""
        with self._lock:
            self._merged_unsaved = True  # before: a part that fails leaves the ones before it merged
            return self.vectors.merge_parts(parts)

    def _target_kind(self, kind: str | None) -> str:
        requested = kind or self._meta("index_kind") or "auto"
        if requested != "auto" and requested not in KINDS:
            raise StoreError(f"unknown index type {requested!r}; use {', '.join(KINDS)} or auto")
        passages = self._count("passages")
        kind = choose_kind(passages) if requested == "auto" else requested
        if kind == "ivfpq" and passages < PQ_MIN_TRAIN:
            return "flat"  # too few passages to train the codes: exact search until there are (`stats`: asked)
        return kind

    def _load_vector_file(self) -> VectorIndex | None:
        """The saved index if it belongs to this store, else None (it is then rebuilt from SQLite). A damaged file
        is rebuilt by a writer; a reader refuses it with the command that rebuilds it (StoreError)."""
        manifest = Manifest.read(self.folder / MANIFEST_FILE)
        path = self.folder / VECTOR_FILE
        if manifest is None or manifest.store_id != self._meta("store_id") or not path.exists():
            return None
        try:
            return VectorIndex.load(path)  # its type from the file itself, not from a manifest that may lag
        except StoreError as exc:
            if self.readonly:
                raise StoreError(f"{exc}; rebuild it from SQLite (nothing is lost): "
                                 f"`news-index repair --store {self.folder}`") from exc
            return None

    def rebuild_vector_file(self) -> VectorIndex:
        """Write the vector file again from SQLite's passage vectors, whatever the old one holds."""
        with self._lock:
            self._vectors = None
            (self.folder / VECTOR_FILE).unlink(missing_ok=True)
            return self.sync_vectors()

    def _reconciled(self, current: VectorIndex | None, kind: str) -> tuple[VectorIndex, bool]:
        """`current` with exactly SQLite's passage ids (patched in place when possible, else rebuilt); and
        whether anything changed."""
        dim = int(self._meta("dim") or 0)
        if current is None or current.kind != kind or (dim and current.dim != dim):
            return self._build(kind, dim), True
        db_ids = self._passage_ids()
        have = current.ids()
        extra = np.setdiff1d(have, db_ids, assume_unique=True)
        missing = np.setdiff1d(db_ids, have, assume_unique=True)
        if len(extra) and not current.supports_remove:
            return self._build(kind, dim), True
        current.remove(extra)
        current.add(*self._passage_vectors(missing))
        return current, bool(len(extra) or len(missing))

    def _build(self, kind: str, dim: int) -> VectorIndex:
        """A new index of SQLite's vectors: trained (IVF types) on a sample drawn by id, then filled
        `vector_chunks` at a time, so memory holds the index, the sample and one chunk — never every float32
        vector at once (1.5 GB per million)."""
        ids = self._passage_ids()
        sample = np.zeros((0, dim or 1), np.float32)
        if kind in ("ivf", "ivfpq") and len(ids):
            drawn = np.random.default_rng(0).choice(ids, training_size(len(ids)), replace=False)
            sample = self._passage_vectors(np.sort(drawn))[1]
        index = VectorIndex.empty(kind, dim or 1, len(ids), sample)
        for chunk_ids, vectors in self.vector_chunks():
            index.add(chunk_ids, vectors)
        return index

    def _passage_ids(self) -> np.ndarray:
        return np.fromiter((r[0] for r in self.db.execute("SELECT id FROM passages ORDER BY id")), np.int64)

    def _passage_vectors(self, ids: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) from SQLite for `ids`, or for every passage when None."""
        if ids is not None and len(ids) == 0:
            return np.zeros(0, np.int64), np.zeros((0, int(self._meta("dim") or 1)), np.float32)
        sql, params = "SELECT id, vector FROM passages", []
        if ids is not None:
            sql, params = sql + " WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(ids.tolist())]
        rows = self.db.execute(sql + " ORDER BY id", params).fetchall()
        return np.array([r[0] for r in rows], np.int64), self._decode_vectors([r[1] for r in rows])

    def _write_manifest(self, vectors: VectorIndex) -> None:
        Manifest(store_id=self._meta("store_id") or "", model_id=self.model_id or "",
                 model_name=self._meta("model_name") or "", schema_version=schema.SCHEMA_VERSION,
                 dim=vectors.dim, index_kind=self._meta("index_kind") or "auto", index_type=vectors.kind,
                 vectors=len(vectors), vector_file="" if vectors.kind == "flat" else VECTOR_FILE,
                 updated_at=datetime.now(timezone.utc).isoformat(timespec="seconds")).write(self.folder / MANIFEST_FILE)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """(modification time in ns, size, inode) of a file, None when missing: files are replaced by renaming, so
    any rewrite changes it, even within one tick of a coarse clock."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino
