"""Length bucketing: batches of similar length so dynamic padding wastes little compute."""
from __future__ import annotations

import random
from typing import Iterator


def bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random, pool_batches: int = 50
                     ) -> Iterator[list[int]]:
    """Endless stream of index batches: shuffle, sort within pools of `pool_batches` batches, shuffle batches."""
    if not lengths:
        raise ValueError("no examples to batch: check the data folder and --limit")
    while True:
        order = list(range(len(lengths)))
        rng.shuffle(order)
        pool = batch_size * pool_batches
        for p in range(0, len(order), pool):
            chunk = sorted(order[p:p + pool], key=lengths.__getitem__)
            batches = [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
            rng.shuffle(batches)
            yield from batches
