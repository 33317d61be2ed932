"""Search results as CSV or JSON Lines: one row per result of the page, the columns a spreadsheet needs.

Used by `GET /search?format=csv|jsonl` and `news-search query --csv`; the rows follow the JSON results (same
order, same ids). CSV is written by the standard library's `csv` module (RFC 4180 quoting); list cells
(entities) are joined with "; "; a cell a spreadsheet would run as a formula is prefixed with '.
"""
from __future__ import annotations

import csv
import io
import json

from search.pipeline.records import Result, SearchResponse

COLUMNS = ("rank", "article_id", "title", "published_at", "source", "url", "topic", "entities", "answer", "score")
FORMATS = ("json", "csv", "jsonl")


def export_rows(response: SearchResponse) -> list[dict]:
    """One dict per result, keys `COLUMNS`; `rank` counts from the first result of page 1."""
    first = (response.page - 1) * response.size + 1
    return [_row(first + i, r) for i, r in enumerate(response.results)]


def to_csv(response: SearchResponse) -> str:
    """The results as CSV with a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for row in export_rows(response):
        row = {**row, "entities": "; ".join(row["entities"])}
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: object) -> object:
    """Text a spreadsheet would run as a formula (=, +, -, @ first) gets a leading ' (OWASP: CSV injection)."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_jsonl(response: SearchResponse) -> str:
    """The results as JSON Lines, one object per result."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in export_rows(response))


def _row(rank: int, r: Result) -> dict:
    answer = r.passage.answer.text if r.passage.answer else ""
    return {"rank": rank, "article_id": r.article_id, "title": r.title, "published_at": r.published_at or "",
            "source": r.source or "", "url": r.url or "", "topic": r.topic or "", "entities": list(r.entities),
            "answer": answer, "score": round(r.score, 4)}
