"""A watch's matches as an Atom feed (RFC 4287), written by feedgen: newest match first, one entry per article."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote, urlencode, urlsplit

from feedgen.feed import FeedGenerator

from search.store.watches import SUMMARY_CHARS, Watch, WatchMatch

FEED_ENTRIES = 50  # the latest matches a feed holds; GET /watches/{id}/matches pages through all of them


def atom_feed(watch: Watch, matches: list[WatchMatch], base_url: str) -> bytes:
    """The feed of `watch` with `matches` (newest first) as UTF-8 Atom XML; `base_url`: this server's root
    ("http://host:port"), for the feed's own link and for articles without an http(s) URL of their own."""
    feed_url = f"{base_url}/watches/{watch.id}/feed.xml"
    feed = FeedGenerator()
    feed.id(feed_url)  # its own URL: stable, and watch ids are never reused
    feed.title(f"newsearch: {watch.name}")
    feed.subtitle(f"New articles matching {watch.query!r}")
    feed.link(href=feed_url, rel="self")
    feed.link(href=f"{base_url}/?{urlencode({'q': watch.query})}", rel="alternate")
    feed.generator("newsearch")
    feed.updated(_when(matches[0].matched_at if matches else watch.created_at) or datetime.now(timezone.utc))
    for match in matches:
        entry = feed.add_entry(order="append")  # feedgen prepends by default: keep newest first
        api_url = f"{base_url}/articles/{quote(match.article_id, safe='')}"
        entry.id(api_url)
        entry.title(match.title or match.article_id)
        entry.link(href=match.url if _is_http(match.url) else api_url)
        entry.updated(_when(match.matched_at))
        published = _when(match.published_at) if match.published_at else None
        if published is not None:
            entry.published(published)
        if match.source:
            entry.author({"name": match.source})
        entry.summary(match.summary + ("…" if len(match.summary) >= SUMMARY_CHARS else ""))
    return feed.atom_str(pretty=True)


def _when(iso: str) -> datetime | None:
    """An ISO 8601 date or datetime as an aware datetime (UTC when it names no zone), as Atom requires; None when
    it is no such thing (an article's date is kept as the indexer normalised it, so that is not expected)."""
    try:
        value = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _is_http(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in ("http", "https")
