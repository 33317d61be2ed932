"""Batches built on a background thread while the accelerator runs the current step.

On a GPU the model step takes milliseconds and building a batch (tokenizing question-passage windows) would
otherwise leave the GPU idle in between. One producer thread keeps the order of batches exactly what a
sequential loop would produce (same random draws), so a run is reproducible with or without prefetching.
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable

class Prefetcher:
    """Call `produce(step)` for step = start, start + 1, ... on a thread; `next()` returns the results in order.

    An exception raised by `produce` is raised again by the `next()` that would have returned its result.
    """

    def __init__(self, produce: Callable[[int], Any], start: int, depth: int = 8) -> None:
        self._produce = produce
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(start,), daemon=True, name="prefetch")
        self._thread.start()

    def _run(self, step: int) -> None:
        while not self._stop.is_set():
            try:
                item: Any = (True, self._produce(step))
            except BaseException as exc:  # handed to the consumer, which decides
                item = (False, exc)
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if not item[0]:
                return
            step += 1

    def next(self) -> Any:
        ok, value = self._queue.get()
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Stop the producer; batches already built are dropped."""
        self._stop.set()
        self._thread.join(timeout=5)
