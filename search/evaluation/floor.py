"""The relevance floor (`min_relevance`): below it a result is a weak match (search/pipeline/weak.py).

Chosen on the choosing collections with the rule `best_threshold` applies to answers: on each collection's rerank
sample, take the relevant documents the default pipeline shows in its top 10 with their best passage's pair
score; the floor is the strictest candidate that keeps 95% of them on *every* collection (the smallest of the
per-collection choices), so no collection loses more than one relevant result in twenty to "weaker matches".
"""
from __future__ import annotations

from dataclasses import dataclass

from search.evaluation.answers import best_threshold
from search.evaluation.evidence import CollectionEvidence
from search.evaluation.ranking import document_pair_scores, rank_query
from search.model.config import RankingSettings

FLOORS = tuple(round(0.02 * i, 2) for i in range(0, 50))  # 0.00 ... 0.98


@dataclass
class RelevanceFloor:
    floor: float
    per_collection: dict[str, float]  # each collection's own strictest 95%-recall floor
    kept: dict[str, float]  # share of the shown relevant documents at or above the chosen floor
    judged: dict[str, int]  # relevant documents in the top 10 with a pair score


def relevant_shown_scores(ev: CollectionEvidence, settings: RankingSettings, top: int = 10) -> list[float]:
    """Pair scores of the relevant documents in each sampled query's top `top` (those that were reranked)."""
    scores = []
    for query in ev.rerank_sample():
        shown = rank_query(ev, query, settings)[:top]
        pair = document_pair_scores(ev, query, settings)
        scores += [pair[d] for d in shown if d in ev.qrels[query.qid] and d in pair]
    return scores


def choose_relevance_floor(evidence: list[CollectionEvidence], settings: RankingSettings,
                           min_recall: float = 0.95) -> RelevanceFloor:
    """The module's rule. Raises ValueError when no collection has a judged relevant document."""
    scores = {ev.name: relevant_shown_scores(ev, settings) for ev in evidence}
    scores = {name: s for name, s in scores.items() if s}
    if not scores:
        raise ValueError("no relevant document was reranked in any top 10: nothing to choose a floor from")
    own = {name: best_threshold(s, [True] * len(s), min_recall, FLOORS).threshold for name, s in scores.items()}
    floor = min(own.values())
    kept = {name: sum(v >= floor for v in s) / len(s) for name, s in scores.items()}
    return RelevanceFloor(floor, own, kept, {name: len(s) for name, s in scores.items()})
