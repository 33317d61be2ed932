"""An article's store rows — topic, vector, passages and entity mentions — derived from its passages' annotations
(no second pass), for the local engine (indexer/pipeline.py) and the Ray one (indexer/ray_engine.py) alike."""
from __future__ import annotations

import re

import numpy as np

from typing import TYPE_CHECKING

from indexer.records import Article
from search.model import PassageAnnotation
from search.model.records import topic_label
from search.passages import Span, split_passages
from search.store import ArticleWrite, Mention, PassageWrite, article_text
from search.store.names import Names

if TYPE_CHECKING:  # torch loads only where a command needs the model
    from search.model import NewsModel

_SPACES = re.compile(r"\s+")
_WORDLIKE = re.compile(r"\w", re.UNICODE)


def article_spans(model: NewsModel, article: Article, passage_tokens: int, overlap_tokens: int) -> list[Span]:
    """The article's passages as character spans of its text (title + body): `passage_tokens` word pieces each
    (0: the model's limit), overlapping by `overlap_tokens`; the cut both engines make."""
    return split_passages(article_text(article.title, article.body), model.tokenizer,
                          passage_tokens or model.config.max_passage_tokens, overlap_tokens)


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


def annotate_articles(model: NewsModel, batch: list[tuple[Article, list[Span]]], min_entity_score: float,
                      names: Names) -> list[ArticleWrite]:
    """One `annotate` call over every passage of `batch` (articles with their passage spans), then each article's
    rows; `cluster_id` is the article's own id until story clustering assigns one."""
    texts = [article_text(a.title, a.body) for a, _ in batch]
    annotations = model.annotate([t[s.start:s.end] for t, (_, spans) in zip(texts, batch) for s in spans])
    floor = model.config.min_topic_confidence
    writes, at = [], 0
    for text, (a, spans) in zip(texts, batch):
        anns = annotations[at:at + len(spans)]
        at += len(spans)
        topics = article_topics(spans, anns)
        writes.append(ArticleWrite(
            id=a.id, title=a.title, body=a.body, published_at=a.published_at, source=a.source, url=a.url,
            categories=a.categories, extra=a.extra, content_hash=a.content_hash, model_id=model.model_id,
            topic=topic_label(topics, floor), topics=topics, cluster_id=a.id, vector=article_vector(anns),
            passages=passage_writes(text, spans, anns, floor),
            mentions=names.article_mentions(text, article_mentions(text, spans, anns, min_entity_score))))
    return writes
