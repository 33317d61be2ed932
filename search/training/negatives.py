"""Hard-negative mining for the bi-encoder: first with BM25, later with the model's own embeddings.

A mined passage is dropped when it may be a false negative: it belongs to the positive's article (same group)
or it contains the answer text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import bm25s
import numpy as np
import torch


@dataclass
class RetrievalExample:
    query: str
    positive: int  # corpus index
    group: str  # article id or title: passages of the same group are never negatives
    answer: str | None  # answer text, when known: passages containing it are never negatives
    negatives: list[int]


def may_be_negative(ex: RetrievalExample, cand: int, groups: list[str], corpus_lower: list[str]) -> bool:
    """False for the positive itself and for possible false negatives: a passage of the positive's article, or
    one containing the answer text. Mined negatives and the in-batch candidates both go through this guard."""
    if cand == ex.positive or groups[cand] == ex.group:
        return False
    return not (ex.answer and ex.answer.lower() in corpus_lower[cand])


def _assign(examples: list[RetrievalExample], ranked: np.ndarray, groups: list[str], corpus: list[str],
            per_query: int) -> None:
    lower = [c.lower() for c in corpus]
    for ex, row in zip(examples, ranked):
        kept = [int(c) for c in row if may_be_negative(ex, int(c), groups, lower)]
        ex.negatives = kept[:per_query]


def mine_bm25(examples: list[RetrievalExample], corpus: list[str], groups: list[str], per_query: int = 1,
              depth: int = 20) -> None:
    """Top BM25 passages that are not the positive nor a possible false negative."""
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    tokens = bm25s.tokenize([ex.query for ex in examples], stopwords="en", show_progress=False)
    ranked, _ = retriever.retrieve(tokens, k=min(depth, len(corpus)), show_progress=False, n_threads=1)
    _assign(examples, ranked, groups, corpus, per_query)


def mine_dense(examples: list[RetrievalExample], corpus_vectors: torch.Tensor,
               embed_queries: Callable[[list[str]], torch.Tensor], corpus: list[str], groups: list[str],
               per_query: int = 1, depth: int = 20, skip: int = 0, chunk: int = 4096) -> None:
    """Nearest passages under the current model (a matmul: exact search, fine for a training pool).

    `skip` leaves out the very top ranks, where unlabelled positives concentrate.
    """
    q = embed_queries([ex.query for ex in examples])  # (N, H)
    k = min(depth + skip, corpus_vectors.shape[0])
    # in chunks of queries: the full (N, P) score matrix of SQuAD train would take 8 GB
    ranked = np.concatenate([(q[i:i + chunk] @ corpus_vectors.T).topk(k, dim=1).indices[:, skip:].cpu().numpy()
                             for i in range(0, q.shape[0], chunk)])  # (N, depth)
    _assign(examples, ranked, groups, corpus, per_query)
