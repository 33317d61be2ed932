"""Split an article into overlapping passages that fit the encoder, cutting at sentence ends where possible.

The text is tokenised once; each sentence's token count comes from the tokenizer's offsets, and sentences are
packed greedily into passages that fit `max_passage_tokens`. A passage starts with the last whole sentences
of the previous one (up to `overlap` tokens), so an answer across a cut is still whole in one passage. A
sentence too long for one passage is cut into `overlap`-token pieces, which then overlap the same way.
Offsets are characters into the article text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

# a sentence ends after . ! ? (and closing quotes/brackets) followed by space, or at a line break
_BOUNDARY = re.compile(r"[.!?][\"'”’)\]]*\s+|\n+")
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
SAFETY = 4  # word pieces kept free: a passage tokenised on its own can differ slightly at its edges


@dataclass
class Span:
    """One passage: character offsets into the article text."""

    start: int
    end: int


def split_passages(text: str, tokenizer: PreTrainedTokenizerBase, max_passage_tokens: int,
                   overlap: int = 48) -> list[Span]:
    """Passages covering `text`, each short enough for `max_passage_tokens` (special tokens included)."""
    budget = max_passage_tokens - SPECIAL_TOKENS - SAFETY
    overlap = min(overlap, budget // 4)
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)["offset_mapping"]
    if not offsets:
        return [Span(0, len(text))] if text.strip() else []
    units = sentence_units(text, offsets, budget, overlap)
    spans: list[Span] = []
    i = 0
    while i < len(units):
        j, used = i, 0
        while j < len(units) and (j == i or used + units[j][2] <= budget):
            used += units[j][2]
            j += 1
        spans.append(Span(units[i][0], units[j - 1][1]))
        if j == len(units):
            break
        back, carried = j, 0
        while back - 1 > i and carried + units[back - 1][2] <= overlap:
            back -= 1
            carried += units[back][2]
        i = back
    return spans


def sentence_units(text: str, offsets: list[tuple[int, int]], budget: int, piece: int
                   ) -> list[tuple[int, int, int]]:
    """(start char, end char, tokens) of each sentence of `text`, given its word pieces' character `offsets`
    (special tokens left out); a sentence over `budget` tokens is cut into `piece`-token parts."""
    starts = np.array([s for s, _ in offsets])
    cuts = [0] + [m.end() for m in _BOUNDARY.finditer(text)] + [len(text)]
    units: list[tuple[int, int, int]] = []
    for a, b in zip(cuts, cuts[1:]):
        first, last = np.searchsorted(starts, a), np.searchsorted(starts, b)  # tokens starting inside [a, b)
        step = piece if last - first > budget else max(last - first, 1)
        for t in range(first, last, step):
            u = min(t + step, last)
            units.append((offsets[t][0], offsets[u - 1][1], u - t))
    return units
