"""The FAISS vector index over passage ids: build, search with an allow-list, save atomically.

The index is an `IndexIDMap2` whose ids are SQLite passage ids. SQLite also keeps every vector, so this file
is a rebuildable cache: the store reconciles it with SQLite after a crash or when the index type changes.

Index types: flat (exact), hnsw (a graph over the full vectors), ivf (inverted lists of full vectors) and ivfpq
(inverted lists of product-quantised codes, 48 bytes a vector at 384 dimensions, whose top candidates are
re-scored with the exact vectors SQLite keeps: the IVFADC + re-ranking scheme of Jégou et al., "Product
quantization for nearest neighbor search", TPAMI 2011, and FAISS's IndexRefine). Their search-time knobs are
`SearchSettings`, kept per store and chosen for a recall target by search/store/index_tuning.py.
"""
from __future__ import annotations

import hashlib
import math
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import faiss
import numpy as np

from search.store.errors import StoreError

KINDS = ("flat", "hnsw", "ivf", "ivfpq")
HNSW_FROM = 200_000  # passages; below this exact flat search is fast enough on CPU
IVFPQ_FROM = 1_000_000  # HNSW holds every float32 vector and its graph in memory: about 1.8 GB at 1M
HNSW_M = 32
PQ_BYTES_PER_DIM = 1 / 8  # one 8-bit code per 8 dimensions: 48 bytes for 384
PQ_MIN_TRAIN = 256 * 39  # FAISS's rule of 39 training points per centroid, for 256 codes per sub-quantiser

# (ids,) -> (found ids, their float32 vectors): the exact vectors an ivfpq index re-scores its candidates with
ExactVectors = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


KNOBS = {"flat": (), "hnsw": ("ef_search",), "ivf": ("nprobe",), "ivfpq": ("nprobe", "refine")}  # by index type


@dataclass(frozen=True)
class SearchSettings:
    """Search-time knobs of the approximate index types (flat ignores them); kept per store in its meta table.

    nprobe: IVF lists visited per query (ivf, ivfpq); ef_search: HNSW's candidate list; refine: ivfpq re-scores
    k × refine candidates with the exact vectors and keeps the best k."""
    nprobe: int = 32
    ef_search: int = 128
    refine: int = 10

    def __post_init__(self) -> None:
        for name in ("nprobe", "ef_search", "refine"):
            if getattr(self, name) < 1:
                raise StoreError(f"{name} must be at least 1, not {getattr(self, name)}")

    def used_by(self, kind: str | None) -> dict[str, int]:
        """The knobs an index of type `kind` reads (none for flat; every knob when the type is unknown), for
        `stats`: showing HNSW's ef_search for an IVF index would suggest that changing it does something."""
        names = KNOBS.get(kind or "", ("nprobe", "ef_search", "refine"))
        return {name: getattr(self, name) for name in names}


def choose_kind(n: int) -> str:
    """The index type for a corpus of `n` passages when the user did not pick one."""
    return "flat" if n < HNSW_FROM else "hnsw" if n < IVFPQ_FROM else "ivfpq"


class VectorIndex:
    """Inner-product search over L2-normalised passage vectors, keyed by passage id."""

    def __init__(self, index: faiss.Index, kind: str, dim: int) -> None:
        self.index = index
        self.kind = kind
        self.dim = dim
        self._gpu: faiss.Index | None = None  # search mirror on a GPU, dropped on every write
        self._gpu_lock = threading.Lock()  # FAISS GPU indexes are not thread-safe; API threads share this one
        self.settings = SearchSettings()
        self._apply(self.settings)

    # ---- building -----------------------------------------------------------------------------------
    @classmethod
    def build(cls, kind: str, dim: int, ids: np.ndarray, vectors: np.ndarray) -> "VectorIndex":
        """A fresh index of `kind` holding (n, dim) `vectors` under `ids`: `empty`, trained on a sample of them,
        then filled. StoreError as `empty`."""
        vectors = np.ascontiguousarray(vectors, np.float32)
        sample = vectors
        if len(vectors) > training_size(len(vectors)):
            sample = vectors[np.random.default_rng(0).choice(len(vectors), training_size(len(vectors)), replace=False)]
        index = cls.empty(kind, dim, len(ids), sample)
        index.add(ids, vectors)
        return index

    @classmethod
    def empty(cls, kind: str, dim: int, n: int, sample: np.ndarray) -> "VectorIndex":
        """An empty index of `kind` sized for `n` passages. IVF types are trained once on the (m, dim) `sample`
        of their vectors (`training_size(n)` rows are enough; other kinds ignore it), and every vector added
        later is encoded with those centroids and codebooks, so an index can be filled chunk by chunk.
        StoreError: an unknown kind, or ivfpq for fewer than `PQ_MIN_TRAIN` passages."""
        if kind not in KINDS:
            raise StoreError(f"unknown index type {kind!r}; use one of {', '.join(KINDS)}")
        if kind == "flat":
            inner: faiss.Index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = 80
        else:
            nlist = max(1, min(int(4 * math.sqrt(max(n, 1))), n // 39))
            quantizer = faiss.IndexFlatIP(dim)
            if kind == "ivf":
                inner = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            else:
                if n < PQ_MIN_TRAIN:
                    raise StoreError(f"an ivfpq index needs at least {PQ_MIN_TRAIN:,} passages to train its codes, "
                                     f"this store has {n:,}; use --index auto (flat, hnsw or ivf suit it)")
                nlist = max(1, min(nlist, n // 256))
                inner = faiss.IndexIVFPQ(quantizer, dim, nlist, _pq_parts(dim), 8, faiss.METRIC_INNER_PRODUCT)
                inner.by_residual = True
            inner = _trained(inner, np.ascontiguousarray(sample, np.float32) if len(sample) else
                             np.zeros((1, dim), np.float32))
        return cls(faiss.IndexIDMap2(inner), kind, dim)

    @classmethod
    def load(cls, path: Path, kind: str | None = None) -> "VectorIndex":
        """The index saved at `path`; StoreError when unreadable. `kind` defaults to the type the file holds,
        which stays right even when a reader catches a new vector file before the writer's new manifest."""
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise StoreError(f"the vector file {path} is damaged ({str(exc).splitlines()[0][-80:]})") from exc
        return cls(index, kind or _kind_of(index), index.d)

    def copy(self) -> "VectorIndex":
        """An independent copy (FAISS `clone_index`) with the same search settings."""
        twin = VectorIndex(faiss.clone_index(self.index), self.kind, self.dim)
        twin.configure(self.settings)
        return twin

    def configure(self, settings: SearchSettings) -> None:
        """Use these search-time knobs (HNSW efSearch, IVF nprobe, ivfpq re-scoring), which the file format does
        not keep; the store sets its own before each search (a no-op when unchanged)."""
        if settings != self.settings:
            self._apply(settings)

    def _apply(self, settings: SearchSettings) -> None:
        inner = faiss.downcast_index(self.index.index)
        with self._gpu_lock:  # the GPU mirror copied the old knobs: dropped, not while another thread copies it
            if isinstance(inner, faiss.IndexHNSW):
                inner.hnsw.efSearch = settings.ef_search
            elif isinstance(inner, faiss.IndexIVF):
                inner.nprobe = min(settings.nprobe, inner.nlist)
            self.settings = settings
            self._gpu = None

    @property
    def nlist(self) -> int:
        """Inverted lists of an IVF type (0 for flat and hnsw)."""
        inner = faiss.downcast_index(self.index.index)
        return int(inner.nlist) if isinstance(inner, faiss.IndexIVF) else 0

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

    # ---- parts filled by other workers ------------------------------------------------------------
    def part_template(self) -> bytes | None:
        """An IVF index's trained inverted file with no vectors (FAISS's serialised form), for workers to fill
        with `fill_part` where the vectors are made; None for flat and HNSW, which have no codebook to share."""
        if self.kind not in ("ivf", "ivfpq"):
            return None
        # serialised with empty inverted lists swapped in for a moment, rather than cloned and reset: a clone
        # copies every code first (110 MB for 1M IVF-PQ vectors, 1.5 GB for IVF-flat)
        inner = faiss.downcast_index(self.index.index)
        lists, owned, count = inner.invlists, inner.own_invlists, inner.ntotal
        empty = faiss.ArrayInvertedLists(inner.nlist, inner.code_size)
        try:
            inner.own_invlists = False  # replace_invlists frees the lists it replaces when the index owns them
            inner.replace_invlists(empty, False)
            inner.ntotal = 0
            return faiss.serialize_index(inner).tobytes()
        finally:
            inner.replace_invlists(lists, owned)
            inner.ntotal = count

    def merge_parts(self, parts: Iterable[tuple[bytes, np.ndarray]]) -> int:
        """Take in parts filled from this index's `part_template` — each (part, ids): its i-th vector under
        passage id ids[i] — with FAISS `merge_from`, which appends their encoded inverted lists: nothing is
        assigned or quantised again here (the "trained once, filled shard by shard" build of large IVF indexes).
        Returns the vectors taken in. StoreError when a part is not of this index's shape (another type, list
        count or code size); a part from other centroids of the same shape cannot be told apart, so callers
        name parts after their template (`part_key`)."""
        inner = faiss.downcast_index(self.index.index)
        added: list[np.ndarray] = []
        try:
            for part, ids in parts:
                other = faiss.deserialize_index(np.frombuffer(part, np.uint8))
                if other.ntotal != len(ids):
                    raise StoreError(f"a vector part holds {other.ntotal} vectors for {len(ids)} passage ids")
                try:
                    # the inner index numbers its vectors 0..n-1 and the id map names them: shift the part's numbers
                    inner.merge_from(other, inner.ntotal)
                except RuntimeError as exc:
                    raise StoreError(f"a vector part does not fit this {self.kind} index "
                                     f"({str(exc).splitlines()[0][-80:]})") from exc
                added.append(np.asarray(ids, np.int64))
        finally:  # name what was merged even when a later part fails, so the index stays whole
            if added:
                faiss.copy_array_to_vector(np.concatenate([self.ids(), *added]), self.index.id_map)
                self.index.ntotal = inner.ntotal
                self.index.construct_rev_map()  # once per call: the map is rebuilt whole (as remove_ids does)
                self._gpu = None
        return int(sum(len(ids) for ids in added))

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
    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None,
               exact: ExactVectors | None = None,
               settings: SearchSettings | None = None) -> list[list[tuple[int, float]]]:
        """Top-k (passage id, inner product) per (n, dim) query; `allowed` restricts the candidates before top-k.
        An ivfpq index given `exact` re-scores its top k × refine candidates with those vectors (the scores are
        then exact inner products); without it, its scores are the codes' approximations. `settings`: this
        call's knobs (default: the index's own, `configure`), passed to FAISS with the call, so concurrent
        searches with different settings do not meet on the shared index."""
        settings = settings or self.settings
        queries = np.ascontiguousarray(np.atleast_2d(queries), np.float32)
        if (allowed is not None and len(allowed) == 0) or len(self) == 0 or k <= 0:
            return [[] for _ in range(len(queries))]
        if self.kind == "ivfpq" and exact is not None:
            found = self._search(queries, k * settings.refine, allowed, settings)
            return [_rescored(query, hits, k, exact) for query, hits in zip(queries, found)]
        return self._search(queries, k, allowed, settings)

    def _search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None,
                settings: SearchSettings) -> list[list[tuple[int, float]]]:
        k = min(k, len(self))
        with _one_omp_thread(len(queries) == 1):
            index = self.index if allowed is not None else self._search_index(settings)  # selectors: CPU only
            if index is self.index:  # CPU indexes take concurrent searches
                selector = None if allowed is None else faiss.IDSelectorBatch(np.asarray(allowed, np.int64))
                scores, ids = index.search(queries, k, params=self._params(settings, selector))
            else:
                with self._gpu_lock:
                    scores, ids = index.search(queries, k)
        return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0]
                for row_ids, row_scores in zip(ids, scores)]

    def _params(self, settings: SearchSettings, selector: faiss.IDSelector | None) -> faiss.SearchParameters | None:
        """Search parameters of the inner index's own type (IVF and HNSW refuse the generic ones)."""
        inner = faiss.downcast_index(self.index.index)
        chosen = {} if selector is None else {"sel": selector}
        if isinstance(inner, faiss.IndexIVF):
            return faiss.SearchParametersIVF(nprobe=min(settings.nprobe, inner.nlist), **chosen)
        if isinstance(inner, faiss.IndexHNSW):
            return faiss.SearchParametersHNSW(efSearch=settings.ef_search, **chosen)
        return faiss.SearchParameters(**chosen) if chosen else None

    def _search_index(self, settings: SearchSettings) -> faiss.Index:
        """The GPU mirror (made with `settings`) when faiss has GPU support and a GPU is present, else the CPU
        index."""
        if not searches_on_gpu(self.kind):
            return self.index
        self.configure(settings)  # a GPU index keeps its knobs: the mirror is made again when they change
        with self._gpu_lock:  # several API threads may arrive first at once: copy to the GPU only once
            if self._gpu is None:
                self._gpu = faiss.index_cpu_to_all_gpus(self.index)
            return self._gpu


def _rescored(query: np.ndarray, hits: list[tuple[int, float]], k: int,
              exact: ExactVectors) -> list[tuple[int, float]]:
    """The best k of `hits` by exact inner product with `query`; ids `exact` no longer finds are dropped."""
    if not hits:
        return []
    ids, vectors = exact(np.array([i for i, _ in hits], np.int64))
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return [(int(ids[i]), float(scores[i])) for i in order]


def fill_part(template: bytes, vectors: np.ndarray) -> bytes:
    """`template` (`VectorIndex.part_template`) holding the (n, dim) `vectors` as its vectors 0..n-1: the coarse
    assignment and, for ivfpq, the product quantisation — the work an index's `add` does — done by the worker
    that made the vectors, for `VectorIndex.merge_parts`."""
    part = faiss.deserialize_index(np.frombuffer(template, np.uint8))
    part.add(np.ascontiguousarray(vectors, np.float32))
    return faiss.serialize_index(part).tobytes()


def part_key(template: bytes) -> str:
    """A short name for a part template: parts filled from another training (a rebuilt index) are not merged."""
    return hashlib.sha1(template).hexdigest()[:16]


def _pq_parts(dim: int) -> int:
    """Sub-quantisers for a `dim`-wide PQ: about one per 8 dimensions, and a divisor of `dim` (FAISS needs it)."""
    parts = max(1, int(dim * PQ_BYTES_PER_DIM))
    while dim % parts:
        parts -= 1
    return parts


def _kind_of(index: faiss.Index) -> str:
    """flat, hnsw, ivf or ivfpq: what an `IndexIDMap2` read from a file wraps."""
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    if isinstance(inner, faiss.IndexIVFPQ):
        return "ivfpq"
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


def training_size(n: int) -> int:
    """Rows an IVF index of `n` vectors trains on: 256 per list of the 4·√n at most, which is what FAISS needs."""
    return min(n, 256 * 4 * int(math.sqrt(n))) or n
