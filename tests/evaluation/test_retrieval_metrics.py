"""Ranking metrics against a brute-force recomputation on random runs."""
import math
import random

import pytest

from search.evaluation.retrieval_metrics import ranking_metrics


def oracle(ranked, relevant):
    rr = next((1 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0)
    gains = [1 / math.log2(i + 2) if d in relevant else 0 for i, d in enumerate(ranked[:10])]
    ideal = [1 / math.log2(i + 2) for i in range(min(10, len(relevant)))]
    return rr, sum(gains) / sum(ideal), sum(d in relevant for d in ranked[:10]) / len(relevant)


def test_against_oracle():
    rng = random.Random(3)
    docs = [str(i) for i in range(40)]
    run, qrels = {}, {}
    for q in range(25):
        run[str(q)] = rng.sample(docs, 30)
        qrels[str(q)] = set(rng.sample(docs, rng.randint(1, 4)))
    got = ranking_metrics(run, qrels)
    expect = [oracle(run[q], qrels[q]) for q in run]
    assert got["mrr@10"] == pytest.approx(sum(e[0] for e in expect) / 25)
    assert got["ndcg@10"] == pytest.approx(sum(e[1] for e in expect) / 25)
    assert got["recall@10"] == pytest.approx(sum(e[2] for e in expect) / 25)


def test_perfect_run():
    got = ranking_metrics({"a": ["x", "y"]}, {"a": {"x"}})
    assert got["mrr@10"] == 1.0 and got["recall@1"] == 1.0 and got["ndcg@10"] == 1.0
