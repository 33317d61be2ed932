"""`annotate` and `score_pairs` each make exactly one encoder forward (for up to one batch of inputs); answers stay
inside one paragraph."""
import json

import numpy as np
import pytest

from search.store.records import article_text
from tests.conftest import SAMPLE

from tests.encoder_calls import encoder_forwards as count_forwards


def test_annotate_is_one_pass(fresh_model):
    passages = ["Angela Merkel met Emmanuel Macron in Paris.", "Shares in Apple rose 3% on Monday.", "Rain."]
    with count_forwards(fresh_model) as calls:
        out = fresh_model.annotate(passages)
    assert len(calls) == 1
    assert len(out) == 3
    assert out[0].vector.shape == (384,)
    assert abs(sum(out[1].topics.values()) - 1) < 1e-4
    for text, ann in zip(passages, out):  # order is preserved although batches are sorted by length
        assert all(text[e.start:e.end] == e.text for e in ann.entities)


def test_score_pairs_is_one_pass_and_offsets_inside_passage(fresh_model):
    passages = ["Spain beat the Netherlands 1-0 in the 2010 final.", "The weather was mild.", "Iniesta scored late."]
    with count_forwards(fresh_model) as calls:
        out = fresh_model.score_pairs("who won the 2010 final?", passages)
    assert len(calls) == 1
    assert len(out) == 3
    for text, s in zip(passages, out):
        if s.answer_start is not None:
            assert 0 <= s.answer_start < s.answer_end <= len(text)
        assert 0.0 <= s.answer_confidence <= 1.0


def test_annotate_order_and_vectors_match_embedding(fresh_model):
    texts = ["long " * 40 + "text", "short"]
    ann = fresh_model.annotate(texts)
    emb = fresh_model.embed_passages(texts)
    assert np.allclose(np.stack([a.vector for a in ann]), emb, atol=1e-5)


def test_score_pair_list_keeps_input_order(fresh_model):
    queries = ["a much longer question about the final score of the match?", "who?", "when did it happen?"]
    passages = ["Spain won 1-0 after extra time in Johannesburg.", "Iniesta.", "It happened on 11 July 2010."]
    together = fresh_model.score_pair_list(queries, passages)
    alone = [fresh_model.score_pairs(q, [p])[0] for q, p in zip(queries, passages)]
    assert np.allclose([s.relevance for s in together], [s.relevance for s in alone], atol=1e-4)
    assert [(s.answer_start, s.answer_end) for s in together] == [(s.answer_start, s.answer_end) for s in alone]


def test_answer_score_is_span_margin_over_cls(fresh_model):
    out = fresh_model.score_pairs("where?", ["The meeting took place in Geneva last week."])[0]
    assert out.answer_start is not None  # the best span is always given for a passage that fits
    assert out.has_answer == (out.answer_score > 0)


@pytest.mark.parametrize("article_id,question,answer", [
    ("wn-vat-2019-126", "How many people died in the crash?", "seven"),
    ("wn-vat-2019-102", "Who died aged 78?", "Akilisi Pohiva"),
])
def test_an_answer_stays_inside_the_title_or_a_paragraph(model, article_id: str, question: str, answer: str):
    """The released model's best span for these once ran from the end of the title into the body
    ("seven\\n\\nAt least seven"): spans are decoded within one paragraph."""
    article = next(a for a in map(json.loads, SAMPLE.read_text(encoding="utf-8").splitlines()) if a["id"] == article_id)
    text = article_text(article["title"], article["body"])[:900]
    score = model.score_pairs(question, [text])[0]
    assert text[score.answer_start:score.answer_end] == answer
