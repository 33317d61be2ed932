"""The prefetch thread returns exactly what a sequential loop would, and hands its errors to the consumer."""
import random
import threading

import pytest

from search.training.prefetch import Prefetcher


def _producer(seed: int):
    rng = random.Random(seed)
    return lambda step: (step, rng.random())


def test_same_items_in_the_same_order_as_a_sequential_loop():
    sequential = _producer(7)
    expected = [sequential(step) for step in range(5, 45)]
    prefetch = Prefetcher(_producer(7), start=5, depth=3)
    try:
        assert [prefetch.next() for _ in range(40)] == expected
    finally:
        prefetch.close()


def test_an_error_in_the_producer_is_raised_by_next():
    def produce(step: int) -> int:
        if step == 3:
            raise ValueError("bad batch")
        return step

    prefetch = Prefetcher(produce, start=0)
    try:
        assert [prefetch.next() for _ in range(3)] == [0, 1, 2]
        with pytest.raises(ValueError, match="bad batch"):
            prefetch.next()
    finally:
        prefetch.close()


def test_close_stops_the_thread():
    prefetch = Prefetcher(lambda step: step, start=0, depth=2)
    prefetch.next()
    prefetch.close()
    assert not any(t.name == "prefetch" and t.is_alive() for t in threading.enumerate())
