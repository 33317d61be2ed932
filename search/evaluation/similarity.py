"""STS-B correlations for the pair regression head and for the cosine of the embedding head."""
from __future__ import annotations

import numpy as np
from scipy.stats import pearsonr, spearmanr

from search.model.newsmodel import NewsModel
from search.training.data import ScoredPair


def evaluate_sts(model: NewsModel, pairs: list[ScoredPair]) -> dict[str, float]:
    gold = np.array([p.score for p in pairs])
    pair = np.array([s.relevance for s in model.score_pair_list([p.first for p in pairs], [p.second for p in pairs])])
    a = model.embed_passages([p.first for p in pairs])
    b = model.embed_passages([p.second for p in pairs])
    cosine = (a * b).sum(axis=1)
    return {"pair_spearman": float(spearmanr(pair, gold)[0]), "pair_pearson": float(pearsonr(pair, gold)[0]),
            "cosine_spearman": float(spearmanr(cosine, gold)[0]), "cosine_pearson": float(pearsonr(cosine, gold)[0]),
            "pairs": len(pairs)}
