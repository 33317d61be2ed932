"""Choose the model's ranking settings with one rule across collections (`news-search tune`).

The rule: among every setting of the grid, take the one whose default pipeline (hybrid + rerank, ranked as
/search ranks) has the largest *smallest* nDCG@10 ratio to BM25 over the choosing collections (a max-min rule:
no collection is sacrificed for another, and no setting is picked per collection). Ties go to the shallower
rerank (faster), then to the earlier grid entry. Report the chosen settings on collections that took no part.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from tqdm import tqdm

from search.evaluation.evidence import CollectionEvidence
from search.evaluation.ranking import product_run, subset
from search.evaluation.retrieval_metrics import ranking_metrics
from search.model.config import RankingSettings


@dataclass
class Grid:
    """The settings tried; `candidates` stays at the evidence's depth."""

    fusion: tuple[str, ...] = ("convex", "dbsf", "rrf")
    alpha: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)  # rrf has no alpha: tried once
    rerank_depth: tuple[int, ...] = (10, 20)
    rerank_weight: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
    second_passage_weight: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5)

    def settings(self, candidates: int) -> list[RankingSettings]:
        out = []
        for fusion, depth, weight, second in itertools.product(self.fusion, self.rerank_depth, self.rerank_weight,
                                                               self.second_passage_weight):
            for alpha in (self.alpha if fusion != "rrf" else (0.5,)):
                out.append(RankingSettings(fusion, alpha, candidates, depth, weight, second))
        return out


@dataclass
class Tuned:
    settings: RankingSettings
    worst_ratio: float  # the rule's value: smallest default / BM25 nDCG@10 ratio over the collections
    ratios: dict[str, float]  # collection -> default / BM25
    tried: int
    runners_up: list[tuple[RankingSettings, float]] = field(default_factory=list)


def ratios_to_bm25(evidence: list[CollectionEvidence], bm25: dict[str, dict[str, list[str]]],
                   settings: RankingSettings, metric: str = "ndcg@10") -> dict[str, float]:
    """Per collection: the default pipeline's metric over BM25's on the rerank sample's queries."""
    out = {}
    for ev in evidence:
        run = product_run(ev, settings, sample=True)
        judged = subset(ev.qrels, run)
        base = ranking_metrics(bm25[ev.name], judged)[metric]
        out[ev.name] = ranking_metrics(run, judged)[metric] / base if base else float("inf")
    return out


def choose_settings(evidence: list[CollectionEvidence], bm25: dict[str, dict[str, list[str]]],
                    grid: Grid | None = None, candidates: int = 30) -> Tuned:
    """Apply the module's rule over `grid`; pair scores are computed once per (query, passage) and cached."""
    grid = grid or Grid()
    scored: list[tuple[RankingSettings, float, dict[str, float]]] = []
    for settings in tqdm(grid.settings(candidates), desc="tune", unit="setting"):
        ratios = ratios_to_bm25(evidence, bm25, settings)
        scored.append((settings, min(ratios.values()), ratios))
    # max-min ratio; ties: shallower rerank first, then grid order (sorted is stable)
    ranked = sorted(scored, key=lambda s: (-round(s[1], 6), s[0].rerank_depth))
    best = ranked[0]
    return Tuned(best[0], best[1], best[2], len(scored), [(s, v) for s, v, _ in ranked[1:6]])
