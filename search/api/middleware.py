"""What wraps every request: a request id (header `X-Request-ID`, in one structured log line per request),
metrics, size limits, an API key when one is set, and security headers.

The API key follows RFC 6750 (`Authorization: Bearer <key>`), compared in constant time (`hmac.compare_digest`).
The page and its static files need no key — the page asks for it when the API answers 401 and sends it as that
header. The page's Content-Security-Policy allows nothing but this origin (it loads no external assets), as
OWASP's secure-headers project recommends; /docs (Swagger UI, from a CDN) is left without it.
"""
from __future__ import annotations

import hmac
import json
import logging
import re
import time
import uuid

from fastapi import FastAPI, Request
from starlette.responses import Response

from search.api.errors import error_response
from search.api.metrics import Metrics

ACCESS_LOG = logging.getLogger("newsearch.access")
MAX_BODY_BYTES = 64 * 1024  # the only bodies are POST /watches's, a few hundred bytes
MAX_QUERY_BYTES = 16 * 1024  # the longest query string a search can need is a few kB
MAX_HEADER_BYTES = 16 * 1024
OPEN_PATHS = ("/", "/static/", "/favicon.ico")  # the page itself: it asks for the key
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def install_middleware(app: FastAPI, metrics: Metrics, api_key: str | None) -> None:
    """Wrap every request of `app` (see the module docstring)."""

    @app.middleware("http")
    async def wrap(request: Request, call_next) -> Response:
        began = time.perf_counter()
        given = request.headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        response = _refused(request, api_key) or await call_next(request)
        route = request.scope.get("route")
        endpoint = getattr(route, "path_format", None) or "unmatched"
        seconds = time.perf_counter() - began
        metrics.observe_request(endpoint, response.status_code, seconds)
        response.headers["X-Request-ID"] = request_id
        if endpoint == "/" or request.url.path.startswith("/static/"):
            response.headers.update(PAGE_HEADERS)
        ACCESS_LOG.info(json.dumps({"request_id": request_id, "method": request.method, "path": request.url.path,
                                    "endpoint": endpoint, "status": response.status_code,
                                    "ms": round(seconds * 1000, 1),
                                    "client": request.client.host if request.client else None}))
        return response


def _refused(request: Request, api_key: str | None) -> Response | None:
    """The error response for a request refused before it is routed, or None."""
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return error_response(413, f"request body over {MAX_BODY_BYTES} bytes: only POST /watches takes one, of "
                                   "a few hundred bytes")
    if len(request.scope.get("query_string", b"")) > MAX_QUERY_BYTES:
        return error_response(414, f"query string over {MAX_QUERY_BYTES} bytes: shorten the parameters", "q")
    if sum(len(k) + len(v) for k, v in request.scope.get("headers", [])) > MAX_HEADER_BYTES:
        return error_response(431, f"request headers over {MAX_HEADER_BYTES} bytes")
    if api_key is None or request.url.path == "/" or request.url.path.startswith(OPEN_PATHS[1:]):
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), api_key.encode()):
        return None
    response = error_response(401, "this server needs an API key: send the header `Authorization: Bearer <key>`",
                              "Authorization")
    response.headers["WWW-Authenticate"] = 'Bearer realm="newsearch"'
    return response
