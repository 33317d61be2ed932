"""The FAISS wrapper on random unit vectors: every index type, allow-lists applied before top-k, atomic saves."""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from search.store import StoreError, VectorIndex
from search.store.index_tuning import exact_neighbours, tune_index
from search.store.vectors import PQ_MIN_TRAIN, SearchSettings, choose_kind, fill_part, searches_on_gpu


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
    assert [choose_kind(n) for n in (10, 500_000, 5_000_000)] == ["flat", "hnsw", "ivfpq"]


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


def exact_lookup(ids: np.ndarray, vectors: np.ndarray):
    """An ExactVectors over an in-memory table: the role SQLite plays for a store."""
    row = {int(i): n for n, i in enumerate(ids)}

    def lookup(wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = np.array(sorted(int(i) for i in wanted if int(i) in row), np.int64)
        return found, vectors[[row[i] for i in found]] if len(found) else np.zeros((0, vectors.shape[1]), np.float32)
    return lookup


def test_ivfpq_rescores_its_candidates_with_the_exact_vectors() -> None:
    vectors = unit_vectors(PQ_MIN_TRAIN, seed=3)
    ids = np.arange(5, 5 + len(vectors))
    index = VectorIndex.build("ivfpq", 32, ids, vectors)
    exact = exact_lookup(ids, vectors)
    query = vectors[[10, 400]]
    index.configure(SearchSettings(nprobe=index.nlist, refine=50))
    hits = index.search(query, 5, exact=exact)
    assert [h[0][0] for h in hits] == [15, 405]
    for q, found in zip(query, hits):  # exact inner products, best first, not the codes' estimates
        assert [s for _, s in found] == pytest.approx([float(vectors[i - 5] @ q) for i, _ in found], abs=1e-5)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    coded = index.search(query, 5)[0][0][1]  # without the exact vectors: the PQ approximation
    assert coded != pytest.approx(1.0, abs=1e-5)
    index.remove(ids[:1])
    assert 5 not in {i for i, _ in index.search(vectors[:1], 5, exact=exact)[0]}


def test_ivfpq_refuses_a_corpus_too_small_to_train_its_codes() -> None:
    with pytest.raises(StoreError, match="at least 9,984 passages"):
        VectorIndex.build("ivfpq", 32, np.arange(500), unit_vectors(500))


def test_exact_neighbours_in_chunks_equal_a_brute_force_sort_without_the_left_out_ids() -> None:
    vectors = unit_vectors(1000, seed=4)
    ids = np.arange(1000) * 3
    rows = [[7, 9, 10], [8], [500, 501]]  # a query and its article's other passages, left out together
    chunks = [(ids[i:i + 128], vectors[i:i + 128]) for i in range(0, 1000, 128)]
    got = exact_neighbours(chunks, vectors[[r[0] for r in rows]], [ids[r] for r in rows], 10)
    scores = vectors[[r[0] for r in rows]] @ vectors.T
    for n, r in enumerate(rows):
        scores[n, r] = -np.inf
    assert got.tolist() == ids[np.argsort(-scores, axis=1, kind="stable")[:, :10]].tolist()


@pytest.mark.parametrize("kind", ["ivf", "ivfpq"])
def test_tuning_finds_the_cheapest_setting_that_reaches_the_recall_target(kind: str) -> None:
    vectors = unit_vectors(PQ_MIN_TRAIN, seed=5)
    ids = np.arange(len(vectors))
    index = VectorIndex.build(kind, 32, ids, vectors)
    exact = exact_lookup(ids, vectors)
    tuning = tune_index(index, exact, lambda: [(ids, vectors)], ids[::200], target=0.9)
    assert tuning.reached and tuning.chosen.recall_low >= 0.9 and index.settings == tuning.chosen.settings
    for knob in ("nprobe", "refine"):  # one step less on the chosen knob no longer reaches the target
        same_line = [t for t in tuning.trials if all(getattr(t.settings, o) == getattr(tuning.chosen.settings, o)
                                                    for o in ("nprobe", "refine") if o != knob)]
        smaller = [t for t in same_line if getattr(t.settings, knob) < getattr(tuning.chosen.settings, knob)]
        assert all(t.recall_low < 0.9 for t in smaller)
    flat = tune_index(VectorIndex.build("flat", 32, ids, vectors), exact, lambda: [(ids, vectors)], ids[::500])
    assert [t.recall for t in flat.trials] == [1.0]


def test_search_settings_given_with_a_call_hold_for_that_call_only() -> None:
    vectors = unit_vectors(4000, seed=5)
    ids = np.arange(len(vectors))
    ivf = VectorIndex.build("ivf", 32, ids, vectors)
    flat = VectorIndex.build("flat", 32, ids, vectors)
    queries = unit_vectors(50, seed=6)
    exact = [[i for i, _ in row] for row in flat.search(queries, 10)]
    every_list = [[i for i, _ in row] for row in ivf.search(queries, 10, settings=SearchSettings(nprobe=ivf.nlist))]
    one_list = [[i for i, _ in row] for row in ivf.search(queries, 10, settings=SearchSettings(nprobe=1))]
    assert every_list == exact and one_list != exact  # all lists probed: exact; one list: misses some
    assert ivf.settings == SearchSettings() and [[i for i, _ in row] for row in ivf.search(queries, 10)] != exact


@pytest.mark.parametrize("kind", ["ivf", "ivfpq"])
def test_parts_filled_from_the_template_merge_into_the_index_add_would_make(kind: str) -> None:
    vectors = unit_vectors(PQ_MIN_TRAIN + 1000, seed=5)
    ids = np.arange(10, 10 + len(vectors))
    merged = VectorIndex.build(kind, 32, ids[:PQ_MIN_TRAIN], vectors[:PQ_MIN_TRAIN])
    added = merged.copy()
    added.add(ids[PQ_MIN_TRAIN:], vectors[PQ_MIN_TRAIN:])  # the reference: the index's own add
    before = merged.search(vectors[::97], 10)
    template = merged.part_template()
    assert faiss.deserialize_index(np.frombuffer(template, np.uint8)).ntotal == 0
    assert merged.search(vectors[::97], 10) == before and len(merged) == PQ_MIN_TRAIN  # its own lists kept
    halves = np.array_split(np.arange(PQ_MIN_TRAIN, len(vectors)), 2)  # two workers' shards
    assert merged.merge_parts((fill_part(template, vectors[h]), ids[h]) for h in halves) == 1000
    assert np.array_equal(merged.ids(), added.ids())
    every_list = SearchSettings(nprobe=merged.nlist)
    queries = vectors[::97]
    assert merged.search(queries, 10, settings=every_list) == added.search(queries, 10, settings=every_list)
    merged.remove(ids[-3:])  # the id map stays whole after a merge
    assert not {i for hits in merged.search(vectors[-3:], 5, settings=every_list) for i, _ in hits} & set(ids[-3:])


def test_a_part_of_another_shape_or_count_is_refused_and_the_index_stays_whole() -> None:
    vectors = unit_vectors(3000, seed=6)
    index = VectorIndex.build("ivf", 32, np.arange(3000), vectors)
    other = VectorIndex.build("ivf", 32, np.arange(500), vectors[:500])  # fewer lists
    assert other.nlist != index.nlist
    part = fill_part(index.part_template(), vectors[:2])
    with pytest.raises(StoreError, match="does not fit this ivf index"):
        index.merge_parts([(part, np.array([5000, 5001])), (fill_part(other.part_template(), vectors[:2]),
                                                           np.array([6000, 6001]))])
    assert set(index.ids()) == set(range(3000)) | {5000, 5001}  # the part before the bad one is in, and named
    with pytest.raises(StoreError, match="holds 2 vectors for 1 passage ids"):
        index.merge_parts([(part, np.array([7000]))])
    assert VectorIndex.build("flat", 32, np.arange(10), vectors[:10]).part_template() is None
    assert VectorIndex.build("hnsw", 32, np.arange(10), vectors[:10]).part_template() is None
