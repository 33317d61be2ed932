"""Character offsets in the unit a client slices strings with.

The pipeline counts Unicode code points, as Python indexes a string. JavaScript, Java and C# index UTF-16 code
units, where a character outside the Basic Multilingual Plane (most emoji, 𝐁) takes two, so every offset after
one is off by one per such character. `offsets=utf16` converts what a response points with — passage offsets
into the article text, answer and term offsets into the passage text, entity spans into the article text — the
way the Language Server Protocol lets a client choose its position encoding (`positionEncoding: "utf-16"`).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Iterable, Literal

from search.pipeline import SearchResponse
from search.pipeline.records import Result

OffsetUnits = Literal["codepoints", "utf16"]


def utf16_offset(text: str, index: int) -> int:
    """The UTF-16 code-unit offset of code-point offset `index` in `text`."""
    return index + sum(1 for ch in text[:index] if ord(ch) > 0xFFFF)


def response_offsets(response: SearchResponse, units: OffsetUnits,
                     article_texts: Callable[[Iterable[str]], dict[str, str]]) -> SearchResponse:
    """`response` with its offsets in `units`; `article_texts`: article id -> text (title + body)."""
    if units == "codepoints":
        return response
    results = response.results + response.weak
    texts = article_texts({r.article_id for r in results})
    convert = {id(r): _result(r, texts.get(r.article_id, "")) for r in results}
    return replace(response, results=[convert[id(r)] for r in response.results],
                   weak=[convert[id(r)] for r in response.weak])


def _result(result: Result, article_text: str) -> Result:
    p = result.passage
    answer = p.answer and replace(p.answer, start=utf16_offset(p.text, p.answer.start),
                                  end=utf16_offset(p.text, p.answer.end))
    terms = [(utf16_offset(p.text, a), utf16_offset(p.text, b)) for a, b in p.terms]
    passage = replace(p, start=utf16_offset(article_text, p.start), end=utf16_offset(article_text, p.end),
                      answer=answer, terms=terms)
    return replace(result, passage=passage)


def article_offsets(article: dict[str, Any], units: OffsetUnits) -> dict[str, Any]:
    """An /articles body (`text` and `entities` spans into it) with its spans in `units`."""
    if units == "codepoints":
        return article
    text = article["text"]
    return {**article, "entities": [{**m, "start": utf16_offset(text, m["start"]), "end": utf16_offset(text, m["end"])}
                                    for m in article["entities"]]}
