"""Plain records going into the store (from the indexer) and coming out of it (to search and the API)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Filters:
    """What a search may be restricted to; every non-empty field must match (values inside a field: any)."""

    topics: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)  # entity names, e.g. "Barack Obama" (case-insensitive)
    sources: list[str] = field(default_factory=list)
    date_from: str | None = None  # ISO date, inclusive
    date_to: str | None = None  # ISO date, inclusive
    excluded: list[str] = field(default_factory=list)  # words or phrases: articles containing any are left out

    def is_empty(self) -> bool:
        """True when nothing restricts the search."""
        return not (self.topics or self.entities or self.sources or self.date_from or self.date_to or self.excluded)


@dataclass
class Mention:
    """One entity mention with character offsets into the article text (`title + "\\n\\n" + body`)."""

    name: str
    label: str  # PER, ORG, LOC or MISC
    start: int
    end: int
    score: float


@dataclass
class PassageWrite:
    """A passage as the indexer hands it over; the store assigns its id."""

    position: int
    start: int  # character offsets into the article text
    end: int
    text: str
    topic: str
    vector: np.ndarray  # (dim,) float32, L2-normalised


@dataclass
class ArticleWrite:
    """An annotated article with its passages and entity mentions, written in one transaction."""

    id: str
    title: str
    body: str
    published_at: str | None  # ISO 8601 as normalised by the indexer
    source: str | None
    url: str | None
    categories: list[str]
    extra: dict  # any other input fields (e.g. licence), kept as given
    content_hash: str
    model_id: str
    topic: str
    topics: dict[str, float]
    cluster_id: str
    vector: np.ndarray  # article vector (normalised mean of its passages), for near-duplicate clustering
    passages: list[PassageWrite]
    mentions: list[Mention]


@dataclass
class PassageRow:
    """A passage with the article fields a result list shows."""

    id: int
    article_id: str
    position: int
    text: str
    start: int  # character offsets into ArticleRow.text
    end: int
    title: str
    source: str | None
    url: str | None
    published_at: str | None
    topic: str  # the article's topic
    cluster_id: str
    entities: list[Mention]  # mentions inside this passage, offsets into the article text


@dataclass
class ArticleRow:
    """A whole article: text, fields, topic distribution, entities and its story cluster."""

    id: str
    title: str
    body: str
    published_at: str | None
    source: str | None
    url: str | None
    categories: list[str]
    extra: dict
    topic: str
    topics: dict[str, float]
    cluster_id: str
    cluster_size: int
    entities: list[Mention]

    @property
    def text(self) -> str:
        """The text every character offset (passages, mentions) points into."""
        return article_text(self.title, self.body)


def article_text(title: str, body: str) -> str:
    """Title and body as one text; passages and mentions are offsets into this."""
    return f"{title}\n\n{body}" if title else body


def passage_text(title: str, body: str, start: int, end: int) -> str:
    """A passage's text: characters [start, end) of its article's text (the store keeps no other copy)."""
    return article_text(title, body)[start:end]
