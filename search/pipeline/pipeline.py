"""The search pipeline: the stages composed, each timed.

encode the query (1 short pass) → hybrid retrieval with filters (FAISS + FTS5, fused) → fetch passages →
rerank + read (1 pair pass per passage an article's score counts among the first `rerank_depth`) → group into
articles, recency blend, collapse → paginate, with facet counts over the candidate set. Fusion, depths and
weights are the model's `RankingSettings` (its newsearch.json), with `fusion`, `alpha`, `k`, `rerank_depth`,
`rerank_margin` and `pair_window` overridable per request (the last three trade quality for speed:
docs/speed.md).

`stream` gives the fused results as soon as retrieval returns (a response with stage "fused": retrieval order,
no answers), then the complete one; `search` gives only the complete one. Both answer a repeated request from
the response cache while the store is unchanged (search/pipeline/cache.py).

Concurrency: the pair passes are compute-bound and each already uses every core torch is given, so at most `passes`
of them run at once (default 1); other searches wait for a slot (stage "queue" in the timings) while their query
pass, retrieval, fetch and facets run, so their first results do not wait behind another search's pair pass (the
query pass is one short row: 15–18 ms p50 on a 2-core CPU, `benchmarks/bench_search.py`). Measured with 16 clients
on 2 cores (benchmarks/bench_concurrency.py, figures in the README), every pass at once gave a lower median final
time but first results up to four times later; `serve --passes N` chooses. The queue is bounded and so is the wait
(search/pipeline/admission.py): past them a search raises `Overloaded` (HTTP 503). `pair_threads` says where a
pass runs: the caller's thread by default, threads at a lower CPU priority under `serve`
(search/pipeline/priority.py).
"""
from __future__ import annotations

import time
from contextlib import ExitStack, nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable, Iterator

import numpy as np

from search.model import NewsModel
from search.model.config import RankingSettings
from search.pipeline.admission import Admission, Ticket
from search.pipeline.cache import LockedLRU, normalise_query, request_key
from search.pipeline.encode import encode_query
from search.pipeline.facets import candidate_facets
from search.pipeline.grouping import group_results
from search.pipeline.highlight import term_spans
from search.pipeline.paging import paginate
from search.pipeline.priority import PairThreads
from search.pipeline.records import Candidate, FacetValue, ScoredPassage, SearchRequest, SearchResponse
from search.pipeline.rerank import RerankPlan, rerank_and_read
from search.pipeline.retrieve import fetch_passages, retrieve
from search.pipeline.syntax import merged_filters, parse_query
from search.pipeline.timing import Stopwatch
from search.pipeline.validate import LIMITS, Limits, validate_query, validate_request
from search.pipeline.weak import beyond_margin, split_weak
from search.store import PassageRow, Store

RESPONSES_CACHED = 256  # complete responses kept (a few kB each)
VECTORS_CACHED = 4096  # query vectors kept (1.5 kB each)


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(timezone.utc)


@dataclass
class SearchPipeline:
    """A loaded model and an open store; `search` and `stream` are safe to call from several threads."""

    model: NewsModel
    store: Store
    limits: Limits = LIMITS
    clock: Callable[[], datetime] = utc_now  # "now" for the recency decay; tests pin it
    responses_cached: int = RESPONSES_CACHED  # 0 turns the response cache off
    admission: Admission = field(default_factory=Admission)  # pair passes at once, queue and deadline
    pair_threads: PairThreads = field(default_factory=PairThreads)  # where they run: the caller's thread by default
    responses: LockedLRU[SearchResponse] = field(init=False)
    vectors: LockedLRU[np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        self.responses = LockedLRU(self.responses_cached)
        self.vectors = LockedLRU(VECTORS_CACHED)

    def search(self, request: SearchRequest) -> SearchResponse:
        """Run one search; raises search.pipeline.InvalidRequest on bad input, Overloaded when the pair pass
        cannot be reached in time (search/pipeline/admission.py)."""
        *_, final = self._stages(request, early=False)
        return final

    def stream(self, request: SearchRequest) -> Iterator[SearchResponse]:
        """The fused first results (stage "fused") as soon as retrieval returns, when a pair pass follows; then
        the complete response (stage "final"), the same as `search` gives. Validation errors and a full queue
        raise at once; a deadline passed after the first results raises Overloaded from the iterator."""
        stages = self._stages(request, early=True)
        first = next(stages)  # runs validation (and the cache lookup) before the caller starts a response
        return _chain(first, stages)

    def _stages(self, request: SearchRequest, early: bool) -> Iterator[SearchResponse]:
        began = time.perf_counter()
        validate_query(request.query, self.limits)  # the query as typed: some words, not too long
        parsed = parse_query(request.query)  # its syntax: the words, the lexical expression, its own filters
        key_request = request
        request = replace(request, query=parsed.text, filters=merged_filters(request.filters, parsed))
        validate_request(request, self.store, self.limits)  # words left to search, the parameters, all filters
        settings = self._settings(request)
        model = [self.model.model_id, asdict(settings), self.model.config.min_answer_confidence,
                 self.model.config.min_relevance]
        key = request_key(key_request, model, self.store.version())
        hit = self.responses.get(key)
        if hit is not None:
            ms = round((time.perf_counter() - began) * 1000.0, 2)
            yield replace(hit, timings_ms={"cache": ms, "total": ms}, cached=True, pairs_read=0)
            return
        plan = RerankPlan(request.rerank, request.answers, settings.rerank_depth, settings.read_per_article,
                          settings.rerank_margin, settings.rerank_weight, self.model.config.min_answer_confidence,
                          settings.pair_window)
        admitted = self.admission.admitted(began) if plan.pair_pass else nullcontext()
        with admitted as ticket:
            yield from self._run(request, parsed.fts_match(), settings, plan, ticket, key, early)

    def _run(self, request: SearchRequest, match: str | None, settings: RankingSettings, plan: RerankPlan,
             ticket: Ticket | None, key: tuple, early: bool) -> Iterator[SearchResponse]:
        query = request.query.strip()
        watch = Stopwatch()
        vector = self.vectors.get(normalise_query(query))
        if vector is None:
            with watch.stage("encode"):
                vector = encode_query(self.model, query)
            self.vectors.put(normalise_query(query), vector)
        with watch.stage("retrieve"):
            candidates = retrieve(self.store, vector, query, request.filters, settings.candidates, settings.fusion,
                                  settings.alpha, match)
        with watch.stage("fetch"):
            hits = fetch_passages(self.store, candidates)
        with watch.stage("facets"):
            facets = candidate_facets(self.store, [cand.passage_id for cand, _ in hits])
        if early and plan.pair_pass and hits:
            fused = rerank_and_read(self.model, query, hits, RerankPlan(rerank=False, answers=False))
            yield self._respond(request, query, fused, hits, facets, settings, watch, "fused")
        with ExitStack() as slot:
            if ticket is not None and hits:  # no pass: no slot
                with watch.stage("queue"):
                    slot.enter_context(ticket.slot())
            with watch.stage("rerank_read"):
                scored = self.pair_threads.run(rerank_and_read, self.model, query, hits, plan)
        final = self._respond(request, query, scored, hits, facets, settings, watch, "final")
        self.responses.put(key, final)
        yield final

    def _settings(self, request: SearchRequest) -> RankingSettings:
        """The model's ranking settings with the request's overrides."""
        return self.model.config.ranking.overridden(
            candidates=request.k, fusion=request.fusion or None, alpha=request.alpha,
            rerank_depth=request.rerank_depth, pair_window=request.pair_window,
            rerank_margin=request.rerank_margin)

    def _respond(self, request: SearchRequest, query: str, scored: list[ScoredPassage],
                 hits: list[tuple[Candidate, PassageRow]], facets: dict[str, list[FacetValue]],
                 settings: RankingSettings, watch: Stopwatch, stage: str) -> SearchResponse:
        with watch.stage("group"):
            results = group_results(scored, request.recency, self.clock(), settings.second_passage_weight)
            lexical = any(cand.lexical_rank is not None for cand, _ in hits)
            good, weak = split_weak(results, self.model.config.min_relevance, lexical_support=lexical or not hits,
                                    skipped=beyond_margin([sp.row.article_id for sp in scored],
                                                          [sp.candidate.fused for sp in scored],
                                                          [sp.pair is not None for sp in scored],
                                                          settings.rerank_margin))
            page, pages = paginate(good, request.page, request.size)
            shown = page + (weak[:request.size] if request.page == 1 else [])
            for result, spans in zip(shown, term_spans([r.passage.text for r in shown], query)):
                result.passage.terms = spans
        return SearchResponse(query=query, total=len(good), page=request.page, size=request.size, pages=pages,
                              results=page, facets=facets, timings_ms=watch.finish(), candidates=len(hits),
                              ranking=asdict(settings), weak=weak[:request.size] if request.page == 1 else [],
                              stage=stage, pairs_read=sum(1 for sp in scored if sp.pair is not None))


def _chain(first: SearchResponse, rest: Iterator[SearchResponse]) -> Iterator[SearchResponse]:
    yield first
    yield from rest
