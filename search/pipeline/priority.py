"""The pair pass on its own threads at a lower CPU priority, so that short work gets the cores first.

A search's first results (query pass, retrieval, the fused line) take a few tens of ms; its pair pass then keeps
every core torch is given busy for a few hundred. Short work that wants a core meanwhile waits its turn: on a
busy server, the first results of the searches that arrive during other searches' passes. Running the passes on
worker threads with a raised nice value (the Unix priority; Linux gives each thread its own, and the OpenMP
threads torch starts from such a thread inherit it) lets the kernel's scheduler run that short work first; on a
machine with nothing else to run, a pass still gets every core. Measured (docs/speed.md): with 16 clients and
every pass at once, first results 259 against 1,110 ms p50 at the same throughput; with one pass at a time, and
for a browser drawing a lone search's first results, no difference beyond the noise. Elsewhere than Linux a
thread has no nice value of its own: the threads run at normal priority.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, TypeVar

T = TypeVar("T")
MAX_NICE = 19  # the lowest priority a Unix nice value gives
log = logging.getLogger("newsearch")


def lower_priority(nice: int) -> bool:
    """Raise the calling thread's nice value by `nice` (0..19) on Linux; False where it cannot (another OS, or
    the kernel refused), and the thread keeps its priority."""
    if nice == 0 or not sys.platform.startswith("linux"):
        return False
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(MAX_NICE, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError as exc:  # e.g. a seccomp profile that forbids it: the pass still runs, at normal priority
        log.warning("newsearch: the pair pass runs at normal priority (setpriority failed: %s)", exc)
        return False
    return True


@dataclass
class PairThreads:
    """`workers` threads, each started at nice + `nice`, that run the pair passes; `run` blocks its caller
    until the pass is done. With `nice` 0 there are no threads: `run` calls in the caller's thread. Raises
    ValueError when `nice` is outside 0..19 or `workers` < 1."""

    workers: int = 1
    nice: int = 0
    _pool: ThreadPoolExecutor | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        if not 0 <= self.nice <= MAX_NICE:
            raise ValueError(f"nice must be between 0 and {MAX_NICE}, got {self.nice}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.nice == 0:
            return
        # the priority is set before the thread's first pass: torch's OpenMP threads, started then, inherit it
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="pair-pass", initializer=lower_priority,
                                        initargs=(self.nice,))

    def run(self, fn: Callable[..., T], *args: object) -> T:
        """fn(*args) on one of the threads; its result, or the exception it raised."""
        if self._pool is None:
            return fn(*args)
        return self._pool.submit(fn, *args).result()
