"""Saving a watch (a saved search): its input checked as a search's is, its query encoded once — the query pass a
search makes — and stored with the store (search/store/watches.py). The API (POST /watches) and the terminal
(`news-search watch add`) both save through `save_watch`.

The checks differ from /search's in one way, on purpose: an entity or a source the store does not hold yet is
accepted, since a watch waits for articles to come (a search for one would find nothing, so /search refuses it).
Topics are a closed set — the topic head's labels and "other" — so an unknown topic is still refused.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from search.model.records import OTHER_TOPIC
from search.pipeline.syntax import ParsedQuery, merged_filters, parse_query
from search.pipeline.validate import API_NAMES, LIMITS, InvalidRequest, Limits, Naming, validate_dates, \
    validate_query
from search.store import Filters, ShardedStore, Store
from search.store.watches import NewWatch, Watch

if TYPE_CHECKING:  # torch loads only where the model is needed
    from search.model import NewsModel

DEFAULT_MIN_SCORE = 0.6  # see search/pipeline/watch_match.py for what the score is and how 0.6 was chosen
MAX_NAME_CHARS = 200
MAX_URL_CHARS = 2048


@dataclass
class WatchRequest:
    """A watch as a person or a client asks for it: a query with the filters /search takes, and what to do."""

    query: str
    filters: Filters = field(default_factory=Filters)
    name: str | None = None  # shown in lists and as the feed's title (default: the query)
    webhook: str | None = None  # http(s) URL to POST new matches to after each `news-index add`
    min_score: float = DEFAULT_MIN_SCORE  # 0..1: the fused score a new article needs to match


def validate_watch(request: WatchRequest, store: Store | ShardedStore, topics: list[str] | None,
                   limits: Limits = LIMITS, names: Naming = API_NAMES) -> ParsedQuery:
    """The parsed query of a valid request; raises InvalidRequest on the first problem, in `names`' words.
    `topics`: the topic labels the model gives (besides "other"); None leaves topics unchecked (a check before
    the model is loaded)."""
    validate_query(request.query, limits, names)
    parsed = parse_query(request.query)
    validate_query(parsed.text, limits, names)  # words left once the syntax's filters are taken out
    if parsed.fts_match() is None:
        raise InvalidRequest("q", f"{names('q')} has no word to match: a watch matches new articles holding its "
                                  "words")
    filters = merged_filters(request.filters, parsed)
    known = {*(topics or []), OTHER_TOPIC} | store.known_values("topics")
    for topic in filters.topics if topics is not None else []:
        if topic not in known:
            raise InvalidRequest("topic", f"unknown {names('topic')} {topic!r}: pick one of "
                                          f"{', '.join(sorted(known))}")
    validate_dates(filters, names)
    if request.name is not None and not 1 <= len(request.name.strip()) <= MAX_NAME_CHARS:
        raise InvalidRequest("name", f"{names('name')} must have 1 to {MAX_NAME_CHARS} characters, or be left out")
    if request.webhook is not None:
        url = urlsplit(request.webhook.strip())
        if url.scheme not in ("http", "https") or not url.hostname or len(request.webhook) > MAX_URL_CHARS:
            raise InvalidRequest("webhook", f"{names('webhook')} must be an http:// or https:// URL of at most "
                                            f"{MAX_URL_CHARS} characters, got {request.webhook[:80]!r}")
    if not 0.0 <= request.min_score <= 1.0:
        raise InvalidRequest("min_score", f"{names('min_score')} must be between 0 and 1, got {request.min_score}")
    return parsed


def save_watch(store: Store | ShardedStore, model: NewsModel, request: WatchRequest, now: datetime,
               names: Naming = API_NAMES) -> Watch:
    """Check, encode (one short query pass, never repeated: matching reads the saved vector) and save the watch
    (in every shard of a sharded store). Raises InvalidRequest on bad input, StoreError when the store cannot be
    written."""
    parsed = validate_watch(request, store, model.config.topic_labels, names=names)
    vector = model.embed_queries([parsed.text.strip()])[0]  # what a search encodes: the plain words
    name = (request.name or request.query).strip()[:MAX_NAME_CHARS]
    new = NewWatch(name=name, query=request.query.strip(), filters=request.filters, min_score=request.min_score,
                   webhook=request.webhook.strip() if request.webhook else None, model_id=model.model_id,
                   vector=vector)
    return store.add_watch(new, created_at=now.isoformat(timespec="seconds"))
