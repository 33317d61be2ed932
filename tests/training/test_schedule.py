"""The learning-rate schedule and training progress by steps or by a time budget."""
import time

import pytest

from search.training.schedule import Progress, lr_factor


def test_lr_is_zero_until_start_then_warms_up_and_decays_to_zero():
    assert lr_factor(0.0, 0.0, 0.1) == 0.0
    assert lr_factor(0.2, 0.2, 0.1) == 0.0  # a group that starts later (the encoder after the heads-only phase)
    assert lr_factor(0.2 + 0.08 * 0.5, 0.2, 0.1) == pytest.approx(0.5)  # half-way through its warm-up
    assert lr_factor(0.2 + 0.08, 0.2, 0.1) == pytest.approx(1.0)  # the peak, at the end of warm-up
    assert lr_factor(1.0, 0.2, 0.1) == pytest.approx(0.0)
    after = [lr_factor(p / 100, 0.2, 0.1) for p in range(29, 101)]
    assert all(a >= b for a, b in zip(after, after[1:]))  # linear decay, never back up


def test_progress_counts_steps_without_a_time_budget():
    progress = Progress(max_steps=200)
    assert progress.fraction(50) == 0.25
    assert progress.fraction(400) == 1.0


def test_progress_follows_the_clock_when_it_is_further_along():
    progress = Progress(max_steps=1000, time_budget_s=10.0, began=time.time() - 5.0)
    assert progress.fraction(10) == pytest.approx(0.5, abs=0.05)  # 5 s of 10, although only 1% of the steps
    assert progress.fraction(900) == 0.9  # steps further along than the clock
    resumed = Progress(max_steps=1000, time_budget_s=10.0, elapsed_before_s=8.0, began=time.time() - 2.0)
    assert resumed.fraction(0) == 1.0  # a resumed run counts the time its predecessors spent
