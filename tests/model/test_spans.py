"""Span decoding against a brute-force oracle, and its rules: passage only, i <= j, length cap, [CLS]."""
import itertools

import pytest
import torch

from search.model.spans import align_to_words, best_spans


def brute_force(s, e, mask, cap):
    best, arg = float("-inf"), (0, 0)
    for i, j in itertools.product(range(len(s)), repeat=2):
        if mask[i] and mask[j] and i <= j < i + cap and s[i] + e[j] > best:
            best, arg = s[i] + e[j], (i, j)
    return arg if best > s[0] + e[0] else (0, 0)


def test_matches_brute_force_on_random_logits():
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        t = 12
        s, e = torch.randn(1, t, generator=g), torch.randn(1, t, generator=g)
        mask = torch.zeros(1, t, dtype=torch.bool)
        mask[0, 4:11] = True  # passage tokens; 0..3 are [CLS] + question + [SEP]
        cap = int(torch.randint(1, 6, (1,), generator=g))
        choice = best_spans(s, e, mask, cap)
        assert (int(choice.start[0]), int(choice.end[0])) == brute_force(s[0].tolist(), e[0].tolist(), mask[0], cap)


def test_never_before_passage_never_reversed_and_capped():
    s = torch.tensor([[0.0, 9.0, 9.0, 1.0, 0.0, 0.0, 5.0]])  # strong scores on question tokens 1, 2
    e = torch.tensor([[0.0, 9.0, 0.0, 8.0, 0.0, 0.0, 0.0]])  # best end (3) lies before the best start (6)
    mask = torch.tensor([[False, False, False, True, True, True, True]])
    choice = best_spans(s, e, mask, max_len=2)
    i, j = int(choice.start[0]), int(choice.end[0])
    assert i >= 3 and i <= j and j - i < 2
    assert (i, j) == (3, 3)


def test_cls_wins_when_nothing_scores_above_it():
    s = torch.tensor([[10.0, 0.0, 1.0, 1.0]])
    e = torch.tensor([[10.0, 0.0, 1.0, 1.0]])
    mask = torch.tensor([[False, False, True, True]])
    choice = best_spans(s, e, mask, max_len=5)
    assert (int(choice.start[0]), int(choice.end[0])) == (0, 0)
    assert float(choice.margin[0]) < 0


def test_best_span_kept_when_cls_wins():
    s = torch.tensor([[10.0, 0.0, 1.0, 3.0]])
    e = torch.tensor([[10.0, 0.0, 2.0, 1.0]])
    mask = torch.tensor([[False, False, True, True]])
    choice = best_spans(s, e, mask, max_len=5)
    assert (int(choice.start[0]), int(choice.end[0])) == (0, 0)
    assert (int(choice.best_start[0]), int(choice.best_end[0])) == (3, 3)  # s_3 + e_3 = 4 beats s_2 + e_2 = 3


@pytest.mark.parametrize("text,span,expected", [
    ("the Myanmar embassy", (4, 10), "Myanmar"),          # ends inside a word
    ("in Babyninsky, Russia", (5, 13), "Babyninsky"),      # starts inside a word, stops at the comma
    ("at 6am as many slept", (3, 6), "6am"),               # already whole
    ("Kaluga on Sunday", (0, 9), "Kaluga on"),             # two whole words stay as they are
    ("x", (0, 1), "x"),
])
def test_align_to_words(text, span, expected):
    start, end = align_to_words(text, *span)
    assert text[start:end] == expected
