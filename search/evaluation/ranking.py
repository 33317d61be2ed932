"""Rank a collection's documents the way `/search` ranks articles, from its gathered evidence.

The stages are the product's own functions: `fuse` (search/pipeline/fusion.py), `pair_positions` (which
passages the pair pass reads) and the rerank blend `order_relevance` (search/pipeline/rerank.py), and
`article_relevance` (search/pipeline/grouping.py); ties are broken by document id as `group_results` breaks them
by article id. So a row of the table predicts what a user of `GET /search` gets with the same settings (there
are no clusters, filters or recency in these collections).
"""
from __future__ import annotations

from search.evaluation.evidence import CollectionEvidence, QueryEvidence
from search.evaluation.retrieval_metrics import ranking_metrics
from search.model.config import RankingSettings
from search.pipeline.fusion import fuse
from search.pipeline.grouping import article_relevance
from search.pipeline.records import Candidate
from search.pipeline.rerank import order_relevance, pair_positions
from search.pipeline.weak import beyond_margin

# what txtai's `hybrid=True` does with the base model: a 0.5 / 0.5 convex sum of min-max normalised scores
TXTAI_HYBRID = RankingSettings(fusion="convex", alpha=0.5, rerank_depth=0, second_passage_weight=0.0)


def _scored(ev: CollectionEvidence, query: QueryEvidence, settings: RankingSettings, encoder: str,
            rerank: bool, read_per_article: int | None = None) -> list[tuple[Candidate, float | None, float]]:
    """The fused candidates of one query with their pair scores (None where the pair pass did not read them) and
    relevance; `read_per_article` replaces the settings' own (a comparison: benchmarks/compare_pair_reading.py)."""
    k = settings.candidates
    if k > ev.candidates:
        raise ValueError(f"{ev.name}: the evidence holds each retriever's top {ev.candidates}, the settings ask "
                         f"for {k} candidates: gather it again with a larger depth")
    cands = fuse(query.dense[encoder][:k], query.lexical[:k], k, settings.fusion, settings.alpha)
    per_article = settings.read_per_article if read_per_article is None else read_per_article
    fused = [c.fused for c in cands]
    positions = pair_positions([ev.passage_doc[c.passage_id] for c in cands], fused, settings.rerank_depth,
                               per_article, settings.rerank_margin) if rerank else []
    read = ev.pair_scores(query, [cands[i].passage_id for i in positions], settings.pair_window) if positions else []
    pair: list[float | None] = [None] * len(cands)
    for i, score in zip(positions, read):
        pair[i] = score
    relevance = order_relevance(fused, pair, settings.rerank_weight) if positions else fused
    return list(zip(cands, pair, relevance))


def rank_query(ev: CollectionEvidence, query: QueryEvidence, settings: RankingSettings, encoder: str = "newsearch",
               rerank: bool = True, read_per_article: int | None = None) -> list[str]:
    """Document ids for one query, best first, as /search would order its articles (`read_per_article`: as
    `_scored`)."""
    per_doc: dict[str, list[float]] = {}
    for cand, _, rel in _scored(ev, query, settings, encoder, rerank, read_per_article):
        per_doc.setdefault(ev.passage_doc[cand.passage_id], []).append(rel)
    scores = {doc: article_relevance(rels, settings.second_passage_weight) for doc, rels in per_doc.items()}
    return sorted(scores, key=lambda doc: (-scores[doc], doc))


def read_passages(ev: CollectionEvidence, query: QueryEvidence, settings: RankingSettings,
                  read_per_article: int | None = None) -> list[int]:
    """Ids of the passages the pair pass reads for one query, in fused order (`read_per_article`: as `_scored`)."""
    return [cand.passage_id for cand, pair, _ in _scored(ev, query, settings, "newsearch", True, read_per_article)
            if pair is not None]


def best_passages(ev: CollectionEvidence, query: QueryEvidence, settings: RankingSettings
                  ) -> dict[str, tuple[int, float | None]]:
    """For one query, each document's best passage — the one with the highest relevance, which a result shows
    and takes its answer from — as (passage id, its pair score or None when the pair pass did not read it)."""
    best: dict[str, tuple[float, int, float | None]] = {}
    for cand, pair, rel in _scored(ev, query, settings, "newsearch", True):
        doc = ev.passage_doc[cand.passage_id]
        if doc not in best or rel > best[doc][0]:
            best[doc] = (rel, cand.passage_id, pair)
    return {doc: (pid, pair) for doc, (_, pid, pair) in best.items()}


def margin_skipped(ev: CollectionEvidence, query: QueryEvidence, settings: RankingSettings) -> set[str]:
    """For one query, the documents the pair pass left unread for the rerank margin: the ones /search shows as
    weak matches for that reason (search/pipeline/weak.py)."""
    rows = _scored(ev, query, settings, "newsearch", True)
    return beyond_margin([ev.passage_doc[cand.passage_id] for cand, _, _ in rows], [cand.fused for cand, _, _ in rows],
                         [pair is not None for _, pair, _ in rows], settings.rerank_margin)


def document_pair_scores(ev: CollectionEvidence, query: QueryEvidence, settings: RankingSettings
                         ) -> dict[str, float]:
    """For one query, each document's pair score (clipped to 0..1) of its best passage (`best_passages`) when
    the pair pass read that passage."""
    return {doc: min(max(pair, 0.0), 1.0) for doc, (_, pair) in best_passages(ev, query, settings).items()
            if pair is not None}


def product_run(ev: CollectionEvidence, settings: RankingSettings, encoder: str = "newsearch", rerank: bool = True,
                sample: bool = False) -> dict[str, list[str]]:
    """Every query's (or, with `sample`, the rerank sample's) document ranking under `settings`."""
    chosen = ev.rerank_sample() if sample else ev.queries
    return {q.qid: rank_query(ev, q, settings, encoder, rerank) for q in chosen}


def subset(qrels: dict[str, set[str]], run: dict[str, list[str]]) -> dict[str, set[str]]:
    """The judgments of the queries a run covers."""
    return {q: qrels[q] for q in run if q in qrels}


BM25, BASE, TXTAI, OURS, HYBRID, DEFAULT = ("bm25 (whole documents)", "base model",
                                          "base + bm25, convex 0.5 (txtai hybrid)", "newsearch encoder",
                                          "newsearch hybrid, no rerank", "newsearch default (hybrid + rerank)")


def collection_table(ev: CollectionEvidence, bm25: dict[str, list[str]], settings: RankingSettings
                     ) -> dict[str, dict]:
    """One collection's retrieval tables: baselines, encoders alone and the product's hybrid on every query
    ("all queries"); the same rows beside the product's default (with rerank) on the `ev.pair_queries` queries of
    the rerank sample ("reranked queries"); and the ratios the release gate and the targets read, each between rows
    measured on the same queries."""
    runs = {BM25: bm25, BASE: ev.encoder_runs["base model"],
            TXTAI: product_run(ev, TXTAI_HYBRID, "base model", rerank=False),
            OURS: ev.encoder_runs["newsearch"], HYBRID: product_run(ev, settings, rerank=False)}
    every = {name: ranking_metrics(run, ev.qrels) for name, run in runs.items()}
    out: dict[str, dict] = {"all queries": every}
    ratio = {"encoder / base": _ratio(every, OURS, BASE), "hybrid / bm25": _ratio(every, HYBRID, BM25)}
    if ev.pair_queries and settings.rerank_depth:
        runs[DEFAULT] = product_run(ev, settings, sample=True)
        judged = subset(ev.qrels, runs[DEFAULT])
        first = {name: ranking_metrics(run, judged) for name, run in runs.items()}
        out["reranked queries"] = first
        ratio |= {"default / bm25": _ratio(first, DEFAULT, BM25),
                  "default / txtai hybrid": _ratio(first, DEFAULT, TXTAI)}
    out["ratios (ndcg@10)"] = ratio
    return out


def _ratio(table: dict[str, dict[str, float]], top: str, bottom: str, metric: str = "ndcg@10") -> float:
    return table[top][metric] / table[bottom][metric] if table[bottom][metric] else float("inf")
