"""Ranking metrics over a run (query -> ranked doc ids) and binary qrels."""
from __future__ import annotations

import math


def ranking_metrics(run: dict[str, list[str]], qrels: dict[str, set[str]]) -> dict[str, float]:
    """MRR@10, Recall@1/10/100 and nDCG@10 averaged over the queries that have judgments."""
    totals = {"mrr@10": 0.0, "recall@1": 0.0, "recall@10": 0.0, "recall@100": 0.0, "ndcg@10": 0.0}
    queries = [q for q in qrels if qrels[q]]
    for q in queries:
        ranked, relevant = run.get(q, []), qrels[q]
        for rank, doc in enumerate(ranked[:10], start=1):
            if doc in relevant:
                totals["mrr@10"] += 1.0 / rank
                break
        for k in (1, 10, 100):
            totals[f"recall@{k}"] += len(relevant & set(ranked[:k])) / len(relevant)
        dcg = sum(1.0 / math.log2(r + 1) for r, d in enumerate(ranked[:10], start=1) if d in relevant)
        ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(relevant), 10) + 1))
        totals["ndcg@10"] += dcg / ideal
    n = max(len(queries), 1)
    return {k: v / n for k, v in totals.items()} | {"queries": len(queries)}
