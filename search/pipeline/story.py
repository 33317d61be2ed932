"""A story's timeline: the copies of an article (its story cluster) and its follow-ups — articles that name the
same main people, places and organisations within a time window — in date order.

No encoder pass: the index's own story clusters and entity mentions are enough. The main entities are the
article's `MAIN_ENTITIES` most mentioned names; a follow-up shares at least two of them (one when the article
names only one), published within `days` of the article, as news-tracking systems link follow-ups by shared
named entities and time (Allan, "Topic Detection and Tracking", 2002).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from search.pipeline.validate import unknown_article
from search.store import Store

MAIN_ENTITIES = 3
MAX_ARTICLES = 50


@dataclass
class StoryEntry:
    """One article on the timeline."""

    article_id: str
    title: str
    published_at: str | None
    source: str | None
    relation: str  # "this article", "same story" (a copy in its cluster) or "follow-up"
    shared: list[str] = field(default_factory=list)  # main entities it names too


@dataclass
class StoryResponse:
    article_id: str
    entities: list[str]  # the article's main entities
    days: int
    timeline: list[StoryEntry]  # oldest first; undated articles last


def story_timeline(store: Store, article_id: str, days: int = 30) -> StoryResponse:
    """The timeline of `article_id` (see the module docstring). Raises InvalidRequest (404) for an unknown id."""
    article = store.article(article_id)
    if article is None:
        raise unknown_article(article_id)
    counts: dict[str, int] = {}
    for mention in article.entities:
        counts[mention.name] = counts.get(mention.name, 0) + 1
    main = [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:MAIN_ENTITIES]
    copies = set(store.cluster_members(article.cluster_id)) if article.cluster_id else {article_id}
    entries = {a: StoryEntry(a, "", None, None, "this article" if a == article_id else "same story")
               for a in copies}
    need = min(2, len(main))
    named = {other: shared for other, shared in store.articles_naming(main).items()
             if other not in entries and len(shared) >= need}
    ids = list(entries) + list(named)
    heads = dict(zip(ids, store.article_heads(ids)))
    follow_ups = [StoryEntry(other, "", None, None, "follow-up", sorted(shared)) for other, shared in named.items()
                  if _days_apart(article.published_at, heads[other][1]) <= days]
    # the article and its copies always; then the follow-ups nearest in time, up to MAX_ARTICLES in all
    follow_ups.sort(key=lambda e: _days_apart(article.published_at, heads[e.article_id][1]))
    chosen = list(entries.values()) + follow_ups[:max(0, MAX_ARTICLES - len(entries))]
    for entry in chosen:
        entry.title, entry.published_at, entry.source = heads[entry.article_id]
    timeline = sorted(chosen, key=lambda e: (e.published_at is None, e.published_at or "", e.article_id))
    return StoryResponse(article_id, main, days, timeline)


def _days_apart(published: str | None, other: str | None) -> float:
    """Days between two publication dates (infinite when either is missing)."""
    if not published or not other:
        return float("inf")
    return abs((date.fromisoformat(other[:10]) - date.fromisoformat(published[:10])).days)
