"""Choose an approximate vector index's search knobs (nprobe, efSearch, ivfpq re-scoring) for a recall target.

Recall@k is measured against exact inner-product search over the store's own vectors, leave-one-article-out: a
sample of stored passages serve as queries and each query's own article's passages are left out of both lists (a
stored vector always finds itself, and the overlapping passages of its article nearly so, which would flatter
any index against unseen queries). A setting reaches the target when the lower end of its recall's 95%
confidence interval over the sample does (mean − 1.96 standard errors), so that sampling luck does not choose
it. The knob is raised step by step until it reaches the target; for ivfpq each re-scoring depth gets its
smallest sufficient nprobe and the fastest pair wins. This is the
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
    """One setting measured: recall@k against exact search (its mean over the sample queries and the lower end of
    its 95% confidence interval) and batch-1 latency (ms)."""
    settings: SearchSettings
    recall: float
    recall_low: float
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
        return self.chosen.recall_low >= self.target


def exact_neighbours(chunks: Iterable[tuple[np.ndarray, np.ndarray]], queries: np.ndarray,
                     excluded: list[np.ndarray], k: int) -> np.ndarray:
    """(q, k) ids of each query's exact top-k by inner product, the ids `excluded[i]` left out of query i's;
    `chunks` stream the corpus so that a million vectors never sit in memory at once as float32."""
    best_ids = np.full((len(queries), k), -1, np.int64)
    best = np.full((len(queries), k), -np.inf, np.float32)
    for ids, vectors in chunks:
        scores = queries @ vectors.T
        for row, left_out in enumerate(excluded):
            scores[row, np.isin(ids, left_out)] = -np.inf
        merged_scores = np.concatenate([best, scores], axis=1)
        merged_ids = np.concatenate([best_ids, np.broadcast_to(ids, scores.shape)], axis=1)
        top = np.argsort(-merged_scores, axis=1, kind="stable")[:, :k]
        best, best_ids = np.take_along_axis(merged_scores, top, 1), np.take_along_axis(merged_ids, top, 1)
    return best_ids


def measure(index: VectorIndex, exact: ExactVectors, queries: np.ndarray, excluded: list[np.ndarray],
            truth: np.ndarray, settings: SearchSettings) -> Trial:
    """Recall@k and latency of `index` under `settings`, one query at a time as a search runs it (asking for k
    more than the query's excluded ids, which are then dropped)."""
    k = truth.shape[1]
    recalls, times = [], []
    for query, left_out, expected in zip(queries, excluded, truth):
        start = time.perf_counter()
        hits = index.search(query[None, :], k + len(left_out), exact=exact, settings=settings)[0]
        times.append((time.perf_counter() - start) * 1000.0)
        skip = set(left_out.tolist())
        got = [i for i, _ in hits if i not in skip][:k]
        recalls.append(len(set(got) & set(expected.tolist())) / k)
    mean = float(np.mean(recalls))
    low = mean - 1.96 * float(np.std(recalls, ddof=1)) / np.sqrt(len(recalls)) if len(recalls) > 1 else mean
    return Trial(settings, mean, low, float(np.percentile(times, 50)), float(np.percentile(times, 95)))


def tune_index(index: VectorIndex, exact: ExactVectors, chunks: VectorChunks, query_ids: np.ndarray,
               target: float = 0.95, k: int = 10, on_trial: Callable[[Trial], None] | None = None,
               siblings: Callable[[int], np.ndarray] | None = None) -> Tuning:
    """The cheapest search settings of `index` whose recall@k reaches `target` on the stored passages
    `query_ids` (stored passage ids, as `exact` finds them) as queries; when none does, the best recall found.
    `exact` gives the exact vectors (the queries', and ivfpq's re-scoring); `siblings(id)` the ids left out with
    a query (its article's passages; default: itself). Flat needs no knobs (one trial)."""
    query_ids, queries = exact(query_ids)
    excluded = [siblings(int(i)) if siblings else np.array([i], np.int64) for i in query_ids]
    truth = exact_neighbours(chunks(), queries, excluded, k)
    base = index.settings
    trials: list[Trial] = []

    def run(settings: SearchSettings) -> Trial:
        trial = measure(index, exact, queries, excluded, truth, settings)
        trials.append(trial)
        if on_trial:
            on_trial(trial)
        return trial

    def first_reaching(make: Callable[[int], SearchSettings], limit: int) -> Trial:
        trial = None
        steps = [s for s in KNOB_STEPS if s < limit] + [limit]  # ends with the widest: every list, for IVF
        for settings in dict.fromkeys(make(step) for step in steps):  # each setting once, in order
            trial = run(settings)
            if trial.recall_low >= target:
                break
        return trial

    if index.kind == "hnsw":
        candidates = [first_reaching(lambda s: replace(base, ef_search=max(s, k)), KNOB_STEPS[-1])]  # FAISS: ≥ k
    elif index.kind == "ivf":
        candidates = [first_reaching(lambda s: replace(base, nprobe=s), index.nlist)]
    elif index.kind == "ivfpq":
        candidates = [first_reaching(lambda s, r=r: replace(base, nprobe=s, refine=r), index.nlist)
                      for r in REFINE_STEPS]
    else:
        candidates = [run(base)]
    reaching = [t for t in candidates if t.recall_low >= target]
    chosen = min(reaching, key=lambda t: t.p50_ms) if reaching else max(candidates, key=lambda t: t.recall)
    index.configure(chosen.settings)
    return Tuning(index.kind, target, k, len(query_ids), chosen, trials)
