"""Concurrent searches take turns for the pair pass (one at a time by default), and say how long they waited."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from search.pipeline import SearchPipeline, SearchRequest
from search.pipeline.admission import Admission
from search.store import Store
from tests.encoder_calls import encoder_forwards


def most_pair_passes_at_once(model, run) -> int:
    """The largest number of pair passes (encoder forwards with segment ids, i.e. (query, passage) pairs) in
    flight at the same time during `run()`; query passes (one segment) do not count."""
    lock, active, most = threading.Lock(), [0], [0]

    def is_pair(inputs) -> bool:
        types = inputs["token_type_ids"]
        return types is not None and bool(types.any())

    def enter(inputs) -> None:
        if is_pair(inputs):
            with lock:
                active[0] += 1
                most[0] = max(most[0], active[0])

    def leave(inputs) -> None:
        if is_pair(inputs):
            with lock:
                active[0] -= 1

    with encoder_forwards(model, enter, leave):
        run()
    return most[0]


def test_one_pass_at_a_time_while_eight_searches_run_together(model, sample_store) -> None:
    store = Store.open(sample_store, readonly=True)
    pipeline = SearchPipeline(model, store, responses_cached=0)
    queries = [f"{word} news" for word in ("election", "earthquake", "football", "court", "storm", "health",
                                           "space", "music")]
    responses = []

    def run() -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            responses.extend(pool.map(lambda q: pipeline.search(SearchRequest(q, k=6)), queries))

    assert most_pair_passes_at_once(model, run) == 1
    assert all(r.results or r.weak for r in responses)
    assert max(r.timings_ms.get("queue", 0.0) for r in responses) > 0.0  # someone waited for the pair pass
    with pytest.raises(ValueError, match="passes"):
        Admission(passes=0)
    store.close()
