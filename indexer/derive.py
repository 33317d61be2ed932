"""An article's topic, vector and entity mentions, derived from its passages' annotations (no second pass)."""
from __future__ import annotations

import re

import numpy as np

from search.passages import Span
from search.model import PassageAnnotation
from search.model.records import topic_label
from search.store import Mention, PassageWrite

_SPACES = re.compile(r"\s+")
_WORDLIKE = re.compile(r"\w", re.UNICODE)


def passage_writes(text: str, spans: list[Span], annotations: list[PassageAnnotation],
                   min_topic_confidence: float = 0.0) -> list[PassageWrite]:
    """The store records of an article's passages, with their annotations (topic "other" below the confidence)."""
    return [PassageWrite(position=i, start=s.start, end=s.end, text=text[s.start:s.end],
                         topic=topic_label(a.topics, min_topic_confidence), vector=a.vector)
            for i, (s, a) in enumerate(zip(spans, annotations))]


def article_topics(spans: list[Span], annotations: list[PassageAnnotation]) -> dict[str, float]:
    """Passage topic distributions averaged, weighted by passage length (a long passage says more)."""
    weights = np.array([s.end - s.start for s in spans], np.float64)
    labels = list(annotations[0].topics)
    probs = np.array([[a.topics[label] for label in labels] for a in annotations])
    mean = weights @ probs / weights.sum()
    return {label: float(p) for label, p in zip(labels, mean)}


def article_vector(annotations: list[PassageAnnotation]) -> np.ndarray:
    """Normalised mean of the passage vectors: what near-duplicate detection compares."""
    mean = np.mean([a.vector for a in annotations], axis=0).astype(np.float32)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def article_mentions(text: str, spans: list[Span], annotations: list[PassageAnnotation],
                     min_score: float = 0.0) -> list[Mention]:
    """Entity mentions in article offsets. Passages overlap, so one mention can be found twice: where two
    found spans overlap, the surer one is kept."""
    found = sorted(((span.start + e.start, span.start + e.end, e.label, e.score)
                    for span, a in zip(spans, annotations) for e in a.entities if e.score >= min_score),
                   key=lambda m: (m[0], -m[3]))
    kept: list[tuple[int, int, str, float]] = []
    for m in found:
        if kept and m[0] < kept[-1][1]:
            if m[3] > kept[-1][3]:
                kept[-1] = m
            continue
        kept.append(m)
    mentions = []
    for start, end, label, score in kept:
        name = _SPACES.sub(" ", text[start:end]).strip()
        if _WORDLIKE.search(name):
            mentions.append(Mention(name=name, label=label, start=start, end=end, score=score))
    return mentions
