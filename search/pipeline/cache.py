"""Caches that make a repeated search cost a dictionary lookup: whole responses, and query vectors.

A response is keyed by everything that shapes it — the normalised query (case and spacing do not change what the
uncased encoder and FTS5 see), the filters, paging, rerank / answer / fusion options, the model and the ranking
settings the search runs with — and by the store's version
(`Store.version`: SQLite's `data_version`, which moves when *another* process commits, e.g. `news-index add`, this
connection's own changes, and the vector file's time), so an update anywhere invalidates every older entry
without a message between processes. Least-recently-used entries go first (`cachetools.LRUCache`, guarded by a
lock: FastAPI serves searches from a thread pool).
"""
from __future__ import annotations

import json
import threading
from dataclasses import asdict
from typing import Generic, Hashable, TypeVar

from cachetools import LRUCache

from search.pipeline.records import SearchRequest

V = TypeVar("V")


def normalise_query(query: str) -> str:
    """Lowercased, whitespace runs as one space, no spaces at the ends."""
    return " ".join(query.lower().split())


def request_key(request: SearchRequest, model: Hashable, store_version: Hashable) -> str:
    """The cache key of a validated request, run by `model` (its id and effective settings) against one version
    of the store."""
    fields = asdict(request) | {"query": normalise_query(request.query)}
    return json.dumps([fields, model, store_version], sort_keys=True, default=str)


class LockedLRU(Generic[V]):
    """A thread-safe LRU map with a fixed number of entries (0 = caching off)."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"cache size must be >= 0, got {size}")
        self._cache: LRUCache | None = LRUCache(maxsize=size) if size else None
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        if self._cache is None:
            return None
        with self._lock:
            return self._cache.get(key)

    def put(self, key: Hashable, value: V) -> None:
        if self._cache is not None:
            with self._lock:
                self._cache[key] = value

    def __len__(self) -> int:
        return 0 if self._cache is None else len(self._cache)
