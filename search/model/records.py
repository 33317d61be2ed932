"""Plain records returned by the model's two inference calls."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class EntitySpan:
    """A named entity found in a passage, with character offsets into that passage."""

    label: str  # PER, ORG, LOC or MISC
    text: str
    start: int
    end: int
    score: float  # mean probability of the word pieces' predicted labels


@dataclass
class PassageAnnotation:
    """What one encoder pass over a passage gives: its vector, topic distribution and entities."""

    vector: np.ndarray  # (hidden,) float32, L2-normalised
    topics: dict[str, float]  # label -> probability
    entities: list[EntitySpan]

    @property
    def topic(self) -> str:
        """The most probable topic (no abstention: see `topic_label`)."""
        return topic_label(self.topics, 0.0)


OTHER_TOPIC = "other"  # the label of a text none of the model's topics fits well enough


def topic_label(topics: dict[str, float], min_confidence: float) -> str:
    """The most probable topic, or OTHER_TOPIC when its probability is below `min_confidence` (the topic head
    knows only the labels of its training sets — business, entertainment, politics, sport, tech, world — so an
    earthquake or a court case is better called "other" than forced into one); "" without topics."""
    if not topics:
        return ""
    best = max(topics, key=topics.get)
    return best if topics[best] >= min_confidence else OTHER_TOPIC


@dataclass
class PairScore:
    """What one encoder pass over (query, passage) gives: relevance and the best answer span."""

    relevance: float  # pair regression head output, trained on a 0..1 scale
    answer_start: int | None  # character offsets of the best span in the passage (None: no passage token fit)
    answer_end: int | None
    answer_score: float  # s_i + e_j of the best span minus that of [CLS]: > 0 means "the answer is here"

    @property
    def has_answer(self) -> bool:
        """The best span beats [CLS], the head's "no answer in this passage"."""
        return self.answer_start is not None and self.answer_score > 0

    @property
    def answer_confidence(self) -> float:
        """A 0..1 confidence from the span margin over the no-answer score."""
        return float(1.0 / (1.0 + np.exp(-self.answer_score)))
