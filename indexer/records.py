"""One input article, validated and normalised the same way whatever file format it came from."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime

KNOWN_FIELDS = ("id", "title", "body", "published_at", "source", "url", "categories")


class RecordError(ValueError):
    """Why one record cannot be indexed (reported with its file:line and skipped, or fatal with --strict)."""


@dataclass
class Article:
    """An input article ready to be split and annotated."""

    id: str
    title: str
    body: str
    published_at: str | None  # normalised ISO 8601: YYYY-MM-DD or a full datetime
    source: str | None
    url: str | None
    categories: list[str]
    extra: dict  # every other input field (e.g. licence), stored as given
    content_hash: str  # unchanged hash = nothing to do on `add`
    origin: str = ""  # file:line it came from, for the summary
    generated_id: bool = False  # the input had no id: `id` is `content_id`
    notes: list[str] = field(default_factory=list)  # what was read differently from how it was written


@dataclass
class BadRecord:
    """A record that was skipped, and why."""

    origin: str  # file:line
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


def parse_record(fields: dict, origin: str = "") -> Article:
    """Validate one record's fields; RecordError says what is wrong with it. `origin`: its file:line."""
    notes = [f"{name} is a number ({fields[name]}), stored as text" for name in ("title", "body")
             if isinstance(fields.get(name), (int, float)) and not isinstance(fields.get(name), bool)]
    body = _text(fields.get("body"), "body")
    if not body or not body.strip():
        raise RecordError("missing body")
    title = (_text(fields.get("title"), "title") or "").strip()
    published_at = parse_date(fields.get("published_at"))
    categories = _categories(fields.get("categories"))
    source = _text(fields.get("source"), "source") or None
    url = _text(fields.get("url"), "url") or None
    extra = {k: v for k, v in fields.items() if k not in KNOWN_FIELDS}
    raw_id = fields.get("id")
    generated = raw_id in (None, "") or not str(raw_id).strip()
    article_id = content_id(title, body) if generated else str(raw_id).strip()
    digest = hashlib.sha256(json.dumps([article_id, title, body, published_at, source, url, categories, extra],
                                       sort_keys=True, default=str).encode()).hexdigest()
    return Article(article_id, title, body, published_at, source, url, categories, extra, digest, origin, generated,
                   notes)


def content_id(title: str, body: str) -> str:
    """A stable id for an article that came without one: the same text always gets the same id."""
    return "doc-" + hashlib.sha1(f"{title}\n\n{body}".encode()).hexdigest()[:16]


def parse_date(value: object) -> str | None:
    """ISO 8601 date or datetime, normalised; None for an empty value."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        return date.fromisoformat(text).isoformat() if len(text) == 10 else datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise RecordError(f"unparsable published_at {text!r} (use ISO 8601, e.g. 2024-05-01 or "
                          "2024-05-01T09:30:00Z)") from None


def _text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    raise RecordError(f"{name} must be text, not {type(value).__name__}")


def _categories(value: object) -> list[str]:
    """A list, or one string with `;`-separated categories (how a CSV cell holds them)."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [c.strip() for c in value.split(";") if c.strip()]
    if isinstance(value, list):
        return [str(c).strip() for c in value if str(c).strip()]
    raise RecordError(f"categories must be a list or a ;-separated string, not {type(value).__name__}")
