"""A per-stage stopwatch, so each response can say where its time went."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator


class Stopwatch:
    """Accumulates wall-clock milliseconds per named stage, plus the total since creation."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self.ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the `with` block and add it to stage `name`."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - began) * 1000.0

    def finish(self) -> dict[str, float]:
        """The per-stage times and "total", rounded to 0.01 ms."""
        out = {name: round(ms, 2) for name, ms in self.ms.items()}
        out["total"] = round((time.perf_counter() - self._start) * 1000.0, 2)
        return out
