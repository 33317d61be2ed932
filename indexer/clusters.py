"""Story clusters: copies of one story (wire copies, re-sends, small edits) fold into one cluster, nothing else.

Two articles are copies when their article vectors are close (cosine ≥ `duplicate_threshold`) *and* their texts
share most of their word 3-shingles (Jaccard ≥ `copy_jaccard`; w-shingling, Broder 1997, "On the resemblance and
containment of documents"). The vector test alone folds template-like articles together — "A beat B 4-1 on
Saturday" for two hundred different games reads alike to an encoder — so the vector index only proposes
candidates and the shingles decide. An article joins the cluster of the first earlier copy it finds.

When an article that shares a cluster changes or is deleted, the others may have joined through it; the store
journals that cluster (`Store.clusters_to_recheck`) and `recheck` assigns its members again among themselves.
"""
from __future__ import annotations

from typing import Callable, Iterable

import faiss
import numpy as np
from cachetools import LRUCache

from search.store import Store
from search.terms import words

SHINGLE_WORDS = 3
CANDIDATES = 5  # nearest article vectors checked for being a copy
SHINGLES_CACHED = 4096  # articles whose shingles stay in memory (more than a commit batch holds)


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """The text's runs of `size` consecutive words (lowercased, punctuation dropped), each as its hash (this
    process's: never stored); the whole text as one shingle when it is shorter."""
    w = words(text)
    return frozenset(hash(tuple(w[i:i + size])) for i in range(max(1, len(w) - size + 1)))


def jaccard(a: frozenset, b: frozenset) -> float:
    """|a ∩ b| / |a ∪ b| (0 for two empty sets)."""
    return len(a & b) / len(a | b) if a or b else 0.0


class StoryClusters:
    """Article vectors in memory, to find the cluster of each new article with one vector lookup and at most
    `CANDIDATES` shingle comparisons."""

    def __init__(self, dim: int, threshold: float, min_jaccard: float,
                 texts: Callable[[list[str]], dict[str, str]] | None = None) -> None:
        self.threshold = threshold  # article-vector cosine from which two articles may be one story
        self.min_jaccard = min_jaccard  # shingle overlap from which they are copies
        self.texts = texts  # article id -> text for members not assigned by this object (stored ones)
        self.index = faiss.IndexFlatIP(dim)
        self.members: list[tuple[str, str]] = []  # (article id, cluster id) per index row
        # shingles of recent articles: those of a batch not yet committed must stay (the store cannot give their
        # text yet), older ones are read again from the store when a candidate needs them
        self._shingles: LRUCache[str, frozenset] = LRUCache(maxsize=SHINGLES_CACHED)

    @classmethod
    def from_store(cls, store: Store, model_id: str, dim: int, threshold: float,
                   min_jaccard: float) -> "StoryClusters":
        """The store's articles annotated by `model_id` (vectors of another model are not comparable)."""
        clusters = cls(dim, threshold, min_jaccard, store.article_texts)
        members, vectors = store.article_vectors(model_id)
        if members:
            clusters.index.add(vectors)
            clusters.members = members
        return clusters

    def assign(self, article_id: str, vector: np.ndarray, text: str) -> str:
        """The cluster id for this article (its own id when no earlier article is a copy of it), remembered for
        later articles. `vector`: (dim,) unit article vector."""
        own = shingles(text)
        cluster = article_id
        rows = self._close_rows(article_id, vector)
        others = self._shingles_of([self.members[row][0] for row in rows])
        for row in rows:
            other_id, other_cluster = self.members[row]
            if jaccard(own, others.get(other_id, frozenset())) >= self.min_jaccard:
                cluster = other_cluster
                break
        self.index.add(vector.reshape(1, -1))
        self.members.append((article_id, cluster))
        self._shingles[article_id] = own
        return cluster

    def _close_rows(self, article_id: str, vector: np.ndarray) -> list[int]:
        if not self.index.ntotal:
            return []
        scores, rows = self.index.search(vector.reshape(1, -1), min(CANDIDATES, self.index.ntotal))
        return [int(r) for s, r in zip(scores[0], rows[0])
                if r >= 0 and s >= self.threshold and self.members[r][0] != article_id]

    def _shingles_of(self, ids: list[str]) -> dict[str, frozenset]:
        """Shingles of these members: cached, or from their stored texts in one query."""
        missing = [i for i in ids if i not in self._shingles]
        texts = self.texts(missing) if missing and self.texts else {}
        for article_id in missing:
            self._shingles[article_id] = shingles(texts.get(article_id, ""))
        return {i: self._shingles[i] for i in ids if i in self._shingles}


def recheck(store: Store, threshold: float, min_jaccard: float) -> int:
    """Assign the members of every journaled cluster again, among themselves and in indexing order, and write
    the result with the journal entry struck off in one commit. Returns how many clusters were re-checked."""
    pending = store.clusters_to_recheck()
    for cluster_id in pending:
        members = store.cluster_articles(cluster_id)
        assignment = _assign_all(members, threshold, min_jaccard) if members else {}
        store.set_clusters(cluster_id, assignment)
    return len(pending)


def _assign_all(members: Iterable[tuple[str, np.ndarray, str]], threshold: float,
                min_jaccard: float) -> dict[str, str]:
    members = list(members)
    clusters = StoryClusters(len(members[0][1]), threshold, min_jaccard)
    return {article_id: clusters.assign(article_id, vector, text) for article_id, vector, text in members}
