"""Every client mistake becomes a 4xx with `{"error": "<what to fix>", "field": "<parameter>"}`.

FastAPI's own validation errors (a non-number for `size`, a missing parameter) are rewritten into the
same shape and status (400), so a client handles one error format and a person reads one sentence, not a
pydantic dump.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from search.api.params import closest_hint
from search.pipeline import InvalidRequest
from search.pipeline.admission import Overloaded
from search.store import StoreError

STORE_RETRY_S = 5  # a store busy past its 10 s timeout: the indexer commits batch by batch, soon free again


# pydantic's error types -> what to fix, in the pipeline's words
TYPE_WORDS = {"int_parsing": "must be a whole number", "float_parsing": "must be a number",
              "bool_parsing": "must be true or false", "string_too_long": "is too long",
              "missing": "is required: type a few words or a question",
              "string_too_short": "is empty: give a value, or leave the parameter out",
              "string_pattern_mismatch": "is only spaces: give a value, or leave the parameter out",
              "extra_forbidden": "is not a field this endpoint takes"}
BODY_WORDS = {"json_invalid": "the request body is not valid JSON: send an object such as {\"q\": \"earthquake\"}",
              "missing": "the request body must be a JSON object such as {\"q\": \"earthquake\"} "
                         "(Content-Type: application/json)"}


class ErrorBody(BaseModel):
    """What every error response holds."""

    error: str  # what to fix, one sentence
    field: str | None = None  # the parameter to fix ("path" for an unknown endpoint); absent when none


# declared on every endpoint of the API (search/api/routes.py), so a generated client knows every answer
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad input: an unknown parameter, a value of the wrong type or out of "
                                             "range, an unknown filter value; `field` names the parameter"},
    401: {"model": ErrorBody, "description": "The server was started with an API key and the request has no "
                                             "valid `Authorization: Bearer <key>` header"},
    404: {"model": ErrorBody, "description": "No such article (`field`: article_id), watch (`field`: watch_id) or "
                                             "endpoint (`field`: path)"},
    413: {"model": ErrorBody, "description": "A request body over 64 kB"},
    414: {"model": ErrorBody, "description": "A query string over 16 kB"},
    431: {"model": ErrorBody, "description": "Request headers over 16 kB"},
    503: {"model": ErrorBody, "description": "The model is busy: too many searches wait for a pair pass, or this "
                                             "one waited past the server's deadline; or the store could not be "
                                             "written or read (a watch saved while the indexer held it past the "
                                             "busy timeout, a read-only folder). Retry after the number of "
                                             "seconds in the `Retry-After` header",
          "headers": {"Retry-After": {"description": "seconds to wait before retrying",
                                      "schema": {"type": "integer"}}}},
}


def without_validation_422(app: FastAPI) -> None:
    """Drop FastAPI's generated 422 responses from the OpenAPI schema: validation errors are answered with 400
    (`install_error_handlers`), so the schema must not promise a 422 nobody sends."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def error_response(status: int, message: str, field: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error body every 4xx (and the 503) uses."""
    body = {"error": message} if field is None else {"error": message, "field": field}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Turn InvalidRequest, FastAPI's validation errors and HTTP errors into `error_response`s."""

    @app.exception_handler(InvalidRequest)
    async def invalid_request(_: Request, exc: InvalidRequest) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.field)

    @app.exception_handler(Overloaded)
    async def overloaded(_: Request, exc: Overloaded) -> JSONResponse:
        return error_response(503, exc.message, headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> JSONResponse:
        # the store, not the request: saving a watch while another process held the store (busy: worth retrying
        # soon), a read-only folder or a damaged vector file (the message says what to run; no Retry-After)
        return error_response(503, str(exc), headers={"Retry-After": str(STORE_RETRY_S)} if exc.busy else None)

    @app.exception_handler(RequestValidationError)
    async def invalid_params(request: Request, exc: RequestValidationError) -> JSONResponse:
        # a value of the wrong type is bad input like any other: 400, in the same words as the pipeline's checks
        first = exc.errors()[0] if exc.errors() else {}
        kind = first.get("type", "")
        where, *loc = [str(part) for part in first.get("loc", ())] or [""]
        if where == "body" and (kind == "json_invalid" or not loc):
            return error_response(400, BODY_WORDS.get(kind, BODY_WORDS["missing"]), "body")
        field = loc[0] if loc else None  # the first part says where (query, path, body): a body field may be "query"
        if where == "body" and kind == "extra_forbidden" and field:
            route = request.scope.get("route")
            body = getattr(getattr(getattr(route, "body_field", None), "field_info", None), "annotation", None)
            known = getattr(body, "model_fields", {})
            return error_response(400, f"unknown field {field!r} in the request body: {closest_hint(field, known)}",
                                  field)
        given = f", got {first['input']!r}" if "input" in first and first["input"] is not None else ""
        bound = first.get("ctx", {})
        what = (f"must be at least {bound['ge']}" if "ge" in bound else f"must be at most {bound['le']}"
                if "le" in bound else TYPE_WORDS.get(kind, first.get("msg", "is not valid").lower()))
        return error_response(400, f"{field or 'the request'} {what}{given}", field)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        # Starlette's own 404 / 405 (no such endpoint, wrong method): the path is what to fix
        message = f"{exc.detail} ({request.method} {request.url.path}): the endpoints are listed at /docs"
        return error_response(exc.status_code, message, "path")
