"""Prometheus metrics of one app (prometheus-client, its own registry so several apps in one process stay apart).

`GET /metrics` serves them in the Prometheus text format: requests by endpoint and status, request latency by
endpoint, pipeline stage latency (the stages of `timings_ms`), searches in flight and waiting for the pair pass,
response-cache hits, the index's passages and articles, and the loaded model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from search.pipeline import SearchResponse
from search.pipeline.admission import Admission
from search.store import Store

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)  # seconds


@dataclass
class Metrics:
    """The app's metrics; `observe_request` and `observe_search` feed them, the gauges read their sources."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter("newsearch_requests", "HTTP requests by endpoint and status",
                                ["endpoint", "status"], registry=r)
        self.latency = Histogram("newsearch_request_seconds", "HTTP request latency by endpoint", ["endpoint"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.stages = Histogram("newsearch_stage_seconds", "search pipeline stage latency (timings_ms)", ["stage"],
                                buckets=LATENCY_BUCKETS, registry=r)
        self.cache_hits = Counter("newsearch_cache_hits", "searches answered from the response cache", registry=r)
        self.searches = Counter("newsearch_searches", "searches answered, by final stage", ["stage"], registry=r)

    def watch(self, admission: Admission, store: Store, model_id: str, model_name: str) -> None:
        """Gauges read at scrape time: searches in flight, the index's size, the model."""
        r = self.registry
        Gauge("newsearch_searches_in_flight", "searches admitted to the pair pass, waiting or running",
              registry=r).set_function(lambda: admission.inflight)
        Gauge("newsearch_index_passages", "passages in the store", registry=r).set_function(
            lambda: store.count("passages"))
        Gauge("newsearch_index_articles", "articles in the store", registry=r).set_function(
            lambda: store.count("articles"))
        Info("newsearch_model", "the loaded checkpoint", registry=r).info({"id": model_id, "name": model_name})

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def observe_search(self, response: SearchResponse) -> None:
        """One complete search response: a cache hit, or each stage's time."""
        if response.cached:
            self.cache_hits.inc()
            return
        self.searches.labels(response.stage).inc()
        for stage, ms in response.timings_ms.items():
            if stage != "total":
                self.stages.labels(stage).observe(ms / 1000.0)
