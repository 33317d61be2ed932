"""Stage 1: encode the query once with the embedding head (the one short query pass per search)."""
from __future__ import annotations

import numpy as np

from search.model import NewsModel


def encode_query(model: NewsModel, query: str) -> np.ndarray:
    """(1, dim) float32 unit vector, the shape the vector index searches with."""
    return model.embed_queries([query])
