"""The composed pipeline on a real store (built by the real indexer from the sample) with the real checkpoint."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from search.pipeline import InvalidRequest, SearchPipeline, SearchRequest
from search.store import Filters, Store
from tests.encoder_calls import encoder_forwards


@pytest.fixture(scope="module")
def store(sample_store) -> Store:
    return Store.open(sample_store, readonly=True)


@pytest.fixture(scope="module")
def pipeline(model, store) -> SearchPipeline:
    return SearchPipeline(model, store, clock=lambda: datetime(2025, 1, 1, tzinfo=timezone.utc))


@pytest.fixture(scope="module")
def article(store) -> dict:
    """An article with several passages, a topic, a date and entities: something every filter can select."""
    row = store.db.execute("""SELECT a.id, a.title, a.topic, a.source, a.published_date FROM articles a
        WHERE a.published_date IS NOT NULL AND EXISTS (SELECT 1 FROM article_entities ae WHERE ae.article_id = a.id)
        ORDER BY (SELECT COUNT(*) FROM passages p WHERE p.article_id = a.id) DESC, a.id LIMIT 1""").fetchone()
    return dict(zip(("id", "title", "topic", "source", "date"), row))


def encoder_rows(model, run) -> list[int]:
    """The rows (texts or query-passage pairs) of each forward run of the shared encoder during `run()`."""
    with encoder_forwards(model) as calls:
        run()
    return [int(inputs["input_ids"].shape[0]) for inputs in calls]


def request(query: str, **options) -> SearchRequest:
    """A small request by default (k=12): each passage the pair pass reads costs a pass, and CI has two cores."""
    return SearchRequest(query, **{"k": 12, **options})


def ids(response) -> list[str]:
    return [r.article_id for r in response.results]


def test_exact_title_finds_its_article(pipeline, article) -> None:
    fused = pipeline.search(request(article["title"], rerank=False))
    assert ids(fused)[0] == article["id"]
    assert fused.results[0].matched == "both"
    reranked = pipeline.search(request(article["title"], size=50))
    assert article["id"] in ids(reranked)


def fused_candidates(model, store, query: str, k: int) -> tuple[list[str], list[float]]:
    """The article and fused score of each fused candidate the pipeline gets for `query`, in fused order (outside
    any count of encoder rows: it runs the query pass)."""
    from search.pipeline.encode import encode_query
    from search.pipeline.retrieve import fetch_passages, retrieve
    from search.pipeline.syntax import parse_query

    settings, parsed = model.config.ranking, parse_query(query)
    candidates = retrieve(store, encode_query(model, parsed.text), parsed.text, Filters(), k, settings.fusion,
                          settings.alpha, parsed.fts_match())
    hits = fetch_passages(store, candidates)
    return [row.article_id for _, row in hits], [cand.fused for cand, _ in hits]


def fused_articles(model, store, query: str, k: int) -> list[str]:
    """`fused_candidates`' articles only."""
    return fused_candidates(model, store, query, k)[0]


def read_positions(model, store, query: str, k: int, depth: int | None = None, margin: float | None = None
                   ) -> list[int]:
    """The positions among `query`'s `k` fused candidates the pair pass reads under the model's settings, with
    another depth or margin where given."""
    from search.pipeline.rerank import pair_positions

    settings = model.config.ranking.overridden(rerank_depth=depth, rerank_margin=margin)
    return pair_positions(*fused_candidates(model, store, query, k), settings.rerank_depth,
                          settings.read_per_article, settings.rerank_margin)


def test_one_query_pass_then_each_candidate_through_the_encoder_once(model, store, article) -> None:
    pipeline = SearchPipeline(model, store, responses_cached=0)  # its own, empty query-vector cache
    response = None

    def run() -> None:
        nonlocal response
        response = pipeline.search(request(article["title"], k=32))

    depth = model.config.ranking.rerank_depth
    assert 0 < depth < 32
    read = read_positions(model, store, article["title"], 32, margin=1.0)
    assert len(read) < depth, "the article with the most passages should have several among the candidates"
    read = read_positions(model, store, article["title"], 32)  # with the model's margin
    rows = encoder_rows(model, run)
    assert rows[0] == 1  # the query, alone
    assert response.candidates == 32
    assert sum(rows[1:]) == len(read) == response.pairs_read  # each article's counted passages down to the rerank
    # depth and margin, once each
    shallow = read_positions(model, store, article["title"], depth - 3)
    rows = encoder_rows(model, lambda: pipeline.search(request(article["title"], k=depth - 3)))
    assert sum(rows) == len(shallow)  # fewer candidates than the depth: those, as many per article, once
    other = article["title"] + " interview"
    assert encoder_rows(model, lambda: pipeline.search(request(other, rerank=False, answers=False))) == [1]


def test_the_pair_pass_reads_only_the_passages_an_articles_score_counts(model, store, article,
                                                                        monkeypatch) -> None:
    """With MaxP (the release's setting) an article's lower passages among the candidates are not read: the
    passages with a pair score are each of another article, and every article within the depth has one."""
    import search.pipeline.pipeline as stages

    depth, per_article = model.config.ranking.rerank_depth, model.config.ranking.read_per_article
    within = fused_articles(model, store, article["title"], 32)[:depth]
    assert max(within.count(a) for a in within) > per_article, "no article to skip a passage of"
    read: list[str] = []
    rerank_and_read = stages.rerank_and_read

    def recording(*args, **kwargs):
        scored = rerank_and_read(*args, **kwargs)
        read.extend(sp.row.article_id for sp in scored if sp.pair is not None)
        return scored

    monkeypatch.setattr(stages, "rerank_and_read", recording)
    response = SearchPipeline(model, store, responses_cached=0).search(request(article["title"], k=32,
                                                                               rerank_margin=1.0))
    assert len(read) == response.pairs_read  # each read passage has its pair score
    assert max(read.count(a) for a in read) <= per_article and set(read) == set(within)


def test_a_requests_rerank_depth_sets_how_many_candidates_the_pair_pass_considers(model, store, article) -> None:
    pipeline = SearchPipeline(model, store, responses_cached=0)
    query = f"What happened in {article['title']}?"
    response = None

    def run(depth: int) -> None:
        nonlocal response
        response = pipeline.search(request(query, k=20, rerank_depth=depth))

    read = read_positions(model, store, query, 20, depth=4)
    assert sum(encoder_rows(model, lambda: run(4))[1:]) == len(read) == response.pairs_read  # after the query pass
    assert response.ranking["rerank_depth"] == 4 and response.candidates == 20
    assert sum(1 for r in response.results if r.passage.answer) <= 4
    assert encoder_rows(model, lambda: run(0)) == []  # the query vector is cached; no pair pass at all
    assert all(r.passage.answer is None for r in response.results)
    assert response.ranking["rerank_depth"] == 0 and response.pairs_read == 0


def test_a_requests_rerank_margin_stops_the_pair_pass_where_fused_scores_fall_that_far(model, store, article
                                                                                       ) -> None:
    """The pass reads the candidates within the margin of the first fused score (each article's counted ones):
    margin 0 the first only, a margin of 1 every one down to the depth; those it skips get no answer."""
    pipeline = SearchPipeline(model, store, responses_cached=0)
    query = f"What happened in {article['title']}?"
    articles, fused = fused_candidates(model, store, query, 30)
    assert fused[0] - fused[len(set(articles)) - 1] > 0.05, "the fused scores should spread"
    middle = (fused[0] - fused[min(5, len(fused) - 1)]) / 2  # between the first and the sixth candidate's
    pipeline.search(request(query, rerank=False, answers=False))  # the query vector, cached: no query pass below
    for margin in (0.0, middle, 1.0):
        read = read_positions(model, store, query, 30, margin=margin)
        assert read == [i for i in read_positions(model, store, query, 30, margin=1.0)
                        if fused[i] >= fused[0] - margin]  # the margin's cut, nothing else
        response = None

        def run(m: float = margin) -> None:
            nonlocal response
            response = pipeline.search(request(query, k=30, size=30, rerank_margin=m))

        rows = encoder_rows(model, run)
        assert sum(rows) == len(read) == response.pairs_read and response.ranking["rerank_margin"] == margin
        shown = response.results + response.weak
        assert sum(1 for r in shown if r.pair_score is not None) <= len(read)
        assert all(r.passage.answer is None for r in shown if r.pair_score is None)
        if margin == 0.0:  # every other candidate is past the margin: weak, never counted as a good match
            assert all(r.pair_score is not None for r in response.results)
            assert response.total == len(response.results) <= 1
    assert len(read_positions(model, store, query, 30, margin=0.0)) == 1


def test_answer_offsets_point_inside_the_returned_passage(pipeline, article) -> None:
    response = pipeline.search(request(f"What happened in {article['title']}?", size=20))
    answers = [r.passage.answer for r in response.results if r.passage.answer]
    assert answers, "the span head found no answer in any passage"
    for result in response.results:
        answer, text = result.passage.answer, result.passage.text
        if answer:
            assert 0 <= answer.start < answer.end <= len(text)
            assert text[answer.start:answer.end] == answer.text
            assert 0.0 <= answer.confidence <= 1.0
    assert all(r.passage.answer is None for r in pipeline.search(request(article["title"], answers=False)).results)


def test_a_pair_window_reads_part_of_each_passage_and_answers_point_into_the_whole(pipeline, model, article
                                                                                  ) -> None:
    response = pipeline.search(request(f"What happened in {article['title']}?", size=20, pair_window=64))
    assert response.ranking["pair_window"] == 64
    answers = [r.passage for r in response.results if r.passage.answer]
    assert answers and any(len(model.tokenizer(p.text)["input_ids"]) > 66 for p in answers)
    for passage in answers:
        assert passage.text[passage.answer.start:passage.answer.end] == passage.answer.text


def test_result_fields(pipeline, article) -> None:
    result = pipeline.search(request(article["title"], rerank=False)).results[0]
    assert (result.title, result.topic, result.source) == (article["title"], article["topic"], article["source"])
    assert result.published_at[:10] == article["date"]
    assert result.matched in ("dense", "lexical", "both") and isinstance(result.entities, list)


def test_topic_filter_applies_before_ranking(pipeline, store, article) -> None:
    filters = Filters(topics=[article["topic"]])
    allowed = len(store.allowed_passage_ids(filters))
    response = pipeline.search(request("news", k=30, size=50, filters=filters, rerank=False, answers=False))
    # the candidates are the top-k among the allowed passages, not what survived an unfiltered top-k
    assert response.candidates == min(30, allowed)
    assert response.results and {r.topic for r in response.results} == {article["topic"]}
    assert [f.value for f in response.facets["topics"]] == [article["topic"]]


def test_source_entity_and_date_filters(pipeline, store, article) -> None:
    entity = store.article(article["id"]).entities[0].name
    for filters in (Filters(sources=[article["source"]]), Filters(entities=[entity.upper()]),
                    Filters(date_from=article["date"], date_to=article["date"])):
        response = pipeline.search(request(article["title"], size=50, filters=filters, rerank=False, answers=False))
        assert article["id"] in ids(response), filters
        for r in response.results:
            if filters.sources:
                assert r.source == article["source"]
            if filters.entities:
                assert entity.casefold() in {m.name.casefold() for m in store.article(r.article_id).entities}
            if filters.date_from:
                assert r.published_at[:10] == article["date"]


def test_pages_split_the_list_without_overlap(pipeline, article) -> None:
    whole = pipeline.search(request("government election", size=8, rerank=False, answers=False))
    first, second = (pipeline.search(request("government election", size=4, page=p, rerank=False, answers=False)) for p in (1, 2))
    assert ids(first) + ids(second) == ids(whole)
    assert first.total == second.total == whole.total and first.pages == -(-whole.total // 4)
    assert pipeline.search(request("government election", page=999, rerank=False, answers=False)).results == []


def test_facets_count_the_candidate_articles(pipeline, store) -> None:
    response = pipeline.search(request("police arrested", k=20, size=50, rerank=False, answers=False))
    topics = {f.value: f.count for f in response.facets["topics"]}
    articles = {r.article_id for r in response.results} | {i for r in response.results for i in r.similar_ids}
    assert sum(topics.values()) == len(articles)
    for r in response.results:
        assert topics[r.topic] >= 1


def test_recency_orders_by_date_and_relevance_alone_does_not(pipeline) -> None:
    by_date = pipeline.search(request("president", size=50, recency=1.0))
    dates = [r.published_at for r in by_date.results]
    assert dates == sorted(dates, reverse=True)
    by_relevance = pipeline.search(request("president", size=50, recency=0.0))
    scores = [r.relevance for r in by_relevance.results]
    assert scores == sorted(scores, reverse=True)
    assert [r.score for r in by_relevance.results] == pytest.approx(scores)


@pytest.mark.parametrize("fusion", ["convex", "dbsf", "rrf"])
def test_rerank_off_keeps_the_fused_order_on_0_to_1(pipeline, fusion) -> None:
    from search.pipeline.encode import encode_query
    from search.pipeline.grouping import article_relevance
    from search.pipeline.retrieve import retrieve

    response = pipeline.search(request("earthquake", rerank=False, answers=False, size=50, fusion=fusion))
    relevances = [r.relevance for r in response.results]
    assert all(0.0 <= r <= 1.0 for r in relevances)
    # the fused list itself, straight from retrieval: the first result is its top passage, with its fused score
    fused = retrieve(pipeline.store, encode_query(pipeline.model, "earthquake"), "earthquake", Filters(), 12, fusion,
                     pipeline.model.config.ranking.alpha)
    owner = {row.id: row.article_id for row in pipeline.store.passages([c.passage_id for c in fused])}
    per_article: dict[str, list[float]] = {}
    for cand in fused:
        per_article.setdefault(owner[cand.passage_id], []).append(cand.fused)
    weight = pipeline.model.config.ranking.second_passage_weight
    expected = {a: article_relevance(rels, weight) for a, rels in per_article.items()}
    best = max(expected.values())
    assert response.results[0].relevance == pytest.approx(best)
    assert response.results[0].article_id in {a for a, v in expected.items() if v == best}


def test_alpha_override_picks_the_retriever(pipeline) -> None:
    """alpha 1: the dense list alone orders the results; alpha 0: the lexical list alone."""
    query = "flooding in the south"
    dense = pipeline.search(request(query, rerank=False, answers=False, size=50, alpha=1.0))
    lexical = pipeline.search(request(query, rerank=False, answers=False, size=50, alpha=0.0))
    assert dense.results[0].matched in ("dense", "both") and lexical.results[0].matched in ("lexical", "both")
    assert ids(dense) != ids(lexical)
    assert dense.ranking["alpha"] == 1.0 and lexical.ranking["alpha"] == 0.0  # the response says what it ran with
    model_default = pipeline.search(request(query, rerank=False, answers=False))
    assert model_default.ranking == {**pipeline.model.config.ranking.__dict__, "candidates": 12}


def test_reranked_scores_stay_on_0_to_1(pipeline) -> None:
    response = pipeline.search(request("Who won the Nobel Peace Prize?", size=50))
    shown = response.results + response.weak
    assert shown and all(0.0 <= r.relevance <= 1.0 and 0.0 <= r.score <= 1.0 for r in shown)
    assert all(0.0 <= r.pair_score <= 1.0 for r in shown if r.pair_score is not None)


def test_timings_cover_every_stage(pipeline) -> None:
    timings = pipeline.search(request("flood")).timings_ms
    assert set(timings) == {"encode", "retrieve", "fetch", "facets", "queue", "rerank_read", "group", "total"}
    assert timings["total"] >= sum(v for k, v in timings.items() if k != "total") * 0.99


@pytest.mark.parametrize("request_, field", [
    (SearchRequest("   "), "q"), (SearchRequest("x" * 513), "q"), (SearchRequest("-flood -0"), "q"), (SearchRequest("a", size=51), "size"),
    (SearchRequest("a", page=0), "page"), (SearchRequest("a", k=0), "k"), (SearchRequest("a", recency=1.5), "recency"),
    (SearchRequest("a", fusion="sum"), "fusion"), (SearchRequest("a", alpha=-0.1), "alpha"),
    (SearchRequest("a", rerank_depth=-1), "rerank_depth"), (SearchRequest("a", rerank_depth=201), "rerank_depth"),
    (SearchRequest("a", pair_window=8), "pair_window"), (SearchRequest("a", pair_window=257), "pair_window"),
    (SearchRequest("a", rerank_margin=-0.1), "rerank_margin"), (SearchRequest("a", rerank_margin=float("nan")),
                                                                "rerank_margin"),
    (SearchRequest("a", filters=Filters(topics=["no such topic"])), "topic"),
    (SearchRequest("a", filters=Filters(sources=["nowhere"])), "source"),
    (SearchRequest("a", filters=Filters(entities=["Nobody Atall"])), "entity"),
    (SearchRequest("a", filters=Filters(date_from="2024-02-30")), "date_from"),
    (SearchRequest("a", filters=Filters(date_from="2024-02-01", date_to="2024-01-01")), "date_from"),
])
def test_bad_requests_are_refused_with_the_field_to_fix(pipeline, request_, field) -> None:
    with pytest.raises(InvalidRequest) as err:
        pipeline.search(request_)
    assert err.value.field == field and err.value.message


def test_answers_below_the_models_confidence_threshold_are_hidden(pipeline, article) -> None:
    from dataclasses import replace

    query = f"What happened in {article['title']}?"
    config = pipeline.model.config
    try:
        pipeline.model.config = replace(config, min_answer_confidence=0.0)
        everything = pipeline.search(request(query, size=50, rerank_margin=1.0))  # every candidate to the depth
        shown = lambda response: response.results + response.weak  # noqa: E731
        confidences = sorted(r.passage.answer.confidence for r in shown(everything) if r.passage.answer)
        assert len(set(confidences)) >= 2
        threshold = confidences[len(confidences) // 2]  # the median: some answers fall below it, some stay
        pipeline.model.config = replace(config, min_answer_confidence=threshold)
        kept = [r.passage.answer.confidence for r in shown(pipeline.search(request(query, size=50, rerank_margin=1.0)))
                if r.passage.answer]
        assert kept and all(c >= threshold for c in kept)  # the sure ones stay, the rest show their passage only
        assert len(kept) == sum(c >= threshold for c in confidences) < len(confidences)
    finally:
        pipeline.model.config = config


def test_below_the_floor_a_query_has_no_good_match_and_a_real_question_keeps_its_results(
        pipeline, model, article, monkeypatch) -> None:
    """The pair-score floor end to end, with a floor of 0.3 on a question that shares words with the store."""
    monkeypatch.setattr(model.config, "min_relevance", 0.3)
    vague = pipeline.search(request("the report said"))
    assert vague.weak and all(r.pair_score is None or r.pair_score < 0.3 for r in vague.weak)
    assert all(r.pair_score is None or r.pair_score >= 0.3 for r in vague.results)
    real = pipeline.search(request(f"What happened in {article['title']}?"))
    assert real.total >= 1 and real.results[0].pair_score >= 0.3


@pytest.mark.parametrize("query", ["qwzxv plorbt", "flurbo grintz wobble"])
def test_a_query_sharing_no_word_with_the_store_has_no_good_match_with_the_released_floor(pipeline, query) -> None:
    """Nonsense used to come back as 19 confident-looking results (issue 18): the dense side always returns its
    nearest vectors and the pair head scores nonsense up to 0.26, above the released floor."""
    for rerank in (True, False):
        response = pipeline.search(request(query, rerank=rerank, answers=rerank))
        assert response.total == 0 and response.results == [] and response.weak, rerank
