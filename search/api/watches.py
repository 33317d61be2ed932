"""The watch endpoints: saved searches whose new matches `news-index add` records (search/pipeline/watch_match.py),
served as JSON pages and as an Atom feed. The same rules as the rest of the API: unknown query parameters and
body fields are a 400 naming them, an unknown watch id a 404, errors `{"error", "field"}`."""
from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from search.api.errors import ERROR_RESPONSES
from search.api.feed import FEED_ENTRIES, atom_feed
from search.api.params import TEXT_LIMIT, Page, Size, Value, query_schema, refuse_unknown_params
from search.api.routes import State
from search.api.state import AppState
from search.pipeline import LIMITS
from search.pipeline.paging import paginate_count
from search.pipeline.validate import unknown_watch, validate_paging
from search.pipeline.watches import DEFAULT_MIN_SCORE, MAX_NAME_CHARS, MAX_URL_CHARS, WatchRequest, save_watch
from search.store import Filters
from search.store.watches import Watch, WatchMatch

router = APIRouter(dependencies=[Depends(refuse_unknown_params)], responses=ERROR_RESPONSES, tags=["watches"])

WatchId = Annotated[int, Path(description="the watch's id (from POST /watches or GET /watches)", ge=1,
                              le=2 ** 63 - 1)]


class WatchBody(BaseModel):
    """A watch to save: the /search query and filters, a name, and optionally a webhook."""

    model_config = ConfigDict(extra="forbid")  # a mistyped field is a 400, not a silently unfiltered watch

    q: str = Field(description="the query, with the query syntax of /search (1–512 characters, not only spaces)",
                   max_length=TEXT_LIMIT, json_schema_extra=query_schema(LIMITS.max_query_chars))
    topic: list[Value] = Field(default_factory=list, description="topics to keep (any of them)")
    entity: list[Value] = Field(default_factory=list, description="entity names that must be mentioned (any); "
                                                                  "names not in the store yet are accepted")
    source: list[Value] = Field(default_factory=list, description="sources to keep (any; new ones accepted)")
    date_from: Value | None = Field(None, description="earliest publication date, YYYY-MM-DD, inclusive")
    date_to: Value | None = Field(None, description="latest publication date, YYYY-MM-DD, inclusive")
    name: str | None = Field(None, description="a name for lists and the feed's title (default: the query)",
                             min_length=1, max_length=MAX_NAME_CHARS, pattern=r"\S")
    webhook: str | None = Field(None, description="http(s) URL that gets each `news-index add` run's new matches "
                                                  "as a JSON POST, with retries", min_length=1,
                                max_length=MAX_URL_CHARS)
    min_score: float = Field(DEFAULT_MIN_SCORE, ge=0, le=1,
                             description="the score (0..1) a new article needs to match: higher, fewer and closer "
                                         "matches")


class WatchOut(BaseModel):
    """A saved watch, its counts and where its matches are."""

    id: int
    name: str
    q: str
    topic: list[str]
    entity: list[str]
    source: list[str]
    date_from: str | None
    date_to: str | None
    min_score: float
    webhook: str | None
    webhook_error: str | None = Field(description="why the last webhook delivery failed; null once one succeeds")
    created_at: str
    matches: int = Field(description="articles matched so far")
    undelivered: int = Field(description="matches the webhook has not received yet")
    feed: str = Field(description="path of the watch's Atom feed")


class WatchMatchOut(BaseModel):
    """One matched article."""

    article_id: str
    title: str
    url: str | None
    source: str | None
    published_at: str | None
    score: float = Field(description="the fused score it matched with, 0..1")
    matched_at: str
    delivered: bool = Field(description="the webhook received it")
    summary: str = Field(description="the start of the article's body")


class WatchMatchesOut(BaseModel):
    """A page of a watch's matches, newest match first."""

    watch: WatchOut
    total: int
    page: int
    size: int
    pages: int
    matches: list[WatchMatchOut]


def watch_out(watch: Watch) -> WatchOut:
    f = watch.filters
    return WatchOut(id=watch.id, name=watch.name, q=watch.query, topic=f.topics, entity=f.entities, source=f.sources,
                    date_from=f.date_from, date_to=f.date_to, min_score=watch.min_score, webhook=watch.webhook,
                    webhook_error=watch.webhook_error, created_at=watch.created_at, matches=watch.matches,
                    undelivered=watch.undelivered, feed=f"/watches/{watch.id}/feed.xml")


def match_out(match: WatchMatch) -> WatchMatchOut:
    return WatchMatchOut(**asdict(match))


def _found(state: AppState, watch_id: int) -> Watch:
    watch = state.store.watch(watch_id)
    if watch is None:
        raise unknown_watch(watch_id)
    return watch


@router.post("/watches", status_code=201, response_model=WatchOut, summary="Save a search as a watch")
def create_watch(state: State, body: WatchBody) -> WatchOut:
    """Save the query and filters; from the next `news-index add` on, each new article that matches is recorded
    (and sent to the webhook). The query is encoded once, now."""
    request = WatchRequest(query=body.q, name=body.name, webhook=body.webhook, min_score=body.min_score,
                           filters=Filters(topics=body.topic, entities=body.entity, sources=body.source,
                                           date_from=body.date_from, date_to=body.date_to))
    return watch_out(save_watch(state.store, state.model, request, state.pipeline.clock()))


@router.get("/watches", response_model=list[WatchOut], summary="Saved watches")
def list_watches(state: State) -> list[WatchOut]:
    """Every saved watch, oldest first, with its match counts."""
    return [watch_out(w) for w in state.store.watches()]


@router.get("/watches/{watch_id}", response_model=WatchOut, summary="One watch")
def get_watch(state: State, watch_id: WatchId) -> WatchOut:
    """The watch with its match counts and the last webhook error."""
    return watch_out(_found(state, watch_id))


@router.delete("/watches/{watch_id}", status_code=204, response_class=Response, summary="Delete a watch",
               responses={204: {"description": "Deleted, with its matches"}})
def delete_watch(state: State, watch_id: WatchId) -> Response:
    """Remove the watch and its recorded matches."""
    if not state.store.delete_watch(watch_id):
        raise unknown_watch(watch_id)
    return Response(status_code=204)


@router.get("/watches/{watch_id}/matches", response_model=WatchMatchesOut, summary="A watch's matches")
def watch_matches(state: State, watch_id: WatchId, page: Page = 1, size: Size = 10) -> WatchMatchesOut:
    """The articles the watch matched, newest match first, paged as /search is."""
    validate_paging(page, size)
    watch = _found(state, watch_id)
    total, matches = state.store.watch_matches(watch_id, (page - 1) * size, size)
    return WatchMatchesOut(watch=watch_out(watch), total=total, page=page, size=size,
                           pages=paginate_count(total, size), matches=[match_out(m) for m in matches])


FEED_DOC = {200: {"description": f"Atom feed (RFC 4287) of the watch's latest {FEED_ENTRIES} matches, newest "
                                 "first: title, link (the article's URL, else /articles/{id}), updated (when it "
                                 "matched), published, summary (the start of the body)",
                  "content": {"application/atom+xml": {"schema": {"type": "string"}}}}}


@router.get("/watches/{watch_id}/feed.xml", summary="A watch's Atom feed", response_class=Response,
            responses=FEED_DOC)
def watch_feed(state: State, request: Request, watch_id: WatchId) -> Response:
    """The latest matches as Atom, for feed readers."""
    watch = _found(state, watch_id)
    _, matches = state.store.watch_matches(watch_id, 0, FEED_ENTRIES)
    base = str(request.base_url).rstrip("/")
    return Response(atom_feed(watch, matches, base), media_type="application/atom+xml; charset=utf-8")
