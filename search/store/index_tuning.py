"""Choose an approximate vector index's search knobs (nprobe, efSearch, ivfpq re-scoring) for a recall target.

Recall@k is measured against exact inner-product search over the store's own vectors, leave-one-out: a sample of
stored passages serve as queries and each query's own passage is left out of both lists (a stored vector always
finds itself, which would flatter any index). The knob is raised step by step until recall@k reaches the target;
for ivfpq each re-scoring depth gets its smallest sufficient nprobe and the fastest pair wins. This is the
"pick the cheapest operating point on the recall / latency curve" procedure of the ANN-Benchmarks study
(Aumüller et al., 2020) and of FAISS's auto-tuning (`faiss.ParameterSpace`), run on the data the store serves.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

import numpy as np

from search.store.vectors import ExactVectors, SearchSettings, VectorIndex

KNOB_STEPS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)  # nprobe and efSearch candidates
REFINE_STEPS = (2, 5, 10, 20, 50, 100, 200)  # ivfpq: candidates re-scored per result
VectorChunks = Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]  # -> (ids, (n, dim) vectors) in chunks


@dataclass(frozen=True)
class Trial:
    """One setting measured: recall@k against exact search and batch-1 latency (ms) over the sample queries."""
    settings: SearchSettings
    recall: float
    p50_ms: float
    p95_ms: float


@dataclass
class Tuning:
    """What `tune_index` measured and chose; `reached` says whether the chosen trial meets `target`."""
    kind: str
    target: float
    k: int
    queries: int
    chosen: Trial
    trials: list[Trial] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        return self.chosen.recall >= self.target


def exact_neighbours(chunks: Iterable[tuple[np.ndarray, np.ndarray]], queries: np.ndarray, own: np.ndarray,
                     k: int) -> np.ndarray:
    """(q, k) ids of each query's exact top-k by inner product, its own id (`own`, (q,)) left out; `chunks`
    stream the corpus so that a million vectors never sit in memory at once as float32."""
    best_ids = np.full((len(queries), k), -1, np.int64)
    best = np.full((len(queries), k), -np.inf, np.float32)
    for ids, vectors in chunks:
        scores = queries @ vectors.T
        scores[own[:, None] == ids[None, :]] = -np.inf
        merged_scores = np.concatenate([best, scores], axis=1)
        merged_ids = np.concatenate([best_ids, np.broadcast_to(ids, scores.shape)], axis=1)
        top = np.argsort(-merged_scores, axis=1, kind="stable")[:, :k]
        best, best_ids = np.take_along_axis(merged_scores, top, 1), np.take_along_axis(merged_ids, top, 1)
    return best_ids


def measure(index: VectorIndex, exact: ExactVectors, queries: np.ndarray, own: np.ndarray,
            truth: np.ndarray, settings: SearchSettings) -> Trial:
    """Recall@k and latency of `index` under `settings`, one query at a time as a search runs it."""
    index.configure(settings)
    k = truth.shape[1]
    found, times = 0, []
    for query, self_id, expected in zip(queries, own, truth):
        start = time.perf_counter()
        hits = index.search(query[None, :], k + 1, exact=exact)[0]
        times.append((time.perf_counter() - start) * 1000.0)
        got = [i for i, _ in hits if i != self_id][:k]
        found += len(set(got) & set(expected.tolist()))
    return Trial(settings, found / truth.size, float(np.percentile(times, 50)), float(np.percentile(times, 95)))


def tune_index(index: VectorIndex, exact: ExactVectors, chunks: VectorChunks, query_ids: np.ndarray,
               target: float = 0.95, k: int = 10,
               on_trial: Callable[[Trial], None] | None = None) -> Tuning:
    """The cheapest search settings of `index` whose recall@k reaches `target` on the stored passages
    `query_ids` (stored passage ids, as `exact` finds them) as queries; when none does, the best recall found.
    `exact` gives the exact vectors (the queries', and ivfpq's re-scoring); flat needs no knobs (one trial)."""
    query_ids, queries = exact(query_ids)
    truth = exact_neighbours(chunks(), queries, query_ids, k)
    base = index.settings
    trials: list[Trial] = []

    def run(settings: SearchSettings) -> Trial:
        trial = measure(index, exact, queries, query_ids, truth, settings)
        trials.append(trial)
        if on_trial:
            on_trial(trial)
        return trial

    def first_reaching(make: Callable[[int], SearchSettings], limit: int) -> Trial:
        trial = None
        for step in [s for s in KNOB_STEPS if s <= limit] or [1]:
            trial = run(make(step))
            if trial.recall >= target:
                break
        return trial

    if index.kind == "hnsw":
        candidates = [first_reaching(lambda s: replace(base, ef_search=max(s, k)), KNOB_STEPS[-1])]
    elif index.kind == "ivf":
        candidates = [first_reaching(lambda s: replace(base, nprobe=s), index.nlist)]
    elif index.kind == "ivfpq":
        candidates = [first_reaching(lambda s, r=r: replace(base, nprobe=s, refine=r), index.nlist)
                      for r in REFINE_STEPS]
    else:
        candidates = [run(base)]
    reaching = [t for t in candidates if t.recall >= target]
    chosen = min(reaching, key=lambda t: t.p50_ms) if reaching else max(candidates, key=lambda t: t.recall)
    index.configure(chosen.settings)
    return Tuning(index.kind, target, k, len(query_ids), chosen, trials)
