"""Near-duplicate story clusters: an article whose vector is nearly identical to an indexed one joins its cluster."""
from __future__ import annotations

import faiss
import numpy as np

from search.store import Store


class StoryClusters:
    """Article vectors of the store in memory, to find the cluster of each new article in one lookup."""

    def __init__(self, dim: int, threshold: float) -> None:
        self.threshold = threshold  # cosine similarity at or above which two articles tell the same story
        self.index = faiss.IndexFlatIP(dim)
        self.members: list[tuple[str, str]] = []  # (article id, cluster id) per index row

    @classmethod
    def from_store(cls, store: Store, model_id: str, dim: int, threshold: float) -> "StoryClusters":
        """The store's articles annotated by `model_id` (vectors of another model are not comparable)."""
        clusters = cls(dim, threshold)
        members, vectors = store.article_vectors(model_id)
        if members:
            clusters.index.add(vectors)
            clusters.members = members
        return clusters

    def assign(self, article_id: str, vector: np.ndarray) -> str:
        """The cluster id for this article (its own id when nothing is close), remembered for later articles."""
        cluster = article_id
        if self.index.ntotal:
            scores, rows = self.index.search(vector.reshape(1, -1), min(5, self.index.ntotal))
            for score, row in zip(scores[0], rows[0]):
                if row >= 0 and score >= self.threshold and self.members[row][0] != article_id:
                    cluster = self.members[row][1]
                    break
        self.index.add(vector.reshape(1, -1))
        self.members.append((article_id, cluster))
        return cluster
