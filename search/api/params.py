"""Query-string parameters → pipeline requests. Types and descriptions here feed the OpenAPI page;
the limits themselves live in `search.pipeline.validate`, shared with the terminal command."""
from __future__ import annotations

import difflib
from types import UnionType
from typing import Annotated, Iterable, Union, get_args, get_origin

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from pydantic import StringConstraints

from search.api.offsets import OffsetUnits
from search.pipeline import LIMITS, InvalidRequest, SearchRequest
from search.store import Filters

TEXT_LIMIT = 2048  # generous cap on any one string parameter before validation reads it
Value = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_LIMIT, pattern=r"\S")]  # a filter value


def filter_params(
    topic: Annotated[list[Value] | None, Query(description="topic to keep (repeat for any of several)")] = None,
    entity: Annotated[list[Value] | None, Query(description="entity name that must be mentioned (repeatable)")] = None,
    source: Annotated[list[Value] | None, Query(description="source to keep (repeatable)")] = None,
    date_from: Annotated[Value | None, Query(description="earliest publication date, YYYY-MM-DD, inclusive")] = None,
    date_to: Annotated[Value | None, Query(description="latest publication date, YYYY-MM-DD, inclusive")] = None,
) -> Filters:
    """The filter parameters shared by /search and /facets. An empty value is refused (400), as the schema says:
    leave a parameter out to not filter by it."""
    return Filters(topics=topic or [], entities=entity or [], sources=source or [], date_from=date_from,
                   date_to=date_to)


# paging, as every paged endpoint takes it (the limits are checked by validate_paging, with the pipeline's words)
Page = Annotated[int, Query(description="1-based page number",
                            json_schema_extra={"minimum": 1, "maximum": LIMITS.max_page})]
Size = Annotated[int, Query(description="articles per page (1–50)",
                            json_schema_extra={"minimum": 1, "maximum": LIMITS.max_size})]

OFFSETS_DOC = ("the unit of every character offset in the response: codepoints (as Python indexes strings; "
               "default) or utf16 (as JavaScript, Java and C# do: an emoji counts two)")
Offsets = Annotated[OffsetUnits, Query(description=OFFSETS_DOC)]


def search_params(
    filters: Annotated[Filters, Depends(filter_params)],
    q: Annotated[str, Query(description="the question or keywords (1–512 characters, not only spaces)",
                            max_length=TEXT_LIMIT, json_schema_extra=query_schema(LIMITS.max_query_chars))],
    k: Annotated[int | None, Query(description="candidate passages each retriever gives and fusion keeps (1–200; "
                                                "default: the model's setting, see /health)",
                                   json_schema_extra={"minimum": 1, "maximum": LIMITS.max_k})] = None,
    page: Page = 1,
    size: Size = 10,
    rerank: Annotated[bool, Query(description="order by the pair head's relevance (false: the fused retrieval "
                                              "order)")] = True,
    answers: Annotated[bool, Query(description="return the answer span of each best passage")] = True,
    recency: Annotated[float, Query(description="0 = relevance only … 1 = newest first",
                                    json_schema_extra={"minimum": 0, "maximum": 1})] = 0.0,
    fusion: Annotated[str | None, Query(description="how the dense and lexical lists are fused: convex (weighted sum "
                                                    "of min-max normalised scores), dbsf (the same after mean ± 3 std "
                                                    "normalisation) or rrf (reciprocal rank fusion); default: the "
                                                    "model's setting", max_length=TEXT_LIMIT,
                                        json_schema_extra={"enum": ["convex", "dbsf", "rrf"]})] = None,
    alpha: Annotated[float | None, Query(description="weight of the dense list in convex / dbsf fusion, 0..1 (0 = "
                                                     "lexical only; rrf does not use it); default: the model's "
                                                     "setting", json_schema_extra={"minimum": 0, "maximum": 1})] = None,
    rerank_depth: Annotated[int | None, Query(description="fused candidates the pair pass considers (rerank score "
                                                          "and answer; it reads each article's best of them, or "
                                                          "best two when second_passage_weight > 0, within "
                                                          "rerank_margin of the first), 0–200; fewer is "
                                                          "faster, the rest keep their fused order below them (0: "
                                                          "no pair pass, no answers); default: the server's "
                                                          "setting, see /health",
                                              json_schema_extra={"minimum": 0, "maximum": LIMITS.max_k})] = None,
    pair_window: Annotated[int | None, Query(description="word pieces of each passage the pair pass reads, on "
                                                         "its sentences that best match the query: 0 (whole "
                                                         f"passages) or {LIMITS.min_pair_window}–"
                                                         f"{LIMITS.max_pair_window}; smaller is faster; default: "
                                                         "the server's setting, see /health",
                                             json_schema_extra={"minimum": 0,
                                                                "maximum": LIMITS.max_pair_window})] = None,
    rerank_margin: Annotated[float | None, Query(description="the pair pass reads a candidate only if its fused "
                                                             "score (0..1) is at most this far below the first "
                                                             "candidate's: 0..1, 1 reads every one down to "
                                                             "rerank_depth; smaller is faster; default: the "
                                                             "server's setting, see /health",
                                                 json_schema_extra={"minimum": 0, "maximum": 1})] = None,
) -> SearchRequest:
    """All /search parameters; out-of-range values are refused by the pipeline's validation (400)."""
    return SearchRequest(query=q, k=k, page=page, size=size, rerank=rerank, answers=answers, recency=recency,
                         filters=filters, fusion=fusion or None, alpha=alpha, rerank_depth=rerank_depth,
                         pair_window=pair_window, rerank_margin=rerank_margin)


def query_schema(max_chars: int) -> dict:
    """What the OpenAPI schema says of the query text: the pipeline's own limits (search/pipeline/validate.py)."""
    return {"minLength": 1, "maxLength": max_chars, "pattern": "\\S"}


def refuse_unknown_params(request: Request) -> None:
    """A router dependency: a query parameter the endpoint does not take is a 400 naming it and the closest
    one it does take (`from` → "did you mean date_from?"), not a silent default; so is one that takes a single
    value given twice (`q=a&q=b`), rather than the last one silently. Raises InvalidRequest."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    known, repeatable = _query_names(route.dependant), _repeatable_names(route.dependant)
    path = getattr(route, "path_format", route.path)
    for name in request.query_params:
        if name not in known:
            raise InvalidRequest(name, f"unknown parameter {name!r} for {path}: {closest_hint(name, known)}")
        if name not in repeatable and len(request.query_params.getlist(name)) > 1:
            raise InvalidRequest(name, f"{name} is given {len(request.query_params.getlist(name))} times; {path} "
                                       "takes one value: give it once")


def closest_hint(name: str, known: Iterable[str]) -> str:
    """"did you mean X?" for the known name closest to `name`, else the list of known names. Each name and each
    word of it count ("from" of date_from), so `from` and `form` both find date_from."""
    known = sorted(known)
    spellings = {word: full for full in known for word in [*full.split("_"), full]}
    close = difflib.get_close_matches(name, sorted(spellings), n=1, cutoff=0.6)
    return (f"did you mean {spellings[close[0]]}?" if close else
            f"it takes {', '.join(known)}" if known else "it takes none")


def _repeatable_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters of an endpoint that take a list (`topic=a&topic=b`)."""
    names = {field.alias for field in dependant.query_params if _is_list(field.field_info.annotation)}
    for sub in dependant.dependencies:
        names |= _repeatable_names(sub)
    return frozenset(names)


def _is_list(annotation: object) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, UnionType, Annotated):
        return any(_is_list(arg) for arg in get_args(annotation))
    return origin is list


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameter names of an endpoint, its dependencies' included."""
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return frozenset(names)
