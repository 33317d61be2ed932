"""The optional recency preference: exponential decay on an article's publication date.

    freshness = 0.5 ** (age_days / HALF_LIFE_DAYS)        # 1 for the newest, 0.5 a year older, 0.25 two
    score     = (1 - recency) * relevance + recency * freshness

Age is counted from the newest publication date among the candidates (never later than now), not from
today: in an archive (the bundled sample ends in 2021) every article would otherwise be years old and
"prefer recent" would barely move anything; for a live feed the newest candidate is about today anyway.

`recency` is 0..1: 0 ranks by relevance alone, 1 by date alone (newest first), values between trade
one for the other. Relevance is clamped to 0..1 first so both terms share a scale; at recency 0 the score
is the relevance itself, unclamped, so the order is exactly the reranker's. A date in the future
counts as age 0; a missing or unreadable date gives freshness 0, so an undated article never outranks a
dated one on recency.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

HALF_LIFE_DAYS = 365.0


def parse_date(value: str) -> datetime:
    """An ISO date or date-time as an aware UTC datetime (naive values are taken as UTC)."""
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def freshness(published_at: str | None, now: datetime, half_life_days: float = HALF_LIFE_DAYS) -> float:
    """0..1: how recent a publication date is relative to `now` (the reference time)."""
    published = _readable(published_at)
    if published is None:
        return 0.0
    age_days = (now - published).total_seconds() / 86400.0
    return 0.5 ** (max(age_days, 0.0) / half_life_days)


def reference_time(dates: Iterable[str | None], now: datetime) -> datetime:
    """The newest readable date among `dates`, capped at `now`; `now` when none is readable."""
    readable = [d for d in map(_readable, dates) if d is not None]
    return min(max(readable), now) if readable else now


def _readable(value: str | None) -> datetime | None:
    """The parsed date, or None for a missing or unreadable one (stored dates are data, not user input)."""
    if not value:
        return None
    try:
        return parse_date(value)
    except ValueError:
        return None


def blend(relevance: float, fresh: float, recency: float) -> float:
    """The final ordering score (see the module docstring)."""
    if recency == 0.0:
        return relevance
    return (1.0 - recency) * min(max(relevance, 0.0), 1.0) + recency * fresh
