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


LIMITS = Limits()


class InvalidRequest(ValueError):
    """A request the pipeline refuses; `field` names the parameter, the message says what to change."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def validate_request(request: SearchRequest, store: Store, limits: Limits = LIMITS) -> None:
    """Raise InvalidRequest on the first problem found."""
    query = request.query.strip()
    if not query:
        raise InvalidRequest("q", "the query is empty: type a few words or a question")
    if len(query) > limits.max_query_chars:
        raise InvalidRequest("q", f"the query has {len(query)} characters; shorten it to at most "
                                  f"{limits.max_query_chars}")
    _check_range("size", request.size, 1, limits.max_size)
    _check_range("page", request.page, 1, limits.max_page)
    if request.k is not None:
        _check_range("k", request.k, 1, limits.max_k)
    if request.fusion is not None and request.fusion not in FUSION_METHODS:
        raise InvalidRequest("fusion", f"fusion must be one of {', '.join(FUSION_METHODS)}, got {request.fusion!r}")
    if request.alpha is not None and not 0.0 <= request.alpha <= 1.0:
        raise InvalidRequest("alpha", f"alpha must be between 0 (lexical only) and 1 (dense only), "
                                      f"got {request.alpha}")
    if not 0.0 <= request.recency <= 1.0:
        raise InvalidRequest("recency", f"recency must be between 0 (relevance only) and 1 (newest first), "
                                        f"got {request.recency}")
    validate_filters(request.filters, store)


def validate_filters(filters: Filters, store: Store) -> None:
    """Known topic/entity/source values only, ISO dates, and date_from ≤ date_to."""
    for name, values, param in (("topics", filters.topics, "topic"), ("sources", filters.sources, "source"),
                                ("entities", filters.entities, "entity")):
        unknown = store.missing_values(name, values)  # entity names match case-insensitively, as in the filter
        if unknown:
            raise InvalidRequest(param, f"unknown {param} {unknown[0]!r}: pick a value listed by GET /facets")
    dates = {param: _check_date(param, value) for param, value in (("date_from", filters.date_from),
                                                                   ("date_to", filters.date_to)) if value}
    if len(dates) == 2 and dates["date_from"] > dates["date_to"]:
        raise InvalidRequest("date_from", f"date_from ({filters.date_from}) is after date_to ({filters.date_to}): "
                                          "swap them or widen the range")


def _check_range(field: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise InvalidRequest(field, f"{field} must be between {low} and {high}, got {value}")


def _check_date(field: str, value: str) -> datetime:
    try:
        return parse_date(value)
    except ValueError:
        raise InvalidRequest(field, f"{field} {value!r} is not a date: use YYYY-MM-DD, e.g. 2024-05-31") from None
