"""The evaluation ranks documents as /search ranks articles, and the tuning rule is max-min across collections."""
from __future__ import annotations

import pytest

from search.evaluation.evidence import CollectionEvidence, QueryEvidence
from search.evaluation.ranking import rank_query
from search.evaluation.retrieval import bm25_run
from search.evaluation.tuning import Grid, choose_settings, ratios_to_bm25
from search.model.config import RankingSettings
from search.training.data import IRCollection


def evidence(pair: dict[int, float], name: str = "c", qrels: dict[str, set[str]] | None = None) -> CollectionEvidence:
    """Passages 1-2 belong to doc a, 3 to b, 4 to c, 5 to d; dense and lexical lists disagree on the order."""
    query = QueryEvidence("q", "query", lexical=[(3, 9.0), (1, 5.0), (4, 1.0)],
                          dense={"newsearch": [(1, 0.9), (2, 0.8), (4, 0.2), (5, 0.1)]})
    calls: list[tuple[int, int]] = []

    def scorer(queries: list[str], passages: list[str], window: int) -> list[float]:
        calls.append((len(passages), window))
        return [pair[int(p)] - (0.01 if window else 0.0) for p in passages]

    ev = CollectionEvidence(name, qrels or {"q": {"b"}}, {1: "a", 2: "a", 3: "b", 4: "c", 5: "d"},
                            {1: "1", 2: "2", 3: "3", 4: "4", 5: "5"}, {1: 50, 2: 50, 3: 200, 4: 200, 5: 50},
                            [query], {}, pair_queries=1, scorer=scorer)
    ev.calls = calls
    return ev


def test_hybrid_order_follows_the_fused_scores_grouped_by_article() -> None:
    ev = evidence({})
    dense_only = RankingSettings(fusion="convex", alpha=1.0, rerank_depth=0)
    assert rank_query(ev, ev.queries[0], dense_only, rerank=False) == ["a", "c", "b", "d"]  # b, d tie at 0: by id
    lexical_only = RankingSettings(fusion="convex", alpha=0.0, rerank_depth=0)
    assert rank_query(ev, ev.queries[0], lexical_only, rerank=False) == ["b", "a", "c", "d"]


def test_second_passage_credits_an_article_several_passages_match() -> None:
    """Dense only: b's one passage (1.0) beats a's best (0.976), but a's two matching passages win with w 0.5."""
    ev = evidence({})
    ev.queries[0].dense["newsearch"] = [(3, 0.82), (1, 0.8), (2, 0.8), (5, 0.0)]
    best_only = RankingSettings(fusion="convex", alpha=1.0, rerank_depth=0, second_passage_weight=0.0)
    assert rank_query(ev, ev.queries[0], best_only, rerank=False)[:2] == ["b", "a"]
    both = RankingSettings(fusion="convex", alpha=1.0, rerank_depth=0, second_passage_weight=0.5)
    assert rank_query(ev, ev.queries[0], both, rerank=False)[:2] == ["a", "b"]


def test_order_relevance_blends_then_keeps_the_rest_strictly_below() -> None:
    from search.pipeline.rerank import order_relevance

    relevance = order_relevance([0.9, 0.8, 0.7, 0.6], [0.0, 1.0, None, None], weight=0.5)
    assert relevance[:2] == pytest.approx([0.45, 0.9])
    assert relevance[2] < 0.45 and relevance[3] < relevance[2]  # below the lowest reranked one, in fused order
    assert order_relevance([0.5, 0.4], [2.0, None], weight=1.0)[0] == 1.0  # the pair score is clipped to 0..1
    assert order_relevance([0.5, 0.4], [None, None], weight=0.5) == [0.5, 0.4]  # nothing reranked: fused as is


def test_order_relevance_keeps_unread_candidates_below_wherever_they_are() -> None:
    """An article's lower passage the pair pass skipped sits between two read ones: it still goes below both."""
    from search.pipeline.rerank import order_relevance

    relevance = order_relevance([0.9, 0.8, 0.7, 0.6], [0.2, None, 0.6, None], weight=0.5)
    assert relevance[0] == pytest.approx(0.55) and relevance[2] == pytest.approx(0.65)
    assert relevance[1] < 0.55 and relevance[3] < relevance[1]  # below every read one, in fused order


def test_pair_positions_read_each_articles_counted_passages_within_the_depth() -> None:
    from search.pipeline.rerank import pair_positions

    articles = ["a", "a", "b", "a", "c", "b", "d"]
    fused = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]
    assert pair_positions(articles, fused, depth=5, per_article=1) == [0, 2, 4]  # a's 2nd and 3rd passages skipped
    assert pair_positions(articles, fused, depth=6, per_article=2) == [0, 1, 2, 4, 5]  # a's third skipped
    assert pair_positions(articles, fused, depth=0, per_article=1) == []
    assert pair_positions(articles, fused, depth=99, per_article=99) == list(range(7))  # past the end: every one
    with pytest.raises(ValueError, match="per_article"):
        pair_positions(articles, fused, depth=5, per_article=0)
    with pytest.raises(ValueError, match="fused scores"):
        pair_positions(articles, fused[:3], depth=5, per_article=1)


def test_pair_positions_stop_at_the_first_candidate_past_the_margin() -> None:
    """Brute force: a candidate is read iff it is within the depth, within the margin of the first fused score and
    its article's first; a margin of 1 (fused scores lie on 0..1) reads as if there were none."""
    from search.pipeline.rerank import pair_positions

    articles = ["a", "b", "a", "c", "d", "e", "f"]
    fused = [0.9, 0.85, 0.6, 0.55, 0.41, 0.39, 0.0]
    for depth in range(8):
        for margin in (0.0, 0.05, 0.3, 0.5, 1.0):
            seen: set[str] = set()
            brute = []
            for i in range(min(depth, len(articles))):
                if fused[i] >= fused[0] - margin and articles[i] not in seen:
                    brute.append(i)
                seen.add(articles[i])
            assert pair_positions(articles, fused, depth, 1, margin) == brute
    assert pair_positions(articles, fused, 7, 1, 1.0) == pair_positions(articles, fused, 7, 1)
    assert pair_positions(articles, fused, 7, 1, 0.0) == [0]  # the first candidate is always read
    assert RankingSettings(second_passage_weight=0.0).read_per_article == 1  # MaxP counts the best passage
    assert RankingSettings(second_passage_weight=0.1).read_per_article == 2  # and the second, with a share


def test_the_rerank_reads_an_articles_second_passage_only_when_its_score_counts_it() -> None:
    ev = evidence({1: 0.0, 2: 1.0, 3: 0.0, 4: 0.0, 5: 0.0})
    read = lambda: sorted(pid for _, pid, _ in ev.pairs)  # noqa: E731 - the passages scored so far
    maxp = RankingSettings(fusion="convex", alpha=1.0, rerank_depth=4, rerank_weight=0.5)
    rank_query(ev, ev.queries[0], maxp)  # fused order 1 (a), 2 (a), 4 (c), then 3 (b) / 5 (d)
    assert 2 not in read() and len(read()) == 3  # a's second passage is not read
    share = RankingSettings(fusion="convex", alpha=1.0, rerank_depth=4, rerank_weight=0.5, second_passage_weight=0.5)
    rank_query(ev, ev.queries[0], share)
    assert 2 in read()  # with a second-passage share it counts, so it is read


def test_article_relevance_is_a_weighted_mean_of_the_two_best() -> None:
    from search.pipeline.grouping import article_relevance

    assert article_relevance([0.2, 0.9, 0.5], 0.0) == 0.9
    assert article_relevance([0.2, 0.9, 0.5], 0.5) == pytest.approx((0.9 + 0.25) / 1.5)
    assert article_relevance([0.8], 0.25) == pytest.approx(0.8 / 1.25)


def test_rerank_blends_pair_and_fused_scores_and_scores_each_pair_once() -> None:
    ev = evidence({1: 0.0, 2: 0.0, 3: 1.0, 4: 0.0, 5: 0.0})
    pure = RankingSettings(fusion="convex", alpha=0.5, rerank_depth=4, rerank_weight=1.0)
    assert rank_query(ev, ev.queries[0], pure)[0] == "b"  # the pair head alone puts b first
    none = RankingSettings(fusion="convex", alpha=0.5, rerank_depth=4, rerank_weight=0.0)
    assert rank_query(ev, ev.queries[0], none) == rank_query(ev, ev.queries[0], none, rerank=False)
    assert ev.calls == [(3, 0)]  # the depth's four passages but a's second one; the second ranking reused the
    # cached scores


def test_candidates_past_the_rerank_depth_stay_below_in_fused_order() -> None:
    ev = evidence({1: 0.1, 2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0})
    ev.passage_doc = {1: "z", 2: "z", 3: "b", 4: "c", 5: "d"}  # the reranked article sorts last by id: no tie helps it
    settings = RankingSettings(fusion="convex", alpha=0.5, rerank_depth=1, rerank_weight=1.0)
    # fused order: 1 (z), 3 (b), 2 (z), 4 (c); passage 1 is reranked to 0.1, the rest stay below it in fused order
    assert rank_query(ev, ev.queries[0], settings) == ["z", "b", "c", "d"]
    assert ev.calls == [(1, 0)]


def test_the_rule_maximises_the_worst_collection() -> None:
    """Lexical-only wins on one collection, dense-only on the other: dense-only (worst ratio 1.0) must lose."""
    first = evidence({}, "one", {"q": {"b"}})  # b is lexical's favourite
    second = evidence({}, "two", {"q": {"a"}})  # a is dense's favourite
    bm25 = {"one": {"q": ["c", "a", "b"]}, "two": {"q": ["c", "b", "a"]}}
    grid = Grid(fusion=("convex",), alpha=(0.0, 0.5, 1.0), rerank_weight=(0.5,), second_passage_weight=(0.0,),
                rerank_depth=0)
    tuned = choose_settings([first, second], bm25, grid, candidates=30)
    assert tuned.tried == 3
    worst = {alpha: min(ratios_to_bm25([first, second], bm25, RankingSettings("convex", alpha, 30, 0)).values())
             for alpha in (0.0, 0.5, 1.0)}
    assert worst[1.0] == pytest.approx(1.0) and worst[0.5] > 1.2 and worst[0.0] > 1.2  # brute force, same grid
    assert tuned.worst_ratio == pytest.approx(max(worst.values()))
    assert worst[tuned.settings.alpha] == pytest.approx(tuned.worst_ratio) and tuned.settings.alpha != 1.0


def test_settings_deeper_than_the_evidence_are_refused() -> None:
    ev = evidence({})
    with pytest.raises(ValueError, match="top 30"):
        rank_query(ev, ev.queries[0], RankingSettings(candidates=31), rerank=False)


def test_bm25_baseline_ranks_the_matching_document_first() -> None:
    col = IRCollection(docs={"a": "the cat sat on the mat", "b": "stock markets fell on oil prices",
                             "c": "a dog in the park"}, queries={"q": "oil markets"}, qrels={"q": {"b"}})
    assert bm25_run(col)["q"][0] == "b"


def test_the_rerank_sample_is_spread_by_hash_not_the_first_queries() -> None:
    import hashlib

    ev = evidence({})
    ev.queries = [QueryEvidence(f"q{i}", "x", [], {"newsearch": []}) for i in range(50)]
    ev.pair_queries = 5
    expected = sorted((f"q{i}" for i in range(50)), key=lambda q: hashlib.sha1(q.encode()).hexdigest())[:5]
    assert [q.qid for q in ev.rerank_sample()] == expected != [f"q{i}" for i in range(5)]


def test_answer_threshold_is_the_strictest_that_keeps_the_recall_by_brute_force() -> None:
    import random

    from search.evaluation.answers import THRESHOLDS, best_threshold

    rng = random.Random(3)
    labels = [rng.random() < 0.3 for _ in range(200)]
    confidences = [min(1.0, max(0.0, rng.gauss(0.7 if l else 0.35, 0.2))) for l in labels]

    def recall(t: float) -> float:
        return sum(c >= t and l for c, l in zip(confidences, labels)) / sum(labels)

    for wanted in (0.5, 0.8, 0.95):
        chosen = best_threshold(confidences, labels, wanted)
        assert chosen.threshold == max(t for t in THRESHOLDS if recall(t) >= wanted)
        assert chosen.recall == pytest.approx(recall(chosen.threshold)) and chosen.recall >= wanted
    assert best_threshold([0.01], [True], 0.95).threshold == 0.05  # none keeps it: the lowest candidate


def test_pairs_are_scored_once_per_window_and_a_short_passage_once_in_all() -> None:
    """Passages 3 and 4 (200 pieces) are longer than a 128-piece window; 1, 2 and 5 (50) are read whole anyway."""
    ev = evidence({1: 0.5, 2: 0.4, 3: 0.9, 4: 0.1, 5: 0.2})
    q = ev.queries[0]
    assert ev.pair_scores(q, [1, 3, 4]) == [0.5, 0.9, 0.1]
    assert ev.pair_scores(q, [1, 3, 4], window=128) == [0.5, pytest.approx(0.89), pytest.approx(0.09)]
    assert ev.calls == [(3, 0), (2, 128)]  # passage 1 fits the window: its whole-passage score is reused
    ev.pair_scores(q, [4, 3, 1], window=128)
    ev.pair_scores(q, [3, 1], window=256)  # 3 fits a 256-piece window: nothing new
    assert ev.calls == [(3, 0), (2, 128)]


def test_the_cheapest_depth_margin_and_window_within_tolerance_is_chosen_by_brute_force() -> None:
    """Pair scores: whole passages rank b (3) first; a 128-piece window of the long passages 3 and 4 loses that
    (the scorer takes 0.01 off, and 3 drops below 1), so only whole passages with b read keep the reference. Fused
    (convex 0.5): 1 (a) 0.75, 3 (b) 0.5, 2 (a) 0.44, 4 (c) 0.06, 5 (d) 0; so depth 1 or a margin under 0.25 loses b,
    and depth 4 with margin 0.3 reads b without c: the cheapest."""
    from search.evaluation.tuning import CostGrid, choose_cost, pieces_read

    ev = evidence({1: 0.5, 2: 0.4, 3: 0.505, 4: 0.1, 5: 0.2})
    bm25 = {"c": {"q": ["c", "a", "b"]}}
    reference = RankingSettings("convex", 0.5, 30, 4, rerank_weight=1.0)
    grid = CostGrid(rerank_depth=(1, 4), rerank_margin=(1.0, 0.3, 0.0), pair_window=(0, 128))
    choice = choose_cost([ev], bm25, reference, {0: 80.0, 128: 80.0}, grid)
    brute = {}
    for depth in (1, 4):
        for margin in (1.0, 0.3, 0.0):
            for window in (0, 128):
                settings = RankingSettings("convex", 0.5, 30, depth, 1.0, pair_window=window, rerank_margin=margin)
                kept = ratios_to_bm25([ev], bm25, settings)["c"] / ratios_to_bm25([ev], bm25, reference)["c"]
                brute[(depth, margin, window)] = (kept >= 0.995, pieces_read([ev], settings))
    cheapest = min((k for k, (ok, _) in brute.items() if ok), key=lambda k: (brute[k][1], k[0], -k[1]))
    got = choice.settings
    assert (got.rerank_depth, got.rerank_margin, got.pair_window) == cheapest == (4, 0.3, 0)
    assert [r["cost"] for r in choice.rows] == sorted(r["cost"] for r in choice.rows)
    # the cost is what was read: passages 1 (50 pieces) and 3 (200, or the 128 of its window) at depth 2, and 4
    # (200) too at depth 4
    assert pieces_read([ev], RankingSettings("convex", 0.5, 30, 2, 1.0)) == 250
    assert pieces_read([ev], RankingSettings("convex", 0.5, 30, 2, 1.0, pair_window=128)) == 178
    assert pieces_read([ev], RankingSettings("convex", 0.5, 30, 4, 1.0)) == 450
    # answers that fall by more than 1% with a window rule the window out whatever the ranking says
    strict = choose_cost([ev], bm25, reference, {0: 80.0, 128: 78.0}, grid)
    assert strict.settings.pair_window == 0
    with pytest.raises(ValueError, match="answer F1 missing"):
        choose_cost([ev], bm25, reference, {0: 80.0}, grid)


def test_the_relevance_floor_keeps_95_percent_of_shown_relevant_documents_everywhere() -> None:
    """Two collections whose relevant document scores 0.5 and 0.9: the floor is the lower one's strictest."""
    from search.evaluation.floor import choose_relevance_floor

    low = evidence({1: 0.2, 2: 0.1, 3: 0.5, 4: 0.3, 5: 0.0}, "low", {"q": {"b"}})
    high = evidence({1: 0.2, 2: 0.1, 3: 0.9, 4: 0.3, 5: 0.0}, "high", {"q": {"b"}})
    settings = RankingSettings("convex", 0.5, 30, 4, rerank_weight=0.5)
    chosen = choose_relevance_floor([low, high], settings)
    assert chosen.per_collection == {"low": 0.5, "high": 0.9}  # one relevant document each: recall 1 up to it
    assert chosen.floor == 0.5 and chosen.kept == {"low": 1.0, "high": 1.0} and chosen.judged == {"low": 1, "high": 1}
    with pytest.raises(ValueError, match="nothing to choose"):
        choose_relevance_floor([evidence({}, "none", {"q": {"zzz"}})], RankingSettings("convex", 0.5, 30, 0))


def test_margin_skipped_names_the_documents_left_unread_past_the_margin() -> None:
    """Fused (convex 0.5): 1 (a) 0.75, 3 (b) 0.5, 2 (a) 0.44, 4 (c) 0.06, 5 (d) 0. Margin 0.3 reads a and b; c and
    d are more than 0.3 below a. Margin 1 skips nothing: d, past depth 4, is unread but within the margin."""
    from search.evaluation.ranking import margin_skipped

    ev = evidence({1: 0.5, 2: 0.4, 3: 0.5, 4: 0.1, 5: 0.2})
    query = ev.queries[0]
    assert margin_skipped(ev, query, RankingSettings("convex", 0.5, 30, 4, rerank_margin=0.3)) == {"c", "d"}
    assert margin_skipped(ev, query, RankingSettings("convex", 0.5, 30, 4, rerank_margin=1.0)) == set()
    assert margin_skipped(ev, query, RankingSettings("convex", 0.5, 30, 0, rerank_margin=0.0)) == set()  # no pass
