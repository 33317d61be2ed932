"""Rank a collection's documents the way `/search` ranks articles, from its gathered evidence.

The stages are the product's own functions: `fuse` (search/pipeline/fusion.py), the rerank blend
`order_relevance` (search/pipeline/rerank.py) and `article_relevance` (search/pipeline/grouping.py); ties are
broken by document id as `group_results` breaks them by article id. So a row of the table predicts what a user
of `GET /search` gets with the same settings (there are no clusters, filters or recency in these collections).
"""
from __future__ import annotations

from search.evaluation.evidence import CollectionEvidence, QueryEvidence
from search.evaluation.retrieval_metrics import ranking_metrics
from search.model.config import RankingSettings
from search.pipeline.fusion import fuse
from search.pipeline.grouping import article_relevance
from search.pipeline.rerank import order_relevance

# what txtai's `hybrid=True` does with the base model: a 0.5 / 0.5 convex sum of min-max normalised scores
TXTAI_HYBRID = RankingSettings(fusion="convex", alpha=0.5, rerank_depth=0, second_passage_weight=0.0)


def rank_query(ev: CollectionEvidence, query: QueryEvidence, settings: RankingSettings, encoder: str = "newsearch",
               rerank: bool = True) -> list[str]:
    """Document ids for one query, best first, as /search would order its articles."""
    k = settings.candidates
    if k > ev.candidates:
        raise ValueError(f"{ev.name}: the evidence holds each retriever's top {ev.candidates}, the settings ask "
                         f"for {k} candidates: gather it again with a larger depth")
    cands = fuse(query.dense[encoder][:k], query.lexical[:k], k, settings.fusion, settings.alpha)
    fused = [c.fused for c in cands]
    depth = min(settings.rerank_depth, len(cands)) if rerank else 0
    if depth:
        pair: list[float | None] = list(ev.pair_scores(query, [c.passage_id for c in cands[:depth]],
                                                       settings.pair_window))
        relevance = order_relevance(fused, pair + [None] * (len(cands) - depth), settings.rerank_weight)
    else:
        relevance = fused
    per_doc: dict[str, list[float]] = {}
    for cand, rel in zip(cands, relevance):
        per_doc.setdefault(ev.passage_doc[cand.passage_id], []).append(rel)
    scores = {doc: article_relevance(rels, settings.second_passage_weight) for doc, rels in per_doc.items()}
    return sorted(scores, key=lambda doc: (-scores[doc], doc))


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
