"""Passages fit the encoder, cover the whole text, overlap, and cut at sentence ends."""
from __future__ import annotations

import json

from search.passages import split_passages
from search.model import NewsModel
from search.store import article_text
from tests.conftest import SAMPLE


def test_sample_articles_split_into_fitting_overlapping_passages(model: NewsModel) -> None:
    limit = model.config.max_passage_tokens
    records = [json.loads(line) for line in SAMPLE.read_text().splitlines()[:40]]
    cuts = overlapping = 0
    for record in records:
        text = article_text(record["title"], record["body"])
        spans = split_passages(text, model.tokenizer, limit)
        assert spans[0].start == 0 and spans[-1].end == len(text.rstrip())
        for a, b in zip(spans, spans[1:]):
            assert a.start < b.start and not text[a.end:b.start].strip()  # moving on, no text left out
            cuts, overlapping = cuts + 1, overlapping + (b.start < a.end)
            assert text[a.end - 1] in ".!?\"'”’)]" or text[a.end] == "\n"  # cut after a sentence
        for span in spans:
            assert len(model.tokenizer(text[span.start:span.end])["input_ids"]) <= limit
    assert overlapping > cuts * 0.8  # only a last sentence longer than the overlap is not repeated


def test_a_sentence_longer_than_a_passage_is_cut_by_tokens(model: NewsModel) -> None:
    text = "word " * 1000
    spans = split_passages(text, model.tokenizer, 64, overlap=8)
    assert len(spans) > 15 and all(b.start < a.end for a, b in zip(spans, spans[1:]))
    assert all(len(model.tokenizer(text[s.start:s.end])["input_ids"]) <= 64 for s in spans)


def test_short_and_empty_texts(model: NewsModel) -> None:
    assert [(s.start, s.end) for s in split_passages("Hi.", model.tokenizer, 256)] == [(0, 3)]
    assert split_passages("", model.tokenizer, 256) == []
