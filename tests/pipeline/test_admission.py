"""Backpressure in front of the pair pass: a bounded queue answered at once, and a deadline on the wait."""
from __future__ import annotations

import threading
import time

import pytest

from search.pipeline.admission import Admission, Overloaded


def hold_a_pass(gate: Admission, release: threading.Event, running: threading.Event) -> threading.Thread:
    """A search that is admitted, takes the only pass and keeps it until `release` is set."""
    def run() -> None:
        with gate.admitted(time.perf_counter()) as ticket, ticket.slot():
            running.set()
            release.wait(10)

    thread = threading.Thread(target=run)
    thread.start()
    assert running.wait(5)
    return thread


def test_a_full_queue_refuses_at_once_with_a_retry_after_and_frees_when_searches_end() -> None:
    gate = Admission(passes=1, max_waiting=1)
    release, running = threading.Event(), threading.Event()
    busy = hold_a_pass(gate, release, running)
    with gate.admitted(time.perf_counter()):  # one may wait beside the running one
        began = time.perf_counter()
        with pytest.raises(Overloaded, match="1 searches are waiting") as refused:
            with gate.admitted(time.perf_counter()):
                pass
        assert time.perf_counter() - began < 0.5 and refused.value.retry_after >= 1
    release.set()
    busy.join()
    assert gate.inflight == 0
    with gate.admitted(time.perf_counter()) as ticket, ticket.slot():  # room again
        assert gate.inflight == 1


def test_a_wait_past_the_deadline_is_cut_and_a_started_pass_is_not() -> None:
    gate = Admission(passes=1, deadline_s=0.3)
    release, running = threading.Event(), threading.Event()
    busy = hold_a_pass(gate, release, running)
    began = time.perf_counter()
    with pytest.raises(Overloaded, match="0.3 s deadline"):
        with gate.admitted(began) as ticket, ticket.slot():
            pass
    assert 0.25 < time.perf_counter() - began < 2.0
    release.set()
    busy.join()
    arrived = time.perf_counter()
    with gate.admitted(arrived) as ticket, ticket.slot():
        time.sleep(0.4)  # past the deadline, but running: not cut
    assert gate.inflight == 0


@pytest.mark.parametrize("settings, error", [({"passes": 0}, "passes"), ({"max_waiting": -1}, "max_waiting"),
                                             ({"deadline_s": 0}, "deadline_s")])
def test_bad_settings_fail_fast(settings, error) -> None:
    with pytest.raises(ValueError, match=error):
        Admission(**settings)
