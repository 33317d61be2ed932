"""Span decoding against a brute-force oracle, and its rules: passage only, one paragraph, i <= j, length cap,
[CLS]."""
import itertools

import pytest
import torch

from search.model.spans import align_to_words, best_spans, paragraph_segments


def brute_force(s, e, segments, cap):
    best, arg = float("-inf"), (0, 0)
    for i, j in itertools.product(range(len(s)), repeat=2):
        if segments[i] >= 0 and segments[i] == segments[j] and i <= j < i + cap and s[i] + e[j] > best:
            best, arg = s[i] + e[j], (i, j)
    return arg if best > s[0] + e[0] else (0, 0)


@pytest.mark.parametrize("breaks", [0, 2])
def test_matches_brute_force_on_random_logits(breaks: int):
    g = torch.Generator().manual_seed(breaks)
    for _ in range(50):
        t = 12
        s, e = torch.randn(1, t, generator=g), torch.randn(1, t, generator=g)
        segments = torch.full((1, t), -1)
        segments[0, 4:11] = 0  # passage tokens; 0..3 are [CLS] + question + [SEP], 11 the last [SEP]
        for cut in torch.randint(5, 11, (breaks,), generator=g).tolist():
            segments[0, cut:11] += 1  # a blank line before token `cut`
        cap = int(torch.randint(1, 6, (1,), generator=g))
        choice = best_spans(s, e, segments, cap)
        assert (int(choice.start[0]), int(choice.end[0])) == brute_force(s[0].tolist(), e[0].tolist(),
                                                                         segments[0].tolist(), cap)


def test_paragraph_segments_count_blank_lines_before_each_passage_token():
    text = "Crash kills seven\n\nAt least seven people died.\n \nMore later."
    starts = [0, 6, 12, 19, 22, 28, 49, 54]  # each word's first character; the question's tokens have other ids
    offsets = [(0, 0), (0, 3)] + [(a, a + 1) for a in starts] + [(0, 0)]
    sequence_ids = [None, 0] + [1] * len(starts) + [None]
    assert paragraph_segments(text, offsets, sequence_ids) == [-1, -1, 0, 0, 0, 1, 1, 1, 2, 2, -1]


def test_a_span_never_runs_across_a_blank_line():
    s = torch.tensor([[0.0, 0.0, 5.0, 0.0, 0.0]])  # the strongest start in the title ...
    e = torch.tensor([[0.0, 0.0, 1.0, 0.0, 5.0]])  # ... the strongest end in the body
    one_paragraph = best_spans(s, e, torch.tensor([[-1, -1, 0, 0, 0]]), max_len=5)
    assert (int(one_paragraph.best_start[0]), int(one_paragraph.best_end[0])) == (2, 4)  # 5 + 5
    title_then_body = best_spans(s, e, torch.tensor([[-1, -1, 0, 1, 1]]), max_len=5)
    assert (int(title_then_body.best_start[0]), int(title_then_body.best_end[0])) == (2, 2)  # 5 + 1 beats 0 + 5


def test_never_before_passage_never_reversed_and_capped():
    s = torch.tensor([[0.0, 9.0, 9.0, 1.0, 0.0, 0.0, 5.0]])  # strong scores on question tokens 1, 2
    e = torch.tensor([[0.0, 9.0, 0.0, 8.0, 0.0, 0.0, 0.0]])  # best end (3) lies before the best start (6)
    mask = torch.tensor([[False, False, False, True, True, True, True]])
    choice = best_spans(s, e, mask.long() - 1, max_len=2)
    i, j = int(choice.start[0]), int(choice.end[0])
    assert i >= 3 and i <= j and j - i < 2
    assert (i, j) == (3, 3)


def test_cls_wins_when_nothing_scores_above_it():
    s = torch.tensor([[10.0, 0.0, 1.0, 1.0]])
    e = torch.tensor([[10.0, 0.0, 1.0, 1.0]])
    mask = torch.tensor([[False, False, True, True]])
    choice = best_spans(s, e, mask.long() - 1, max_len=5)
    assert (int(choice.start[0]), int(choice.end[0])) == (0, 0)
    assert float(choice.margin[0]) < 0


def test_best_span_kept_when_cls_wins():
    s = torch.tensor([[10.0, 0.0, 1.0, 3.0]])
    e = torch.tensor([[10.0, 0.0, 2.0, 1.0]])
    mask = torch.tensor([[False, False, True, True]])
    choice = best_spans(s, e, mask.long() - 1, max_len=5)
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
