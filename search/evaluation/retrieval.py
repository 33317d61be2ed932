"""Retrieval quality: BM25, the untouched base encoder and our encoder, side by side on the same collection.

Long documents (TIME articles average 624 words) are cut into overlapping word windows for the dense systems
and scored by their best window (MaxP), as the product does with passages; BM25 sees whole documents.
"""
from __future__ import annotations

from typing import Callable

import bm25s
import numpy as np

from search.evaluation.retrieval_metrics import ranking_metrics
from search.training.data import IRCollection

Embed = Callable[[list[str]], np.ndarray]


def word_windows(text: str, size: int = 180, stride: int = 140) -> list[str]:
    words = text.split()
    return [" ".join(words[i:i + size]) for i in range(0, max(len(words) - size, 0) + 1, stride)] or [text]


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


def compare_retrieval(col: IRCollection, systems: dict[str, tuple[Embed, Embed]]) -> dict[str, dict[str, float]]:
    """Metrics for BM25 and each dense system (name -> (embed_queries, embed_passages))."""
    results = {"bm25": ranking_metrics(bm25_run(col), col.qrels)}
    for name, (eq, ep) in systems.items():
        results[name] = ranking_metrics(dense_run(col, eq, ep), col.qrels)
    return results
