"""Stage 2: hybrid retrieval — FAISS and FTS5 top-K each, restricted by the filters, fused (search.pipeline.fusion).

Filters act inside both searches (the vector search only scores allowed passages, the lexical search
adds them to its SQL), so a narrow filter still yields K candidates instead of whatever survived from
an unfiltered top-K. The two searches run at the same time (FAISS and SQLite both release the GIL), so
retrieval costs the slower of the two rather than their sum.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from search.pipeline.fusion import Scored, fuse
from search.pipeline.records import Candidate
from search.store import Filters, PassageRow, Store

_LEXICAL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lexical")  # FTS5 beside the vector search


def retrieve_lists(store: Store, query_vector: np.ndarray, query: str, filters: Filters, k: int,
                   match: str | None = None) -> tuple[Scored, Scored]:
    """(dense, lexical): each retriever's top `k` (passage id, score) within the filters, best first; the dense
    score is the cosine similarity, the lexical one FTS5's BM25 (higher is better). `match`: the lexical side's
    FTS5 expression from the query syntax (search/pipeline/syntax.py); None: the query's words."""
    allowed = store.allowed_passage_ids(filters)
    if allowed is not None and len(allowed) == 0:
        return [], []
    lexical_hits = _LEXICAL.submit(store.lexical_search, query, k, filters, match)
    dense = store.dense_search(query_vector, k, allowed)[0]
    return dense, lexical_hits.result()


def retrieve(store: Store, query_vector: np.ndarray, query: str, filters: Filters, k: int,
             fusion: str = "convex", alpha: float = 0.5, match: str | None = None) -> list[Candidate]:
    """The top `k` fused candidates; each retriever contributes its own top `k`."""
    dense, lexical = retrieve_lists(store, query_vector, query, filters, k, match)
    return fuse(dense, lexical, k, fusion, alpha)


def fetch_passages(store: Store, candidates: list[Candidate]) -> list[tuple[Candidate, PassageRow]]:
    """Each candidate with its passage row, in candidate order; a passage deleted since retrieval
    (an indexer writing concurrently) is dropped rather than failing the search."""
    rows = {row.id: row for row in store.passages([c.passage_id for c in candidates])}
    return [(c, rows[c.passage_id]) for c in candidates if c.passage_id in rows]
