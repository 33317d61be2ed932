"""Where training stands (0..1) and the learning rate that goes with it.

Progress counts steps, or wall-clock time when the recipe sets a time budget (whichever is further along). A
time budget makes a run on unknown hardware end on time with a fully decayed learning rate, instead of being
cut off mid-schedule by the machine's limit; the report then says how many steps it reached.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Progress:
    max_steps: int
    time_budget_s: float = 0.0  # 0 = steps alone decide
    elapsed_before_s: float = 0.0  # time spent by the runs this one resumes
    began: float = field(default_factory=time.time)

    def elapsed(self) -> float:
        return self.elapsed_before_s + time.time() - self.began

    def fraction(self, steps_done: int) -> float:
        """How far along training is after `steps_done` optimizer steps, in [0, 1]."""
        done = steps_done / max(1, self.max_steps)
        if self.time_budget_s > 0:
            done = max(done, self.elapsed() / self.time_budget_s)
        return min(1.0, done)


def lr_factor(progress: float, start: float, warmup: float) -> float:
    """Multiplier of a parameter group's learning rate: 0 before `start`, then linear warm-up over the first
    `warmup` fraction of the remaining span and linear decay to 0 at progress 1."""
    if progress <= start:
        return 0.0
    span = 1.0 - start
    warm = max(warmup * span, 1e-9)
    done = progress - start
    return max(0.0, min(done / warm, (span - done) / max(span - warm, 1e-9)))
