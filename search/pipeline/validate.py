"""Request checks shared by the API and the terminal: each failure says which input to fix and how.

The pipeline runs them before any work, so a bad request never reaches the model or the index and a
client always gets a message instead of an internal error.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from search.pipeline.fusion import FUSION_METHODS
from search.pipeline.recency import parse_date
from search.pipeline.records import SearchRequest
from search.store import Filters, Store


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may ask for (they keep latency and memory per request bounded)."""

    max_query_chars: int = 512
    max_size: int = 50
    max_k: int = 200
    max_page: int = 1000
    min_pair_window: int = 16  # a window must hold a sentence's worth of word pieces
    max_pair_window: int = 256  # a whole indexed passage ([CLS] and [SEP] included)


LIMITS = Limits()


@dataclass(frozen=True)
class Naming:
    """How an interface calls the request's fields in its messages (the API: by parameter name; the terminal: by
    flag), and where its user finds the values a filter accepts. `InvalidRequest.field` stays the API name."""

    fields: dict[str, str]
    values_listed_by: str

    def __call__(self, field: str) -> str:
        return self.fields.get(field, field)


API_NAMES = Naming({"q": "the query (q)"}, "GET /facets")


class InvalidRequest(ValueError):
    """A request refused; `field` names the parameter, the message says what to change, `status` is the HTTP
    status the API answers with (400 bad value, 404 nothing with that id)."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


def unknown_article(article_id: str) -> InvalidRequest:
    """The 404 every endpoint that takes an article id answers for one the store does not hold."""
    return InvalidRequest("article_id", f"no article with id {article_id!r}: use an article_id from a /search "
                                        "result", status=404)


def unknown_watch(watch_id: int, listed_by: str = "GET /watches") -> InvalidRequest:
    """The 404 every endpoint that takes a watch id answers for one the store does not hold (`listed_by`: where
    the interface lists the saved ones)."""
    return InvalidRequest("watch_id", f"no watch with id {watch_id}: {listed_by} lists the saved ones", status=404)


def validate_request(request: SearchRequest, store: Store, limits: Limits = LIMITS, names: Naming = API_NAMES
                     ) -> None:
    """Raise InvalidRequest on the first problem found, in the words of `names`' interface. The words are
    checked last: a query of operators only (`after:2024-99-01`) is about its bad date before it is empty."""
    validate_paging(request.page, request.size, limits, names)
    if request.k is not None:
        _check_range("k", request.k, 1, limits.max_k, names)
    validate_rerank(request.rerank_depth, request.pair_window, request.rerank_margin, limits, names)
    if request.fusion is not None and request.fusion not in FUSION_METHODS:
        raise InvalidRequest("fusion", f"{names('fusion')} must be one of {', '.join(FUSION_METHODS)}, "
                                       f"got {request.fusion!r}")
    if request.alpha is not None and not 0.0 <= request.alpha <= 1.0:
        raise InvalidRequest("alpha", f"{names('alpha')} must be between 0 (lexical only) and 1 (dense only), "
                                      f"got {request.alpha}")
    if not 0.0 <= request.recency <= 1.0:
        raise InvalidRequest("recency", f"{names('recency')} must be between 0 (relevance only) and 1 (newest "
                                        f"first), got {request.recency}")
    validate_filters(request.filters, store, names)
    validate_query(request.query, limits, names)


def validate_rerank(depth: int | None, window: int | None, margin: float | None = None,
                    limits: Limits = LIMITS, names: Naming = API_NAMES) -> None:
    """A rerank depth of 0 (no pair pass) to `max_k`, a pair window of 0 (whole passages) or
    `min_pair_window`..`max_pair_window` word pieces, and a rerank margin of 0..1 (fused scores lie on 0..1);
    None keeps the model's setting."""
    if depth is not None:
        _check_range("rerank_depth", depth, 0, limits.max_k, names)
    if margin is not None and not 0.0 <= margin <= 1.0:
        raise InvalidRequest("rerank_margin", f"{names('rerank_margin')} must be between 0 (only the first "
                                              f"candidate is read) and 1 (every one down to the rerank depth), "
                                              f"got {margin}")
    if window is not None and window != 0 and not limits.min_pair_window <= window <= limits.max_pair_window:
        raise InvalidRequest("pair_window", f"{names('pair_window')} must be 0 (whole passages) or between "
                                            f"{limits.min_pair_window} and {limits.max_pair_window} word pieces, "
                                            f"got {window}")


def validate_filters(filters: Filters, store: Store, names: Naming = API_NAMES) -> None:
    """Known topic/entity/source values only, ISO dates, and date_from ≤ date_to (`validate_dates`)."""
    for kind, values, param in (("topics", filters.topics, "topic"), ("sources", filters.sources, "source"),
                                ("entities", filters.entities, "entity")):
        unknown = store.missing_values(kind, values)  # entity names match case-insensitively, as in the filter
        if unknown:
            raise InvalidRequest(param, f"unknown {names(param)} {unknown[0]!r}: pick a value listed by "
                                        f"{names.values_listed_by}")
    validate_dates(filters, names)


def validate_dates(filters: Filters, names: Naming = API_NAMES) -> None:
    """ISO dates, and date_from ≤ date_to."""
    dates = {param: _check_date(param, value, names) for param, value in (("date_from", filters.date_from),
                                                                          ("date_to", filters.date_to)) if value}
    if len(dates) == 2 and dates["date_from"] > dates["date_to"]:
        raise InvalidRequest("date_from", f"{names('date_from')} ({filters.date_from}) is after {names('date_to')} "
                                          f"({filters.date_to}): swap them or widen the range")


def validate_query(query: str, limits: Limits = LIMITS, names: Naming = API_NAMES) -> None:
    """Some words, and not more characters than the limit."""
    query = query.strip()
    if not query:
        raise InvalidRequest("q", f"{names('q')} has no words to search for: type a few words or a question "
                                  "(an excluded -word or a filter such as topic:... only narrows a search)")
    if len(query) > limits.max_query_chars:
        raise InvalidRequest("q", f"{names('q')} has {len(query)} characters; shorten it to at most "
                                  f"{limits.max_query_chars}")


def validate_paging(page: int, size: int, limits: Limits = LIMITS, names: Naming = API_NAMES) -> None:
    """`page` and `size` within the limits (what /search checks, for every paged endpoint)."""
    _check_range("size", size, 1, limits.max_size, names)
    _check_range("page", page, 1, limits.max_page, names)


def _check_range(field: str, value: int, low: int, high: int, names: Naming) -> None:
    if not low <= value <= high:
        raise InvalidRequest(field, f"{names(field)} must be between {low} and {high}, got {value}")


def _check_date(field: str, value: str, names: Naming) -> datetime:
    try:
        return parse_date(value)
    except ValueError:
        raise InvalidRequest(field, f"{names(field)} {value!r} is not a date: use YYYY-MM-DD, e.g. 2024-05-31") \
            from None
