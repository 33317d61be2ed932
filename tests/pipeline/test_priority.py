"""The pair pass on threads at a lower CPU priority: same results, the pass (and torch's OpenMP threads it starts)
at the raised nice value, the caller's thread when the nice value is 0."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
import torch

from search.pipeline import SearchPipeline, SearchRequest
from search.pipeline.priority import PairThreads
from search.store import Store
from tests.encoder_calls import encoder_forwards

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")


def thread_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def threads_at(nice: int) -> int:
    """Threads of this process whose nice value is `nice` (field 19 of /proc/self/task/<tid>/stat)."""
    count = 0
    for stat in Path("/proc/self/task").glob("*/stat"):
        fields = stat.read_text().rsplit(")", 1)[1].split()
        count += int(fields[16]) == nice
    return count


def test_nice_zero_runs_in_the_callers_thread_and_bad_settings_are_refused() -> None:
    assert PairThreads(nice=0).run(threading.get_native_id) == threading.get_native_id()
    for settings in ({"nice": 20}, {"nice": -1}, {"workers": 0, "nice": 5}):
        with pytest.raises(ValueError):
            PairThreads(**settings)
    with pytest.raises(ZeroDivisionError):  # the pass's exception reaches the caller
        PairThreads(1, 3).run(lambda: 1 / 0)


@linux
def test_the_pass_and_the_openmp_threads_it_starts_run_at_the_raised_nice_value() -> None:
    base = thread_nice()
    nice = 7 - base if base < 7 else 1  # a value no other test's threads have
    threads = PairThreads(1, nice)
    target = base + nice
    a = torch.randn(512, 512)
    seen = threads.run(lambda: (thread_nice(), float((a @ a).sum()))[0])
    assert seen == target and thread_nice() == base
    # the pool thread and the OpenMP workers torch started from it for the product above
    assert threads_at(target) >= torch.get_num_threads()


@linux
def test_a_search_reads_at_the_raised_nice_value_with_the_same_results(model, sample_store) -> None:
    store = Store.open(sample_store, readonly=True)
    plain = SearchPipeline(model, store, responses_cached=0)
    lowered = SearchPipeline(model, store, responses_cached=0, pair_threads=PairThreads(1, 4))
    seen: list[int] = []

    def record(inputs) -> None:
        types = inputs["token_type_ids"]
        if types is not None and bool(types.any()):  # a (query, passage) pair, not the query pass
            seen.append(thread_nice())

    request, base = SearchRequest("Who won the election?", k=8), thread_nice()
    with encoder_forwards(model, before=record):
        expected = plain.search(request)
        plain_nices, seen[:] = set(seen), []
        got = lowered.search(request)
    assert plain_nices == {base} and set(seen) == {base + 4}
    assert [(r.article_id, r.passage.answer) for r in got.results] == \
        [(r.article_id, r.passage.answer) for r in expected.results]
    assert [r.relevance for r in got.results] == pytest.approx([r.relevance for r in expected.results])
    store.close()
