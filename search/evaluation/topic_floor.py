"""When a topic is "other": the topic head's confidence threshold (`min_topic_confidence`), chosen by
`news-search tune` on the held-out BBC / AG News texts.

Each text gets the product's topic distribution (one `annotate` pass over title + body, over all the model's
labels, as indexing does). The threshold is the strictest that still labels 95% of the texts the head gets
right, so a news article of a kind the head was trained on nearly always keeps its topic, while one it never saw
(an earthquake, a court case, a medical study), where its probability is spread over labels that do not fit, is
called "other" — the same rule as the answer threshold (search/evaluation/answers.py).
"""
from __future__ import annotations

from search.evaluation.answers import THRESHOLDS, AnswerThreshold, best_threshold
from search.model.newsmodel import NewsModel
from search.training.data import LabelledText


def choose_topic_confidence(model: NewsModel, texts: list[LabelledText], min_recall: float = 0.95
                            ) -> AnswerThreshold:
    """The module's rule; `f1`, `precision`, `recall` are of "keeps a label" against "the label is right"."""
    if not texts:
        raise ValueError("no held-out topic texts to choose the topic confidence on")
    annotations = model.annotate([f"{t.title}\n{t.body}" for t in texts])
    confidences = [max(a.topics.values()) for a in annotations]
    right = [a.topic == t.label for a, t in zip(annotations, texts)]
    return best_threshold(confidences, right, min_recall, [t for t in THRESHOLDS if t < 1.0])
