"""Pair windows: the part of a passage the pair pass reads, placed on the sentences that best match the query.

The pair pass costs time in proportion to its tokens (its attention, more than in proportion), and a passage's
answer and its evidence of relevance sit mostly in the sentences that share the query's words. So instead of the
whole passage (up to 254 word pieces), the pair pass may read a window of at most `max_tokens` word pieces:

1. the passage is cut into sentences (`search.passages.sentence_units`; a sentence longer than the window is
   cut into window-sized parts);
2. each sentence scores the sum, over the query's terms (`search.terms.query_terms`) it contains, of
   log(1 + n / df): n sentences in the passage, df of them containing the term — a term every sentence has
   says little about where the answer is;
3. the window starts as the best sentence (the first on ties: news puts the main facts first) and grows by
   whole neighbouring sentences, the better-scoring side first (the following one on ties), while it fits.

A passage that fits in the window is read whole. Windows are character spans of the passage, so an answer found
in a window maps back by adding the window's start. (The same idea as a QA reader's "best window" in long
documents, e.g. the sliding windows of Devlin et al. 2019 §4.2, chosen here by term overlap instead of by a
second model pass, so the pair pass stays the only one.)
"""
from __future__ import annotations

import math
from typing import Sequence

from transformers import PreTrainedTokenizerBase

from search.passages import sentence_units
from search.terms import query_terms, words


def _sentence_scores(query: str, passage: str, units: list[tuple[int, int, int]]) -> list[float]:
    """Each sentence's weighted count of the query's terms (see the module docstring, step 2)."""
    terms = set(query_terms(query))
    present = [terms & set(words(passage[a:b])) for a, b, _ in units]
    df = {t: sum(t in p for p in present) for t in terms}
    n = len(units)
    return [sum(math.log(1 + n / df[t]) for t in p) for p in present]


def best_window(query: str, passage: str, offsets: list[tuple[int, int]], max_tokens: int) -> tuple[int, int]:
    """(start, end) characters of the passage's window for `query`; `offsets` are the passage's word pieces'
    character offsets without special tokens. The whole passage when it has at most `max_tokens` pieces."""
    if len(offsets) <= max_tokens:
        return 0, len(passage)
    units = sentence_units(passage, offsets, max_tokens, max_tokens)
    scores = _sentence_scores(query, passage, units)
    first = max(range(len(units)), key=lambda i: (scores[i], -i))
    lo, hi, used = first, first, units[first][2]
    while True:
        sides = [i for i in (hi + 1, lo - 1) if 0 <= i < len(units) and used + units[i][2] <= max_tokens]
        if not sides:
            break
        pick = max(sides, key=lambda i: (scores[i], i > hi))  # better score; on ties the following sentence
        used += units[pick][2]
        lo, hi = min(lo, pick), max(hi, pick)
    return units[lo][0], units[hi][1]


def pair_windows(tokenizer: PreTrainedTokenizerBase, queries: Sequence[str], passages: Sequence[str],
                 max_tokens: int) -> list[tuple[int, int]]:
    """`best_window` of each (query, passage); `max_tokens` 0 means every passage whole. Raises ValueError on a
    negative `max_tokens`."""
    if max_tokens < 0:
        raise ValueError(f"the pair window must be >= 0 word pieces (0 = whole passages), got {max_tokens}")
    if not max_tokens:
        return [(0, len(p)) for p in passages]
    offsets = tokenizer(list(passages), add_special_tokens=False, return_offsets_mapping=True,
                        verbose=False)["offset_mapping"]
    return [best_window(q, p, o, max_tokens) for q, p, o in zip(queries, passages, offsets)]
