"""Admission to the pair pass: bounded concurrency, a bounded queue and a deadline (backpressure).

The pair pass is compute-bound, so at most `passes` run at once. Without a bound on the searches waiting for one,
a burst queues without limit and every client waits longer and longer (the queue grows while throughput stays
at about 2 searches/s on 2 cores). So a search that needs a pair pass is *admitted* first: when `max_waiting`
searches already wait beyond the `passes` that can run, it is refused at once with `Overloaded` (HTTP 503 with `Retry-After`, the load-shedding
answer of Google SRE's "Handling Overload" and of Elasticsearch's bounded search thread-pool queue, which
rejects with 429); once admitted it waits for a slot at most until its `deadline_s` (counted from when the
request arrived) and is cut with `Overloaded` past it. A pass that has started runs to its end.
"""
from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator


class Overloaded(RuntimeError):
    """The server cannot run this search in time; retry after `retry_after` seconds (HTTP 503)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass
class Admission:
    """The gate in front of the pair pass; safe to share between threads."""

    passes: int = 1  # pair passes that run at once
    max_waiting: int | None = None  # searches that may wait beyond the `passes` running; None = no bound
    deadline_s: float | None = None  # longest a search may take before its pass starts; None = no bound
    _slots: threading.BoundedSemaphore = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _inflight: int = field(init=False, default=0)  # admitted and not finished: waiting or running
    _pass_s: float = field(init=False, default=0.5)  # running mean of a pass's duration, for Retry-After

    def __post_init__(self) -> None:
        if self.passes < 1:
            raise ValueError(f"passes must be >= 1, got {self.passes}")
        if self.max_waiting is not None and self.max_waiting < 0:
            raise ValueError(f"max_waiting must be >= 0, got {self.max_waiting}")
        if self.deadline_s is not None and self.deadline_s <= 0:
            raise ValueError(f"deadline_s must be > 0, got {self.deadline_s}")
        self._slots = threading.BoundedSemaphore(self.passes)

    @property
    def inflight(self) -> int:
        """Searches admitted and not finished (waiting for a pass or running one)."""
        return self._inflight

    @contextmanager
    def admitted(self, arrived: float) -> Iterator["Ticket"]:
        """Admit a search that arrived at `arrived` (time.perf_counter()) until the block ends; raises
        Overloaded when `passes + max_waiting` searches are in flight. The ticket's `slot()` waits for a pass."""
        with self._lock:
            if self.max_waiting is not None and self._inflight >= self.passes + self.max_waiting:
                raise Overloaded(f"{self._inflight - self.passes} searches are waiting for the model; try again "
                                 "shortly", self._retry_after(self._inflight))
            self._inflight += 1
        try:
            yield Ticket(self, arrived)
        finally:
            with self._lock:
                self._inflight -= 1

    def _retry_after(self, ahead: int) -> int:
        """Seconds until `ahead` searches have run their passes, rounded up (at least 1)."""
        return max(1, math.ceil(ahead * self._pass_s / self.passes))

    def _ran(self, seconds: float) -> None:
        with self._lock:
            self._pass_s = 0.8 * self._pass_s + 0.2 * seconds


@dataclass
class Ticket:
    """One admitted search."""

    gate: Admission
    arrived: float

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a pass slot; raises Overloaded when none frees up before the deadline."""
        gate = self.gate
        timeout = None
        if gate.deadline_s is not None:
            timeout = max(0.0, gate.deadline_s - (time.perf_counter() - self.arrived))
        if not gate._slots.acquire(timeout=timeout):
            raise Overloaded(f"no model pass was free within the {gate.deadline_s:g} s deadline; try again shortly",
                             gate._retry_after(gate.inflight))
        started = time.perf_counter()
        try:
            yield
        finally:
            gate._slots.release()
            gate._ran(time.perf_counter() - started)
