"""The endpoints. Handlers are plain `def`s: FastAPI runs them in its thread pool, so several searches
proceed at once (the model is read-only at inference and the store reads through WAL)."""
from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

import json
from typing import Iterator

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from search.api.errors import ERROR_RESPONSES
from search.api.offsets import article_offsets, response_offsets
from search.api.params import Offsets, Page, Size, filter_params, refuse_unknown_params, search_params
from search.api.state import AppState
from search.pipeline import InvalidRequest, SearchRequest, SearchResponse
from search.pipeline.admission import Overloaded
from search.pipeline.export import COLUMNS, to_csv, to_jsonl
from search.pipeline.facets import filtered_facets
from search.pipeline.similar import SimilarResponse, similar_articles
from search.pipeline.story import StoryResponse, story_timeline
from search.pipeline.validate import unknown_article, validate_filters, validate_paging
from search.store import Filters, ShardedStore

router = APIRouter(dependencies=[Depends(refuse_unknown_params)],  # the API: strict about its parameters
                   responses=ERROR_RESPONSES)
page_router = APIRouter()  # the page reads its own URL (q, filters) in the browser


def app_state(request: Request) -> AppState:
    """The AppState the app factory loaded (a FastAPI dependency)."""
    return request.app.state.search


State = Annotated[AppState, Depends(app_state)]


@page_router.get("/", include_in_schema=False)
def index(state: State) -> FileResponse:
    """The search page; it reads the query from its own URL, so /?q=... links are shareable."""
    return FileResponse(state.static_dir / "index.html")


EXPORT_DOC = {200: {"description": "The SearchResponse (format=json), or the page's results as CSV (format=csv) "
                                   "or JSON Lines (format=jsonl) with the columns " + ", ".join(COLUMNS),
                    "content": {"text/csv": {"schema": {"type": "string"}},
                                "application/x-ndjson": {"schema": {"type": "string"}}}}}


@router.get("/search", response_model=SearchResponse, summary="Search articles", responses=EXPORT_DOC)
def search(state: State, request: Annotated[SearchRequest, Depends(search_params)],
           offsets: Offsets = "codepoints",
           format: Annotated[Literal["json", "csv", "jsonl"],  # noqa: A002 (the parameter's public name)
                             Query(description="json (default), or the results as csv / jsonl for export")] = "json",
           ) -> SearchResponse | Response:
    """Hybrid retrieval, one-pass rerank and answer spans, grouped by article, with facets and timings."""
    response = state.pipeline.search(request)
    state.metrics.observe_search(response)
    if format == "csv":
        return Response(to_csv(response), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="newsearch-results.csv"'})
    if format == "jsonl":
        return Response(to_jsonl(response), media_type="application/x-ndjson")
    return response_offsets(response, offsets, state.store.article_texts)


STREAM_DOC = {200: {"description": "Newline-delimited JSON (application/x-ndjson): one SearchResponse per line. "
                                  "When a pair pass follows, the first line has `stage: \"fused\"` — the results "
                                  "in retrieval order, without rerank or answers, sent as soon as retrieval "
                                  "returns — and the last has `stage: \"final\"`, the same response GET /search "
                                  "gives. A search served from the cache, or without rerank and answers, is one "
                                  "final line. When the pair pass cannot start before the server's deadline after "
                                  "the first line was sent, the last line is an error object "
                                  "{\"error\": ..., \"status\": 503} instead of the final response.",
                   "content": {"application/x-ndjson": {"schema": {"$ref": "#/components/schemas/SearchResponse"}}}}}


@router.get("/search/stream", summary="Search, first results at once", responses=STREAM_DOC,
            response_class=StreamingResponse)
def search_stream(state: State, request: Annotated[SearchRequest, Depends(search_params)],
                  offsets: Offsets = "codepoints") -> StreamingResponse:
    """The same search as GET /search, streamed: the fused results first, then the reranked ones with answers.
    Bad parameters are refused (4xx JSON) before the stream starts."""
    responses = state.pipeline.stream(request)  # validates and retrieves now; the pair pass runs while streaming

    def lines() -> Iterator[str]:
        try:
            for response in responses:
                if response.stage == "final":
                    state.metrics.observe_search(response)
                converted = response_offsets(response, offsets, state.store.article_texts)
                yield json.dumps(jsonable_encoder(converted)) + "\n"
        except Overloaded as exc:  # the status line is sent already: say it in the stream
            yield json.dumps({"error": exc.message, "status": 503, "retry_after": exc.retry_after}) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/facets", summary="Facet counts")
def facets(state: State, filters: Annotated[Filters, Depends(filter_params)]) -> dict[str, Any]:
    """Topic, entity and source counts over the passages the filters allow (the whole store without filters)."""
    validate_filters(filters, state.store)
    facet_values = filtered_facets(state.store, filters)
    return {name: [asdict(v) for v in values] for name, values in facet_values.items()}


@router.get("/articles/{article_id:path}/similar", summary="More like this", response_model=SimilarResponse)
def similar(state: State, article_id: str, filters: Annotated[Filters, Depends(filter_params)],
            page: Page = 1, size: Size = 10) -> SimilarResponse:
    """Other articles ranked by this article's stored vector (no encoder pass), with the usual filters and
    paging; the article and its story-cluster copies are left out of `results` and listed in `same_story`."""
    validate_paging(page, size)
    validate_filters(filters, state.store)
    return similar_articles(state.store, article_id, filters, page, size, state.pipeline.clock())


@router.get("/articles/{article_id:path}/story", summary="Story timeline", response_model=StoryResponse)
def story(state: State, article_id: str,
          days: Annotated[int, Query(description="follow-ups published within this many days of the article (1–365)",
                                     json_schema_extra={"minimum": 1, "maximum": 365})] = 30) -> StoryResponse:
    """The article's story-cluster copies and its follow-ups (articles naming the same main entities within
    `days`), oldest first (search/pipeline/story.py)."""
    if not 1 <= days <= 365:
        raise InvalidRequest("days", f"days must be between 1 and 365, got {days}")
    return story_timeline(state.store, article_id, days)


@router.get("/articles/{article_id:path}", summary="One article")  # registered after /similar, which it would
# otherwise swallow (an id may hold "/")  # ids may hold "/" (e.g. a URL given as id)
def article(state: State, article_id: str, offsets: Offsets = "codepoints") -> dict[str, Any]:
    """The full text (title + blank line + body) with entity spans as character offsets into `text`."""
    row = state.store.article(article_id)
    if row is None:
        raise unknown_article(article_id)
    return article_offsets({**asdict(row), "text": row.text}, offsets)


@router.get("/metrics", include_in_schema=False, response_class=PlainTextResponse)
def metrics(state: State) -> PlainTextResponse:
    """Prometheus text format (search/api/metrics.py)."""
    return PlainTextResponse(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/health", summary="Model, index and counts")
def health(state: State) -> dict[str, Any]:
    """What is loaded: the checkpoint and its fingerprint, the ranking settings searches use (serve's
    `--rerank-depth/--rerank-margin/--pair-window` over the checkpoint's own, each such override listed with the
    checkpoint's value under `ranking_set_by_serve`), the index type and the store's counts, and for a sharded
    store how many shards and what reads them (threads of this process, or Ray actors)."""
    ranking, own = asdict(state.model.config.ranking), asdict(state.checkpoint_ranking)
    set_by_serve = {name: {"serve": value, "checkpoint": own[name]} for name, value in ranking.items()
                    if value != own[name]}
    shards = None
    if isinstance(state.store, ShardedStore):
        shards = {"count": len(state.store.shards),
                  "read_by": "ray actors" if state.settings.shards == "ray" else "threads"}
    return {"status": "ok", "shards": shards, "model": {"name": state.model.name, "id": state.model.model_id,
                                      "ranking": ranking, "ranking_set_by_serve": set_by_serve,
                                      "min_answer_confidence": state.model.config.min_answer_confidence,
                                      "min_relevance": state.model.config.min_relevance,
                                      "min_topic_confidence": state.model.config.min_topic_confidence,
                                      "runtime": state.model.runtime},
            "store": str(state.store_dir), "index": state.store.stats()}
