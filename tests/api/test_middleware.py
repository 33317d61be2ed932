"""What wraps every request, through the real app: request ids and the access log, Prometheus metrics, size
limits, the API key, security headers on the page and CORS only when asked for."""
from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from search.api import ServeSettings, create_app

KEY = "k" * 24


@pytest.fixture(scope="module")
def app(sample_store):
    with TestClient(create_app(sample_store)) as client:
        yield client


@pytest.fixture(scope="module")
def locked(sample_store):
    with TestClient(create_app(sample_store, settings=ServeSettings(api_key=KEY,
                                                                    cors_origins=["https://desk.example"]))) as c:
        yield c


def test_every_response_has_a_request_id_and_one_access_log_line(app, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="newsearch.access"):
        mine = app.get("/health", headers={"X-Request-ID": "desk-42"})
        fresh = app.get("/articles/no-such-id")
    assert mine.headers["X-Request-ID"] == "desk-42" and len(fresh.headers["X-Request-ID"]) == 32
    lines = [json.loads(r.message) for r in caplog.records if r.name == "newsearch.access"]
    assert [(l["request_id"], l["endpoint"], l["status"]) for l in lines] == [
        ("desk-42", "/health", 200), (fresh.headers["X-Request-ID"], "/articles/{article_id}", 404)]
    assert app.get("/health", headers={"X-Request-ID": "no spaces allowed"}).headers["X-Request-ID"] != \
        "no spaces allowed"


def test_metrics_count_requests_stages_cache_hits_and_the_index(app) -> None:
    params = {"q": "Which team won the cup final?", "size": 3}
    assert app.get("/search", params=params).status_code == 200
    assert app.get("/search", params=params).json()["cached"] is True
    app.get("/search", params={"q": "x", "size": 99})
    text = app.get("/metrics").text
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line and not line.startswith("#")}
    assert samples['newsearch_requests_total{endpoint="/search",status="200"}'] >= 2
    assert samples['newsearch_requests_total{endpoint="/search",status="400"}'] >= 1
    assert samples["newsearch_cache_hits_total"] >= 1
    assert samples['newsearch_stage_seconds_count{stage="rerank_read"}'] >= 1
    assert samples["newsearch_index_passages"] == app.get("/health").json()["index"]["passages"]
    assert samples["newsearch_searches_in_flight"] == 0


@pytest.mark.parametrize("kwargs, status", [
    ({"params": {"q": "x" * 17000}}, 414),
    ({"headers": {"X-Padding": "p" * 17000}}, 431),
    ({"content": b"x" * 70000}, 413),
])
def test_oversized_requests_are_refused_before_any_work(app, kwargs, status) -> None:
    response = app.request("GET", "/search", **kwargs)
    assert response.status_code == status and response.json()["error"]


def test_the_page_has_a_strict_content_security_policy(app) -> None:
    page = app.get("/")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "Access-Control-Allow-Origin" not in app.get("/health", headers={"Origin": "https://evil.example"}).headers


def test_with_an_api_key_the_api_needs_it_and_the_page_does_not(locked) -> None:
    refused = locked.get("/search", params={"q": "fire"})
    assert refused.status_code == 401 and refused.json()["field"] == "Authorization"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert locked.get("/metrics").status_code == 401
    assert locked.get("/health", headers={"Authorization": "Bearer wrong-key-of-same-size!!"}).status_code == 401
    assert locked.get("/health", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert locked.get("/").status_code == 200 and locked.get("/static/app.js").status_code == 200
    cors = locked.get("/health", headers={"Origin": "https://desk.example", "Authorization": f"Bearer {KEY}"})
    assert cors.headers["Access-Control-Allow-Origin"] == "https://desk.example"


def test_serve_refuses_another_address_without_a_key_or_a_short_key(tmp_path) -> None:
    short = tmp_path / "key"
    short.write_text("abc")
    for extra, says in (([], "--api-key-file FILE"), (["--api-key-file", str(short)], "use at least 16")):
        out = subprocess.run([sys.executable, "-m", "search.cli", "serve", "--host", "0.0.0.0", *extra],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 2 and says in out.stderr
