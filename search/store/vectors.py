"""The FAISS vector index over passage ids: build, search with an allow-list, save atomically.

The index is an `IndexIDMap2` whose ids are SQLite passage ids. SQLite also keeps every vector, so this file
is a rebuildable cache: the store reconciles it with SQLite after a crash or when the index type changes.
"""
from __future__ import annotations

import math
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import faiss
import numpy as np

from search.store.errors import StoreError

KINDS = ("flat", "hnsw", "ivf")
HNSW_FROM = 200_000  # passages; below this exact flat search is fast enough on CPU
IVF_FROM = 2_000_000  # above this HNSW's memory and build time grow too much
HNSW_M = 32
HNSW_EF_SEARCH = 128
IVF_NPROBE = 32


def choose_kind(n: int) -> str:
    """The index type for a corpus of `n` passages when the user did not pick one."""
    return "flat" if n < HNSW_FROM else "hnsw" if n < IVF_FROM else "ivf"


class VectorIndex:
    """Inner-product search over L2-normalised passage vectors, keyed by passage id."""

    def __init__(self, index: faiss.Index, kind: str, dim: int) -> None:
        self.index = index
        self.kind = kind
        self.dim = dim
        self._gpu: faiss.Index | None = None  # search mirror on a GPU, dropped on every write
        self._gpu_lock = threading.Lock()  # FAISS GPU indexes are not thread-safe; API threads share this one

    # ---- building -----------------------------------------------------------------------------------
    @classmethod
    def build(cls, kind: str, dim: int, ids: np.ndarray, vectors: np.ndarray) -> "VectorIndex":
        """A fresh index of `kind` holding `vectors` under `ids` (IVF is trained on them)."""
        if kind not in KINDS:
            raise StoreError(f"unknown index type {kind!r}; use one of {', '.join(KINDS)}")
        n = len(ids)
        if kind == "flat":
            inner: faiss.Index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = 80
        else:
            nlist = max(1, min(int(4 * math.sqrt(max(n, 1))), n // 39))
            inner = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            inner = _trained(inner, _train_sample(vectors) if n else np.zeros((1, dim), np.float32))
        index = cls(faiss.IndexIDMap2(inner), kind, dim)
        index._tune()
        index.add(ids, vectors)
        return index

    @classmethod
    def load(cls, path: Path, kind: str | None = None) -> "VectorIndex":
        """The index saved at `path`; StoreError when unreadable. `kind` defaults to the type the file holds,
        which stays right even when a reader catches a new vector file before the writer's new manifest."""
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise StoreError(f"the vector file {path} is damaged ({str(exc).splitlines()[0][-80:]})") from exc
        vectors = cls(index, kind or _kind_of(index), index.d)
        vectors._tune()
        return vectors

    def _tune(self) -> None:
        """Set the search-time knobs (HNSW efSearch, IVF nprobe), which the file format does not keep."""
        inner = faiss.downcast_index(self.index.index)
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        elif isinstance(inner, faiss.IndexIVF):
            inner.nprobe = min(IVF_NPROBE, inner.nlist)

    # ---- writing ------------------------------------------------------------------------------------
    @property
    def supports_remove(self) -> bool:
        """Whether ids can be dropped in place."""
        return self.kind != "hnsw"  # FAISS HNSW graphs cannot drop nodes; the store rebuilds instead

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add (n, dim) vectors under their passage ids."""
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, np.float32), np.asarray(ids, np.int64))
            self._gpu = None

    def remove(self, ids: np.ndarray) -> None:
        """Drop these passage ids (not for HNSW: see `supports_remove`)."""
        if len(ids):
            self.index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, np.int64)))
            self._gpu = None

    def ids(self) -> np.ndarray:
        """Every passage id the index holds."""
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def save(self, path: Path) -> None:
        """Write to a temporary name and rename, so a reader never sees half a file."""
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self.index, str(tmp))  # always the CPU index: the file format is the same everywhere
        os.replace(tmp, path)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    # ---- reading ------------------------------------------------------------------------------------
    def search(self, queries: np.ndarray, k: int,
               allowed: np.ndarray | None = None) -> list[list[tuple[int, float]]]:
        """Top-k (passage id, inner product) per query; `allowed` restricts the candidates before top-k."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), np.float32)
        if (allowed is not None and len(allowed) == 0) or len(self) == 0 or k <= 0:
            return [[] for _ in range(len(queries))]
        k = min(k, len(self))
        with _one_omp_thread(len(queries) == 1):
            if allowed is not None:  # selectors are a CPU feature
                params = self._params(faiss.IDSelectorBatch(np.asarray(allowed, np.int64)))
                scores, ids = self.index.search(queries, k, params=params)
            else:
                index = self._search_index()
                if index is self.index:  # CPU indexes take concurrent searches
                    scores, ids = index.search(queries, k)
                else:
                    with self._gpu_lock:
                        scores, ids = index.search(queries, k)
        return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0]
                for row_ids, row_scores in zip(ids, scores)]

    def _params(self, selector: faiss.IDSelector) -> faiss.SearchParameters:
        """Search parameters of the inner index's own type (IVF and HNSW refuse the generic ones)."""
        inner = faiss.downcast_index(self.index.index)
        if isinstance(inner, faiss.IndexIVF):
            return faiss.SearchParametersIVF(sel=selector, nprobe=inner.nprobe)
        if isinstance(inner, faiss.IndexHNSW):
            return faiss.SearchParametersHNSW(sel=selector, efSearch=inner.hnsw.efSearch)
        return faiss.SearchParameters(sel=selector)

    def _search_index(self) -> faiss.Index:
        """The GPU mirror when faiss has GPU support and a GPU is present, else the CPU index."""
        if not searches_on_gpu(self.kind):
            return self.index
        with self._gpu_lock:  # several API threads may arrive first at once: copy to the GPU only once
            if self._gpu is None:
                self._gpu = faiss.index_cpu_to_all_gpus(self.index)
            return self._gpu


def _kind_of(index: faiss.Index) -> str:
    """flat, hnsw or ivf: what an `IndexIDMap2` read from a file wraps."""
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "ivf" if isinstance(inner, faiss.IndexIVF) else "flat"


@contextmanager
def _one_omp_thread(active: bool) -> Iterator[None]:
    """Run a single-query search on one OpenMP thread, then restore the thread's setting. faiss parallelises a
    search over its queries, so for one query the other threads only add start-up cost: flat batch-1 search on
    2 cores measured 13.5 vs 18.3 ms p50 at 100k vectors and 121 vs 176 ms at 1M. OpenMP keeps this setting per
    calling thread, so concurrent requests and the encoder's threads elsewhere are untouched."""
    if not active:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def searches_on_gpu(kind: str) -> bool:
    """Whether unfiltered searches of an index of `kind` run on a GPU mirror: faiss with GPU support, a GPU,
    and not HNSW (faiss has no GPU HNSW). Filtered searches stay on the CPU, where ID selectors exist."""
    return kind != "hnsw" and _gpus() > 0


def _gpus() -> int:
    """GPUs FAISS can use (0 with a CPU-only build)."""
    return faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0


def _trained(inner: faiss.Index, sample: np.ndarray) -> faiss.Index:
    """Train IVF centroids, on a GPU when there is one (k-means is the slow part of building IVF)."""
    if not _gpus():
        inner.train(sample)
        return inner
    gpu = faiss.index_cpu_to_all_gpus(inner)
    gpu.train(sample)
    return faiss.index_gpu_to_cpu(gpu)


def _train_sample(vectors: np.ndarray) -> np.ndarray:
    """IVF training sample: at most 256 points per list is what FAISS needs."""
    vectors = np.ascontiguousarray(vectors, np.float32)
    limit = 256 * 4 * int(math.sqrt(len(vectors))) or len(vectors)
    if len(vectors) <= limit:
        return vectors
    rng = np.random.default_rng(0)
    return vectors[rng.choice(len(vectors), limit, replace=False)]
