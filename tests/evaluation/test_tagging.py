"""Tagging evaluation with the released model: word-level alignment and the passage-shaped runs."""
from __future__ import annotations

from search.evaluation.tagging import evaluate_tagging, predict_tags
from search.training.data import TaggedSentence


def sentence(text: str, tags: str, document: int) -> TaggedSentence:
    return TaggedSentence(text.split(), tags.split(), document)


SENTENCES = [
    sentence("Angela Merkel visited Paris on Monday .", "B-PER I-PER O B-LOC O O O", 0),
    sentence("She met Emmanuel Macron in Berlin .", "O O B-PER I-PER O B-LOC O", 0),
    sentence("Toyota said profits rose in Japan .", "B-ORG O O O O B-LOC O", 1),
]


def test_one_label_per_word_and_truncated_words_are_outside(model):
    long = TaggedSentence(["London"] * 300, ["B-LOC"] * 300, 0)
    tags = predict_tags(model, [long], max_len=32)[0]
    assert len(tags) == 300
    assert set(tags[40:]) == {"O"}  # past the 32-piece window nothing was predicted


def test_sentence_and_passage_scores_on_clear_names(model):
    result = evaluate_tagging(model, SENTENCES)
    assert result["sentences"] == 3
    assert result["passages"] == 2  # runs join one document's sentences and never cross documents
    assert result["f1"] == 1.0 and result["passage_f1"] == 1.0
