"""The FAISS wrapper on random unit vectors: every index type, allow-lists applied before top-k, atomic saves."""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from search.store import StoreError, VectorIndex
from search.store.vectors import choose_kind, searches_on_gpu


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_each_kind_finds_a_stored_vector_by_its_id(kind: str) -> None:
    vectors = unit_vectors(2000)
    ids = np.arange(1000, 3000)
    index = VectorIndex.build(kind, 32, ids, vectors)
    hits = index.search(vectors[[5, 77]], 3)
    assert [h[0][0] for h in hits] == [1005, 1077]
    assert hits[0][0][1] == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_allowed_ids_filter_before_top_k(kind: str) -> None:
    vectors = unit_vectors(2000, seed=1)
    index = VectorIndex.build(kind, 32, np.arange(2000), vectors)
    query = vectors[:1]
    unfiltered = {i for i, _ in index.search(query, 10)[0]}
    allowed = np.array([i for i in range(0, 2000, 7) if i not in unfiltered][:50])
    hits = index.search(query, 10, allowed=allowed)[0]
    assert len(hits) == 10 and {i for i, _ in hits} <= set(allowed.tolist())
    assert index.search(query, 10, allowed=np.array([], np.int64)) == [[]]


def test_save_load_remove_roundtrip(tmp_path: Path) -> None:
    vectors = unit_vectors(100)
    index = VectorIndex.build("flat", 32, np.arange(100), vectors)
    index.remove(np.array([3, 4]))
    path = tmp_path / "v.faiss"
    index.save(path)
    assert not (tmp_path / "v.faiss.tmp").exists()
    loaded = VectorIndex.load(path, "flat")
    assert len(loaded) == 98 and 3 not in loaded.ids() and loaded.search(vectors[3:4], 1)[0][0][0] != 3


def test_unreadable_file_and_unknown_kind_are_store_errors(tmp_path: Path) -> None:
    (tmp_path / "v.faiss").write_bytes(b"not faiss")
    with pytest.raises(StoreError, match="is damaged"):
        VectorIndex.load(tmp_path / "v.faiss", "flat")
    with pytest.raises(StoreError, match="unknown index type"):
        VectorIndex.build("annoy", 4, np.arange(0), np.zeros((0, 4), np.float32))


def test_auto_kind_grows_with_the_corpus() -> None:
    assert [choose_kind(n) for n in (10, 500_000, 5_000_000)] == ["flat", "hnsw", "ivf"]


def test_hnsw_always_searches_on_the_cpu() -> None:
    assert searches_on_gpu("hnsw") is False  # faiss has no GPU HNSW; flat and IVF follow faiss' GPU count
    assert searches_on_gpu("flat") is searches_on_gpu("ivf") is (faiss.get_num_gpus() > 0)


def test_one_query_searches_alike_and_leaves_the_thread_setting_alone() -> None:
    vectors = unit_vectors(3000, seed=2)
    index = VectorIndex.build("flat", 32, np.arange(3000), vectors)
    threads = faiss.omp_get_max_threads()
    one_by_one = [index.search(vectors[i:i + 1], 5)[0] for i in range(20)]
    assert faiss.omp_get_max_threads() == threads  # restored after each single-query search
    batched = index.search(vectors[:20], 5)
    assert [[i for i, _ in hits] for hits in one_by_one] == [[i for i, _ in hits] for hits in batched]
