"""The BM25 baseline over whole documents (bm25s, English stopwords): the lexical reference every retrieval
table and the tuning rule compare against. The product's own rows are in `search.evaluation.ranking`."""
from __future__ import annotations

import bm25s

from search.training.data import IRCollection


def bm25_run(col: IRCollection, depth: int = 100) -> dict[str, list[str]]:
    """query id -> the `depth` best document ids by BM25 (Robertson et al.; bm25s' Lucene variant)."""
    doc_ids = list(col.docs)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([col.docs[d] for d in doc_ids], stopwords="en", show_progress=False),
                    show_progress=False)
    qids = list(col.queries)
    ranked, _ = retriever.retrieve(bm25s.tokenize([col.queries[q] for q in qids], stopwords="en", show_progress=False),
                                   k=min(depth, len(doc_ids)), show_progress=False)
    return {q: [doc_ids[i] for i in row] for q, row in zip(qids, ranked)}
