"""`news-index add` and `delete` on a sharded store (search/store/sharded.py): each article goes to the shard its
id hashes to and is indexed there by the usual `Indexer`, so every shard is a complete, consistent store and a
crash leaves each shard as a crash leaves one store (a re-run skips what was committed)."""
from __future__ import annotations

import time
from dataclasses import fields
from itertools import islice
from typing import TYPE_CHECKING, Iterable, Iterator

from indexer.pipeline import Indexer, IndexerConfig, OnProgress, RunReport, delete
from indexer.readers import Item
from indexer.records import BadRecord
from search.store.sharded import ShardedStore, shard_of

if TYPE_CHECKING:
    from search.model import NewsModel

CHUNK_ARTICLES = 5_000  # read, then indexed shard by shard: inputs are read once (stdin too), memory stays bounded


def add_sharded(store: ShardedStore, model: NewsModel, config: IndexerConfig, items: Iterable[Item],
                strict: bool = False, index_kind: str | None = None,
                on_progress: OnProgress | None = None) -> RunReport:
    """Index `items` into their shards, CHUNK_ARTICLES at a time; one report for the whole run."""
    report = RunReport()
    start = time.perf_counter()
    for chunk in _chunks(items, CHUNK_ARTICLES):
        parts: list[list[Item]] = [[] for _ in store.shards]
        for item in chunk:  # a bad record has no trustworthy id: it is only reported, by the first shard
            parts[0 if isinstance(item, BadRecord) else shard_of(item.id, len(store.shards))].append(item)
        for shard, part in zip(store.shards, parts):
            if part:
                indexer = Indexer(shard, model, config)
                indexer.on_progress = on_progress
                _merge(report, indexer.add(part, strict=strict, index_kind=index_kind))
    report.seconds = time.perf_counter() - start
    return report


def delete_sharded(store: ShardedStore, ids: list[str], index_kind: str | None = None) -> RunReport:
    """Remove articles by id from the shards that hold them."""
    report = RunReport()
    start = time.perf_counter()
    parts: list[list[str]] = [[] for _ in store.shards]
    for article_id in ids:
        parts[shard_of(article_id, len(store.shards))].append(article_id)
    for shard, part in zip(store.shards, parts):
        if part:
            _merge(report, delete(shard, part, index_kind))
    report.seconds = time.perf_counter() - start
    return report


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _merge(total: RunReport, part: RunReport) -> None:
    """Add `part`'s counts and lists to `total` (seconds are measured over the whole run)."""
    for f in fields(RunReport):
        if f.name != "seconds":
            setattr(total, f.name, getattr(total, f.name) + getattr(part, f.name))
