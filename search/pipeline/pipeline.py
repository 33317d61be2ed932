"""The search pipeline: the stages composed, each timed.

encode the query (1 short pass) → hybrid retrieval with filters (FAISS + FTS5, fused) → fetch passages →
rerank + read (1 pair pass per candidate down to the rerank depth) → group into articles, recency blend,
collapse → paginate, with facet counts over the candidate set. Fusion, depths and weights are the model's
`RankingSettings` (its newsearch.json), with `fusion`, `alpha` and `k` overridable per request.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from typing import Callable

from search.model import NewsModel
from search.pipeline.encode import encode_query
from search.pipeline.facets import candidate_facets
from search.pipeline.grouping import group_results
from search.pipeline.paging import paginate
from search.pipeline.records import SearchRequest, SearchResponse
from search.pipeline.rerank import RerankPlan, rerank_and_read
from search.pipeline.retrieve import fetch_passages, retrieve
from search.pipeline.timing import Stopwatch
from search.pipeline.validate import LIMITS, Limits, validate_request
from search.store import Store


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(timezone.utc)


@dataclass
class SearchPipeline:
    """A loaded model and an open store; `search` is safe to call from several threads."""

    model: NewsModel
    store: Store
    limits: Limits = LIMITS
    clock: Callable[[], datetime] = utc_now  # "now" for the recency decay; tests pin it

    def search(self, request: SearchRequest) -> SearchResponse:
        """Run one search; raises search.pipeline.InvalidRequest on bad input."""
        validate_request(request, self.store, self.limits)
        query = request.query.strip()
        model_settings = self.model.config.ranking
        settings = replace(model_settings, candidates=request.k or model_settings.candidates,
                           fusion=request.fusion or model_settings.fusion,
                           alpha=model_settings.alpha if request.alpha is None else request.alpha)
        k = settings.candidates
        watch = Stopwatch()
        with watch.stage("encode"):
            vector = encode_query(self.model, query)
        with watch.stage("retrieve"):
            candidates = retrieve(self.store, vector, query, request.filters, k, settings.fusion, settings.alpha)
        with watch.stage("fetch"):
            hits = fetch_passages(self.store, candidates)
        with watch.stage("rerank_read"):
            plan = RerankPlan(request.rerank, request.answers, settings.rerank_depth, settings.rerank_weight,
                              self.model.config.min_answer_confidence, settings.pair_window)
            scored = rerank_and_read(self.model, query, hits, plan)
        with watch.stage("group"):
            results = group_results(scored, request.recency, self.clock(), settings.second_passage_weight)
            page, pages = paginate(results, request.page, request.size)
        with watch.stage("facets"):
            facets = candidate_facets(self.store, [cand.passage_id for cand, _ in hits])
        return SearchResponse(query=query, total=len(results), page=request.page, size=request.size, pages=pages,
                              results=page, facets=facets, timings_ms=watch.finish(), candidates=len(hits),
                              ranking=asdict(settings))
