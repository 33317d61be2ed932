"""Answer-span decoding: argmax over s_i + e_j with i <= j, a length cap, passage tokens only, within one paragraph.

Position 0 ([CLS]) stands for "no answer here": when s_0 + e_0 beats every valid span, `start`/`end` are (0, 0);
`best_start`/`best_end` keep the best valid span either way. A passage's text holds its article's title, a blank
line, then the body's paragraphs; an answer never runs across a blank line (SQuAD's answers lie inside one
paragraph by construction), so "seven\n\nAt least seven" — the end of a title and the start of the body — is
never a span.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Sequence

import torch

PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")  # a blank line (whitespace other than newlines allowed on it)


@dataclass
class SpanChoice:
    start: torch.Tensor  # (B,) token index, 0 = no answer
    end: torch.Tensor  # (B,)
    margin: torch.Tensor  # (B,) best span score minus the [CLS] score
    best_start: torch.Tensor  # (B,) the best valid span whatever [CLS] scores (SQuAD v1.1 always has an answer)
    best_end: torch.Tensor


def paragraph_segments(text: str, offsets: Sequence[tuple[int, int]], sequence_ids: Sequence[int | None]) -> list[int]:
    """Each token's paragraph in `text` (0, 1, … counted by blank lines before the token's first character), or -1
    for a token outside the passage (`sequence_ids` other than 1: [CLS], the question, [SEP], padding)."""
    breaks = [m.start() for m in PARAGRAPH_BREAK.finditer(text)]
    return [bisect.bisect_right(breaks, offsets[i][0]) if sid == 1 else -1 for i, sid in enumerate(sequence_ids)]


def best_spans(start_logits: torch.Tensor, end_logits: torch.Tensor, segments: torch.Tensor,
               max_len: int) -> SpanChoice:
    """Best span per row.

    start_logits, end_logits: (B, T); segments: (B, T) int, -1 outside the passage, else the token's paragraph
    (`paragraph_segments`; a plain passage mask `m` is `m.long() - 1`): a span starts and ends in one paragraph.
    Raises ValueError when `max_len` < 1.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    b, t = start_logits.shape
    scores = start_logits.unsqueeze(2) + end_logits.unsqueeze(1)  # (B, T, T): [b, i, j] = s_i + e_j
    idx = torch.arange(t, device=start_logits.device)
    width = idx.unsqueeze(0) - idx.unsqueeze(1)  # (T, T): j - i
    band = (width >= 0) & (width < max_len)  # i <= j and at most max_len tokens
    same = (segments.unsqueeze(2) == segments.unsqueeze(1)) & (segments >= 0).unsqueeze(2)  # (B, T, T)
    valid = band.unsqueeze(0) & same
    scores = scores.masked_fill(~valid, float("-inf"))
    best, flat = scores.view(b, -1).max(dim=1)  # (B,)
    start, end = flat // t, flat % t
    null = start_logits[:, 0] + end_logits[:, 0]  # (B,)
    margin = best - null
    answered = torch.isfinite(best) & (margin > 0)
    zero = torch.zeros_like(start)
    margin = torch.where(torch.isfinite(margin), margin, torch.full_like(margin, -1e4))
    return SpanChoice(start=torch.where(answered, start, zero), end=torch.where(answered, end, zero), margin=margin,
                      best_start=start, best_end=end)


def align_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen the character span [start, end) to whole words: a span that ends inside a word piece ("Myanma" of
    "Myanmar") is shown as the word, as the transformers QA pipeline does with `align_to_words`."""
    while 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while 0 < end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return start, end
