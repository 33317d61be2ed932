"""Choose the model's ranking settings with one rule across collections (`news-search tune`), in two steps.

1. Quality. Among every setting of the grid, reranking to the reference depth (30) with whole passages, take the
   one whose default pipeline (hybrid + rerank, ranked as /search ranks) has the largest *smallest* nDCG@10 ratio
   to BM25 over the choosing collections (a max-min rule: no collection is sacrificed for another, and no
   setting is picked per collection). Ties go to the earlier grid entry.
2. Cost. With those settings, the cheapest (rerank depth, rerank margin, pair window) — cost = word pieces the pair
   pass reads per query, measured (the passages it reads, each up to the window), averaged over the choosing
   collections' rerank samples — whose quality stays within `ranking_tolerance` (0.5%) of the reference's: its
   nDCG@10 averaged over the choosing collections (each as a share of the reference's), and step 1's max-min
   value; and whose answers (SQuAD F1 on passage-sized contexts) stay within `answer_tolerance` (1%) of whole
   passages. Ties go to the shallower depth, then the wider margin. (Held to 0.5% on *each* collection, the rule
   kept depth 30: on a 100-query sample one query that swaps two documents moves a collection's nDCG@10 by about
   1%, so a per-collection 0.5% cannot tell depths apart; the average over the collections' 400 queries and the
   worst ratio to BM25 can. The per-collection shares are reported beside the choice.)

Report the chosen settings on collections that took no part.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from tqdm import tqdm

from search.evaluation.evidence import CollectionEvidence
from search.evaluation.ranking import product_run, read_passages, subset
from search.evaluation.retrieval_metrics import ranking_metrics
from search.model.config import RankingSettings

REFERENCE_DEPTH = 30  # the full rerank the cheaper settings are held to


@dataclass
class Grid:
    """The quality settings tried; `candidates` stays at the evidence's depth, the rerank at the reference depth."""

    fusion: tuple[str, ...] = ("convex", "dbsf", "rrf")
    alpha: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)  # rrf has no alpha: tried once
    rerank_weight: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
    second_passage_weight: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5)
    rerank_depth: int = REFERENCE_DEPTH

    def settings(self, candidates: int) -> list[RankingSettings]:
        out = []
        for fusion, weight, second in itertools.product(self.fusion, self.rerank_weight, self.second_passage_weight):
            for alpha in (self.alpha if fusion != "rrf" else (0.5,)):
                out.append(RankingSettings(fusion, alpha, candidates, min(self.rerank_depth, candidates),
                                           weight, second))
        return out


@dataclass
class CostGrid:
    """The (rerank depth, rerank margin, pair window) settings tried in step 2, and how close to the reference each
    must stay."""

    rerank_depth: tuple[int, ...] = (5, 10, 15, 20, 25, 30)
    rerank_margin: tuple[float, ...] = (1.0, 0.7, 0.6, 0.55, 0.5, 0.45, 0.4, 0.3)  # 1.0 = every candidate
    pair_window: tuple[int, ...] = (0, 192, 128, 96)  # 0 = whole passages
    ranking_tolerance: float = 0.005
    answer_tolerance: float = 0.01


@dataclass
class Tuned:
    settings: RankingSettings
    worst_ratio: float  # the rule's value: smallest default / BM25 nDCG@10 ratio over the collections
    ratios: dict[str, float]  # collection -> default / BM25
    tried: int
    runners_up: list[tuple[RankingSettings, float]] = field(default_factory=list)


@dataclass
class CostChoice:
    settings: RankingSettings  # the quality settings with the chosen depth, margin and window
    reference: RankingSettings
    rows: list[dict]  # every (depth, margin, window) tried, cheapest first: cost, nDCG@10 / reference per
    # collection, answers, passed


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
    """Step 1 of the module's rule over `grid`; pair scores are computed once per (query, passage) and cached."""
    grid = grid or Grid()
    scored: list[tuple[RankingSettings, float, dict[str, float]]] = []
    for settings in tqdm(grid.settings(candidates), desc="tune: quality", unit="setting"):
        ratios = ratios_to_bm25(evidence, bm25, settings)
        scored.append((settings, min(ratios.values()), ratios))
    ranked = sorted(scored, key=lambda s: -round(s[1], 6))  # stable: ties keep grid order
    best = ranked[0]
    return Tuned(best[0], best[1], best[2], len(scored), [(s, v) for s, v, _ in ranked[1:6]])


def pieces_read(evidence: list[CollectionEvidence], settings: RankingSettings) -> float:
    """Word pieces the pair pass reads per query under `settings` (each read passage up to the pair window), averaged
    over the collections' rerank samples: what step 2 calls cost (the pass's time is about linear in it)."""
    per_collection = []
    for ev in evidence:
        sample = ev.rerank_sample()
        pieces = [min(ev.passage_tokens[pid], settings.pair_window or ev.passage_tokens[pid])
                  for q in sample for pid in read_passages(ev, q, settings)]
        per_collection.append(sum(pieces) / len(sample) if sample else 0.0)
    return sum(per_collection) / len(per_collection) if per_collection else 0.0


def choose_cost(evidence: list[CollectionEvidence], bm25: dict[str, dict[str, list[str]]],
                reference: RankingSettings, answer_f1: dict[int, float], grid: CostGrid | None = None) -> CostChoice:
    """Step 2 of the module's rule. `answer_f1` maps each of the grid's windows to its SQuAD F1 (0 = whole
    passages, which must be there). Raises ValueError when a window's F1 is missing."""
    grid = grid or CostGrid()
    missing = sorted(set(grid.pair_window) - set(answer_f1))
    if missing or 0 not in answer_f1:
        raise ValueError(f"answer F1 missing for pair windows {missing or [0]}")
    full = ratios_to_bm25(evidence, bm25, reference)
    worst = min(full.values())
    rows = []
    options = itertools.product(grid.rerank_depth, grid.rerank_margin, grid.pair_window)
    for depth, margin, window in tqdm(list(options), desc="tune: cost", unit="setting"):
        settings = replace(reference, rerank_depth=depth, rerank_margin=margin, pair_window=window)
        ratios = ratios_to_bm25(evidence, bm25, settings)
        kept = {name: ratios[name] / full[name] if full[name] else 1.0 for name in ratios}
        mean_kept = sum(kept.values()) / len(kept)
        worst_kept = min(ratios.values()) / worst if worst else 1.0
        answers = answer_f1[window] / answer_f1[0] if answer_f1[0] else 1.0
        passed = mean_kept >= 1 - grid.ranking_tolerance and worst_kept >= 1 - grid.ranking_tolerance and \
            answers >= 1 - grid.answer_tolerance
        rows.append({"rerank_depth": depth, "rerank_margin": margin, "pair_window": window,
                     "cost": pieces_read(evidence, settings), "ndcg@10 / reference": kept,
                     "mean ndcg@10 / reference": mean_kept, "worst ratio to bm25 / reference": worst_kept,
                     "answer f1 / whole passages": answers, "passed": passed})
    rows.sort(key=lambda r: (round(r["cost"], 6), r["rerank_depth"], -r["rerank_margin"]))
    chosen = next((r for r in rows if r["passed"]), None)
    settings = reference if chosen is None else replace(reference, rerank_depth=chosen["rerank_depth"],
                                                        rerank_margin=chosen["rerank_margin"],
                                                        pair_window=chosen["pair_window"])
    return CostChoice(settings, reference, rows)
