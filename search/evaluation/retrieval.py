"""Retrieval quality: BM25, the untouched base encoder and our encoder, side by side on the same collection,
then the product's own stages on top of ours: hybrid (RRF of BM25 and ours, as search does) and hybrid + the
pair head's rerank of the top 20.

Long documents (TIME articles average 624 words) are cut into overlapping word windows for the dense systems
and the reranker and scored by their best window (MaxP), as the product does with passages; BM25 sees whole
documents. Reranking costs one pair pass per (query, window), so it runs on the first `queries` queries only;
its table row is then compared with the hybrid row on the same queries.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import bm25s
import numpy as np

from search.evaluation.retrieval_metrics import ranking_metrics
from search.pipeline.fusion import reciprocal_rank_fusion
from search.training.data import IRCollection

Embed = Callable[[list[str]], np.ndarray]
Score = Callable[[list[str], list[str]], list[float]]  # (queries, passages) -> relevance of each pair


@dataclass
class Reranker:
    """The pair head as the product uses it: rescore the first stage's top `depth` documents."""

    score: Score
    depth: int = 20  # candidates reranked per query, as in search
    queries: int = 200  # queries reranked (each costs depth x windows pair passes)


def word_windows(text: str, size: int = 180, stride: int = 140) -> list[str]:
    """Overlapping windows of `size` words every `stride` words; the last one ends at the last word."""
    words = text.split()
    starts = list(range(0, max(len(words) - size, 0) + 1, stride))
    if starts[-1] + size < len(words):
        starts.append(len(words) - size)
    return [" ".join(words[i:i + size]) for i in starts] if words else [text]


def bm25_run(col: IRCollection, depth: int = 100) -> dict[str, list[str]]:
    doc_ids = list(col.docs)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([col.docs[d] for d in doc_ids], stopwords="en", show_progress=False),
                    show_progress=False)
    qids = list(col.queries)
    ranked, _ = retriever.retrieve(bm25s.tokenize([col.queries[q] for q in qids], stopwords="en", show_progress=False),
                                   k=min(depth, len(doc_ids)), show_progress=False)
    return {q: [doc_ids[i] for i in row] for q, row in zip(qids, ranked)}


def dense_run(col: IRCollection, embed_queries: Embed, embed_passages: Embed, depth: int = 100) -> dict[str, list[str]]:
    owners, texts = [], []
    for doc_id, text in col.docs.items():
        for window in word_windows(text):
            owners.append(doc_id)
            texts.append(window)
    passages = embed_passages(texts)  # (P, H)
    qids = list(col.queries)
    scores = embed_queries([col.queries[q] for q in qids]) @ passages.T  # (Q, P)
    doc_ids = list(col.docs)
    index = {d: i for i, d in enumerate(doc_ids)}
    owner_idx = np.array([index[o] for o in owners])
    doc_scores = np.full((len(qids), len(doc_ids)), -np.inf, dtype=np.float32)
    np.maximum.at(doc_scores.T, owner_idx, scores.T)  # MaxP: a document scores its best window
    top = np.argsort(-doc_scores, axis=1)[:, :depth]
    return {q: [doc_ids[i] for i in row] for q, row in zip(qids, top)}


def hybrid_run(lexical: dict[str, list[str]], dense: dict[str, list[str]], depth: int = 100) -> dict[str, list[str]]:
    """Reciprocal rank fusion of two runs, the product's first stage."""
    fused = {}
    for q in dense:
        names = list(dict.fromkeys(lexical.get(q, []) + dense[q]))
        ids = {name: i for i, name in enumerate(names)}
        ranked = reciprocal_rank_fusion([ids[d] for d in dense[q]], [ids[d] for d in lexical.get(q, [])], depth)
        fused[q] = [names[c.passage_id] for c in ranked]
    return fused


def rerank_run(col: IRCollection, first: dict[str, list[str]], reranker: Reranker) -> dict[str, list[str]]:
    """The first run's top documents of the first `reranker.queries` queries, reordered by their best window."""
    qids = list(first)[:reranker.queries]
    keys, queries, windows = [], [], []
    for q in qids:
        for doc in first[q][:reranker.depth]:
            for window in word_windows(col.docs[doc]):
                keys.append((q, doc))
                queries.append(col.queries[q])
                windows.append(window)
    best: dict[tuple[str, str], float] = {}
    for key, value in zip(keys, reranker.score(queries, windows)):
        best[key] = max(best.get(key, -np.inf), value)
    return {q: sorted(first[q][:reranker.depth], key=lambda d: -best[(q, d)]) + first[q][reranker.depth:]
            for q in qids}


def compare_retrieval(col: IRCollection, systems: dict[str, tuple[Embed, Embed]],
                      reranker: Reranker | None = None) -> dict[str, dict[str, float]]:
    """Metrics for BM25 and each dense system (name -> (embed_queries, embed_passages)); with a reranker, also
    the product's stages over the last system: hybrid, and hybrid + rerank next to hybrid on the same queries."""
    lexical = bm25_run(col)
    results = {"bm25": ranking_metrics(lexical, col.qrels)}
    dense = {}
    for name, (eq, ep) in systems.items():
        dense = dense_run(col, eq, ep)
        results[name] = ranking_metrics(dense, col.qrels)
    hybrid = hybrid_run(lexical, dense)
    results["hybrid (bm25 + ours, RRF)"] = ranking_metrics(hybrid, col.qrels)
    if reranker is not None:
        reranked = rerank_run(col, hybrid, reranker)
        subset = {q: col.qrels[q] for q in reranked if q in col.qrels}
        results[f"hybrid, first {len(subset)} queries"] = ranking_metrics(hybrid, subset)
        results[f"hybrid + rerank top {reranker.depth}, same queries"] = ranking_metrics(reranked, subset)
    return results
