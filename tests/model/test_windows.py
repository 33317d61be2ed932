"""Pair windows: on the best-matching sentence, within the budget, whole when short, offsets back into the passage."""
from __future__ import annotations

import itertools
import random

import pytest

from search.model import NewsModel
from search.model.windows import best_window, pair_windows
from search.passages import sentence_units

FILLER = ["The council met on Tuesday in the old town hall.", "Several residents spoke about parking.",
          "The weather was mild for the season.", "A local band played after the meeting.",
          "Officials promised a written reply within weeks.", "Tea and biscuits were served in the lobby."]
KEY = "The treasurer said the bridge repair will cost 4.2 million euros."


def passage(key_at: int, n: int = 12, seed: int = 0) -> str:
    rng = random.Random(seed)
    sentences = [rng.choice(FILLER) for _ in range(n)]
    sentences[key_at] = KEY
    return " ".join(sentences)


def offsets(tok, text: str) -> list[tuple[int, int]]:
    return tok(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]


@pytest.mark.parametrize("key_at", [0, 5, 11])
def test_the_window_holds_the_best_matching_sentence_within_its_budget(fresh_model: NewsModel, key_at: int) -> None:
    tok = fresh_model.tokenizer
    text = passage(key_at)
    start, end = best_window("How much will the bridge repair cost?", text, offsets(tok, text), 48)
    assert KEY in text[start:end]
    assert len(offsets(tok, text[start:end])) <= 48 < len(offsets(tok, text))
    assert text[start:end] == text[start:end].strip()  # whole sentences, no stray spaces


def test_the_window_is_a_run_of_whole_sentences_that_cannot_grow(fresh_model: NewsModel) -> None:
    """Contiguous sentences holding the best one, within the budget, and neither neighbour would still fit."""
    tok = fresh_model.tokenizer
    for seed, budget in itertools.product(range(4), (30, 48, 80)):
        text = passage(key_at=seed * 3, seed=seed)
        units = sentence_units(text, offsets(tok, text), budget, budget)
        start, end = best_window("bridge repair cost", text, offsets(tok, text), budget)
        chosen = [i for i, (a, b, _) in enumerate(units) if a >= start and b <= end]
        best = next(i for i, (a, b, _) in enumerate(units) if text[a:b] == KEY)
        used = sum(units[i][2] for i in chosen)
        assert best in chosen and chosen == list(range(chosen[0], chosen[-1] + 1)) and used <= budget
        assert (start, end) == (units[chosen[0]][0], units[chosen[-1]][1])
        for side in (chosen[0] - 1, chosen[-1] + 1):
            assert not 0 <= side < len(units) or used + units[side][2] > budget


def test_a_passage_shorter_than_the_window_is_read_whole(fresh_model: NewsModel) -> None:
    text = passage(2, n=4)
    assert pair_windows(fresh_model.tokenizer, ["bridge"], [text], 128) == [(0, len(text))]
    assert pair_windows(fresh_model.tokenizer, ["bridge"], [text], 0) == [(0, len(text))]
    with pytest.raises(ValueError, match="pair window"):
        pair_windows(fresh_model.tokenizer, ["bridge"], [text], -1)


def test_without_a_matching_word_the_window_starts_at_the_lead(fresh_model: NewsModel) -> None:
    tok = fresh_model.tokenizer
    text = passage(6)
    start, _ = best_window("zebra", text, offsets(tok, text), 40)
    assert start == 0


def test_answers_from_a_window_point_into_the_whole_passage(model: NewsModel) -> None:
    """The released model reads a 64-piece window of a long passage: its answer offsets are the passage's, and
    the answer is the one it finds reading the same window alone."""
    text = passage(9, n=14)
    query = "How much will the bridge repair cost?"
    (start, end), = pair_windows(model.tokenizer, [query], [text], 64)
    windowed, = model.score_pairs(query, [text], window=64)
    alone, = model.score_pairs(query, [text[start:end]])
    assert windowed.relevance == pytest.approx(alone.relevance, abs=1e-5)
    assert text[windowed.answer_start:windowed.answer_end] == text[start:end][alone.answer_start:alone.answer_end]
    assert start <= windowed.answer_start < windowed.answer_end <= end
    assert "4.2 million" in text[windowed.answer_start:windowed.answer_end]
