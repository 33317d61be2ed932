"""Watching the shared encoder: every forward a pass makes goes through `MultiTaskEncoder.hidden_states` (packed or
transformers), so tests that count passes or rows wrap that method."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch

Inputs = dict[str, torch.Tensor | None]  # input_ids, attention_mask, token_type_ids of one forward


@contextmanager
def encoder_forwards(model, before: Callable[[Inputs], None] | None = None,
                     after: Callable[[Inputs], None] | None = None) -> Iterator[list[Inputs]]:
    """Inside the block, the inputs of every encoder forward of `model` (a NewsModel) are listed, and `before` /
    `after` are called around each (from the thread that runs it)."""
    net, calls = model.net, []
    original = net.hidden_states

    def watched(input_ids, attention_mask, token_type_ids=None):
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        calls.append(inputs)
        if before is not None:
            before(inputs)
        try:
            return original(input_ids, attention_mask, token_type_ids)
        finally:
            if after is not None:
                after(inputs)

    net.hidden_states = watched
    try:
        yield calls
    finally:
        del net.hidden_states  # the class's method again
