"""The product's stages in the retrieval evaluation: RRF fusion of two runs and the rerank of the top documents."""
from search.evaluation.retrieval import Reranker, hybrid_run, rerank_run, word_windows
from search.training.data import IRCollection


def test_hybrid_matches_rrf_by_hand():
    lexical = {"q": ["a", "b", "c"]}
    dense = {"q": ["c", "d", "a"]}
    scores = {"a": 1 / 61 + 1 / 63, "b": 1 / 62, "c": 1 / 63 + 1 / 61, "d": 1 / 62}
    fused = hybrid_run(lexical, dense)["q"]
    assert set(fused) == set(scores)
    assert [scores[d] for d in fused] == sorted(scores.values(), reverse=True)
    assert fused[:2] in (["a", "c"], ["c", "a"])  # found by both lists: above those found once


def test_rerank_orders_top_documents_by_their_best_window():
    long_doc = " ".join(["filler"] * 400 + ["needle"] + ["filler"] * 10)  # the match is in a late window
    col = IRCollection(docs={"a": "nothing here", "b": long_doc, "c": "needle once"},
                       queries={"q1": "needle", "q2": "needle"}, qrels={"q1": {"b"}, "q2": {"b"}})
    assert len(word_windows(long_doc)) > 1
    calls = []

    def score(queries: list[str], passages: list[str]) -> list[float]:
        calls.append(len(passages))
        return [float(p.count(q)) + 0.1 * (p == "needle once") for q, p in zip(queries, passages)]

    first = {"q1": ["a", "b", "c"], "q2": ["a", "b", "c"]}
    reranked = rerank_run(col, first, Reranker(score, depth=2, queries=1))
    assert list(reranked) == ["q1"]  # only the first `queries` queries are reranked
    assert reranked["q1"] == ["b", "a", "c"]  # b's best window wins; c was below the depth and stays last
    assert calls == [1 + len(word_windows(long_doc))]  # one batch: every window of the top 2 documents


def test_windows_cover_every_word():
    for n in (0, 5, 180, 181, 320, 411, 1000):
        words = [f"w{i}" for i in range(n)]
        windows = word_windows(" ".join(words))
        covered = {w for window in windows for w in window.split()}
        assert covered == set(words) and all(len(w.split()) <= 180 for w in windows)
