"""A store split into N shards, each a complete store (SQLite + FTS5 + vector file) in its own folder, searched
as one: every shard answers each read in parallel threads and the answers are merged before fusion.

An article lives in the shard its id hashes to, so an article, its passages, entities and story cluster stay in one
shard and re-indexing it replaces it in place. Passage ids are global: `local id × N + shard`. The lexical side
scores each shard's best candidates with the statistics of all shards (search/store/pooled_bm25.py), so BM25
scores are one store's (as Elasticsearch's `dfs_query_then_fetch`; its default keeps each shard's own). Facet
values over a search's candidates are counted exactly; over the whole store each shard counts a deeper list
(`limit × 2 + 10`, Elasticsearch's `shard_size` rule) and the lists are summed, so a value that is frequent in all
but in no shard's deeper list can be under-counted there.
"""
from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, TypeVar

import numpy as np

from search.store.errors import StoreError
from search.store.pooled_bm25 import pooled_scores
from search.store.reads import date_buckets, match_expression
from search.store.records import ArticleRow, Filters, PassageRow
from search.store.store import Store
from search.store.vectors import SearchSettings
from search.store.watches import NewWatch, Watch, WatchMatch

LAYOUT_FILE = "shards.json"
EVERY_VALUE = 1_000_000  # facet values per shard over a candidate set: all of them (a few dozen articles)
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
T = TypeVar("T")


def shard_of(article_id: str, shards: int) -> int:
    """The shard an article id belongs to: a stable hash, the same in every process and Python version."""
    return int.from_bytes(hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest(), "big") % shards


def is_sharded(folder: str | Path) -> bool:
    """Whether `folder` holds a sharded store."""
    return (Path(folder) / LAYOUT_FILE).exists()


def open_store(folder: str | Path, readonly: bool = False, create: bool = False,
               shards: int | None = None) -> "Store | ShardedStore":
    """The store in `folder`, sharded or not. `create` with `shards` > 1 makes a sharded one; StoreError when
    `shards` disagrees with an existing store's layout."""
    folder = Path(folder)
    if is_sharded(folder):
        return ShardedStore.open(folder, readonly, shards=shards)
    if shards and shards > 1:
        if (folder / "store.db").exists():
            raise StoreError(f"the store in {folder} is not sharded; index into a new --store folder to use "
                             f"--shards {shards}")
        if not create:
            raise StoreError(f"no store at {folder}; build one with `news-index add PATH --store {folder}`")
        return ShardedStore.open(folder, readonly, create=True, shards=shards)
    return Store.open(folder, readonly, create)


class ShardedStore:
    """The read side of `Store`, answered by N shard stores; `shards[i]` is each shard's own `Store`."""

    def __init__(self, folder: Path, shards: list[Store]) -> None:
        self.folder = folder
        self.shards = shards
        self.readonly = shards[0].readonly
        self.upgraded_from = min((s.upgraded_from for s in shards if s.upgraded_from), default=None)
        self._pool = ThreadPoolExecutor(max_workers=len(shards), thread_name_prefix="shard")
        self._entities: tuple[tuple, int] | None = None  # (store version, entity count), `_entity_count`

    @classmethod
    def open(cls, folder: Path, readonly: bool = False, create: bool = False,
             shards: int | None = None) -> "ShardedStore":
        """Open (or with `create`, make) the sharded store in `folder`."""
        layout = folder / LAYOUT_FILE
        if layout.exists():
            count = int(json.loads(layout.read_text(encoding="utf-8"))["shards"])
            if shards not in (None, count):
                raise StoreError(f"the store in {folder} has {count} shards, not {shards}; leave out --shards")
        else:
            count = int(shards or 0)
            if count < 2:
                raise StoreError(f"a sharded store needs at least 2 shards, not {count}")
            folder.mkdir(parents=True, exist_ok=True)
            layout.write_text(json.dumps({"shards": count}), encoding="utf-8")
        store = cls(folder, [Store.open(folder / f"shard-{i:03d}", readonly, create=create or not readonly)
                             for i in range(count)])
        if not readonly:
            store.sync_watches()
        return store

    def close(self) -> None:
        """Close every shard."""
        for shard in self.shards:
            shard.close()
        self._pool.shutdown(wait=False)

    # ---- ids and routing ----------------------------------------------------------------------------
    def shard_for(self, article_id: str) -> Store:
        """The shard that holds (or will hold) `article_id`."""
        return self.shards[shard_of(article_id, len(self.shards))]

    def _global(self, shard: int, local: int) -> int:
        return local * len(self.shards) + shard

    def _split(self, ids: Iterable[int]) -> list[list[int]]:
        """Global passage ids -> each shard's local ids."""
        parts: list[list[int]] = [[] for _ in self.shards]
        for gid in ids:
            parts[int(gid) % len(self.shards)].append(int(gid) // len(self.shards))
        return parts

    def _each(self, read: Callable[[int, Store], T]) -> list[T]:
        """`read(i, shard)` on every shard at once (SQLite and FAISS release the GIL), in shard order."""
        return list(self._pool.map(lambda pair: read(*pair), enumerate(self.shards)))

    def _by_article(self, ids: Iterable[str]) -> list[list[str]]:
        parts: list[list[str]] = [[] for _ in self.shards]
        for article_id in ids:
            parts[shard_of(article_id, len(self.shards))].append(article_id)
        return parts

    # ---- model and versions -------------------------------------------------------------------------
    @property
    def model_id(self) -> str | None:
        """The checkpoint the shards' vectors come from (None while all are empty)."""
        return next((s.model_id for s in self.shards if s.model_id), None)

    def check_model(self, model_id: str) -> None:
        """StoreError when any shard was built by another model."""
        for shard in self.shards:
            shard.check_model(model_id)

    @property
    def names(self):
        """The canonical-name rules (every shard keeps the same alias table)."""
        return self.shards[0].names

    def add_aliases(self, aliases: dict[str, str]) -> None:
        """Add to every shard's alias table."""
        for shard in self.shards:
            shard.add_aliases(aliases)

    def version(self) -> tuple:
        """Changes when any shard changes (for cache keys)."""
        return tuple(s.version() for s in self.shards)

    @property
    def search_settings(self) -> SearchSettings:
        return self.shards[0].search_settings

    # ---- retrieval ----------------------------------------------------------------------------------
    def lexical_search(self, query: str, k: int, filters: Filters | None = None,
                       match: str | None = None) -> list[tuple[int, float]]:
        """The best k (global passage id, BM25) as one store would score them: every shard's own best 2k + 10
        (Elasticsearch's `shard_size` rule) scored again with the statistics of all shards
        (search/store/pooled_bm25.py)."""
        expression = match_expression(query, match)
        if expression is None or k <= 0:
            return []
        found = self._each(lambda i, s: s.lexical_search(query, 2 * k + 10, filters, match))
        evidence = self._each(lambda i, s: s.lexical_evidence(expression, [pid for pid, _ in found[i]]))
        hits = [(self._global(i, pid), score)
                for i, scores in enumerate(pooled_scores(evidence, expression)) for pid, score in scores.items()]
        return sorted(hits, key=lambda h: (-h[1], h[0]))[:k]

    def allowed_passage_ids(self, filters: Filters | None) -> np.ndarray | None:
        """Global passage ids the filters allow (None without filters)."""
        parts = self._each(lambda i, s: s.allowed_passage_ids(filters))
        if parts[0] is None:
            return None
        n = len(self.shards)
        return np.concatenate([part * n + i for i, part in enumerate(parts)]).astype(np.int64)

    def load_vectors(self) -> None:
        """Every shard's vector index, loaded or built now (see `Store.load_vectors`)."""
        self._each(lambda i, s: s.load_vectors())

    def dense_search(self, queries: np.ndarray, k: int,
                     allowed: np.ndarray | None = None) -> list[list[tuple[int, float]]]:
        """Top-k (global passage id, cosine) per query over every shard's own top k."""
        local = None if allowed is None else [np.array(p, np.int64) for p in self._split(allowed)]
        found = self._each(lambda i, s: s.dense_search(queries, k, None if local is None else local[i]))
        merged = []
        for row in range(len(np.atleast_2d(queries))):
            hits = [(self._global(i, pid), score) for i, shard_hits in enumerate(found) for pid, score in shard_hits[row]]
            merged.append(sorted(hits, key=lambda h: (-h[1], h[0]))[:k])
        return merged

    def passages(self, ids: list[int]) -> list[PassageRow]:
        """The passages with these global ids, in the given order (ids no longer stored are left out)."""
        parts = self._split(ids)
        rows = self._each(lambda i, s: s.passages(parts[i]))
        by_id = {self._global(i, row.id): replace(row, id=self._global(i, row.id))
                 for i, shard_rows in enumerate(rows) for row in shard_rows}
        return [by_id[int(i)] for i in ids if int(i) in by_id]

    # ---- articles -----------------------------------------------------------------------------------
    def article(self, article_id: str) -> ArticleRow | None:
        return self.shard_for(article_id).article(article_id)

    def article_vector(self, article_id: str) -> tuple[np.ndarray, str | None, str] | None:
        return self.shard_for(article_id).article_vector(article_id)

    def article_texts(self, ids: Iterable[str]) -> dict[str, str]:
        parts = self._by_article(ids)
        return {k: v for found in self._each(lambda i, s: s.article_texts(parts[i])) for k, v in found.items()}

    def article_heads(self, ids: list[str]) -> list[tuple[str, str | None, str | None]]:
        parts = self._by_article(ids)
        heads = self._each(lambda i, s: dict(zip(parts[i], s.article_heads(parts[i]))))
        return [heads[shard_of(a, len(self.shards))][a] for a in ids]

    def articles_naming(self, names: list[str]) -> dict[str, set[str]]:
        return {k: v for found in self._each(lambda i, s: s.articles_naming(names)) for k, v in found.items()}

    def cluster_members(self, cluster_id: str) -> list[str]:
        return [a for found in self._each(lambda i, s: s.cluster_members(cluster_id)) for a in found]

    def cluster_sizes(self, cluster_ids: Iterable[str]) -> dict[str, int]:
        ids = list(cluster_ids)
        sizes: dict[str, int] = {}
        for found in self._each(lambda i, s: s.cluster_sizes(ids)):
            for cid, n in found.items():
                sizes[cid] = sizes.get(cid, 0) + n
        return sizes

    # ---- facets and filter values -------------------------------------------------------------------
    def facets(self, passage_ids: list[int] | None = None, limit: int = 20, filters: Filters | None = None,
               daily: bool = False) -> dict[str, list[tuple[str, int]]]:
        """Every shard's facet counts summed (see the module docstring), the date histogram re-bucketed over the
        whole span."""
        parts = None if passage_ids is None else self._split(passage_ids)
        deeper = EVERY_VALUE if passage_ids is not None else limit * 2 + 10
        found = self._each(lambda i, s: s.facets(None if parts is None else parts[i], deeper, filters, daily=True))
        merged = {}
        for kind in ("topics", "sources", "entities", "dates"):
            # entity names are one value under SQLite's NOCASE (ASCII letters folded), as one store groups them
            fold = _fold_ascii if kind == "entities" else _same
            counts: dict[str, int] = {}  # folded value -> articles
            shown: dict[str, str] = {}  # folded value -> the first spelling a shard gave
            for shard_counts in found:
                for value, n in shard_counts[kind]:
                    shown.setdefault(fold(value), value)
                    counts[fold(value)] = counts.get(fold(value), 0) + n
            if kind == "dates":
                days = sorted(counts.items())
                merged[kind] = days if daily else date_buckets(days)
                continue
            reported = [{fold(v) for v, _ in f[kind]} for f in found]
            self._complete_counts(kind, fold, counts, shown, reported, deeper, filters)
            ranked = sorted(counts.items(), key=lambda c: (-c[1], c[0]))[:limit]  # ties in SQLite's order
            merged[kind] = [(shown[key], n) for key, n in ranked]
        return merged

    def _complete_counts(self, kind: str, fold: Callable[[str], str], counts: dict[str, int], shown: dict[str, str],
                         reported: list[set[str]], deeper: int, filters: Filters | None) -> None:
        """Add to `counts` (folded value -> articles) what shards that cut their list at `deeper` values hold of
        the values other shards reported (`reported`: each shard's folded values): without it a name counted 3
        in one shard and 1 beyond another's cut showed 3 in `stats`."""
        missing = {i: [shown[key] for key in counts if key not in values]
                   for i, values in enumerate(reported) if len(values) >= deeper}
        extra = self._each(lambda i, s: s.facet_counts(kind, missing[i], filters) if missing.get(i) else {})
        for found in extra:
            for value, n in found.items():
                counts[fold(value)] = counts.get(fold(value), 0) + n

    def entity_labels(self, names: Iterable[str]) -> dict[str, str]:
        wanted = list(names)
        return {k: v for found in self._each(lambda i, s: s.entity_labels(wanted)) for k, v in found.items()}

    def known_values(self, kind: str) -> set[str]:
        return set().union(*self._each(lambda i, s: s.known_values(kind)))

    def missing_values(self, kind: str, values: Iterable[str]) -> list[str]:
        """The values no shard knows, in the given order."""
        given = list(values)
        missing = [set(found) for found in self._each(lambda i, s: s.missing_values(kind, given))]
        return [v for v in given if all(v in m for m in missing)]

    # ---- saved searches -----------------------------------------------------------------------------
    # Every shard keeps the same watches under the same ids: shard 0 numbers a new one and the others take a
    # copy, so each shard matches the articles it indexes, as one store does, and keeps those matches (and
    # delivers them to the webhook). A crash between the copies is mended by `sync_watches`, which a writable
    # open runs.
    def watches(self) -> list[Watch]:
        """Every watch, oldest first, its counts summed over the shards."""
        each = self._each(lambda i, s: {w.id: w for w in s.watches()})
        return [_combined([copies.get(w.id) for copies in each]) for w in each[0].values()]

    def watch(self, watch_id: int) -> Watch | None:
        """One watch with its counts summed over the shards, or None."""
        copies = self._each(lambda i, s: s.watch(watch_id))
        return _combined(copies) if copies[0] is not None else None

    def add_watch(self, new: NewWatch, created_at: str) -> Watch:
        """Save a watch in every shard under one id; StoreError when a shard cannot be written."""
        saved = self.shards[0].add_watch(new, created_at)
        try:
            for shard in self.shards[1:]:
                shard.add_watch(new, created_at, watch_id=saved.id)
        except StoreError:  # not saved, as the error says: no copy stays behind to be matched or retried twice
            for shard in self.shards:
                shard.delete_watch(saved.id)
            raise
        return self.watch(saved.id) or saved

    def delete_watch(self, watch_id: int) -> bool:
        """Remove a watch and its matches from every shard; False when there was none."""
        found = self.shards[0].delete_watch(watch_id)
        for shard in self.shards[1:]:
            shard.delete_watch(watch_id)
        return found

    def watch_matches(self, watch_id: int, offset: int = 0, limit: int = 50) -> tuple[int, list[WatchMatch]]:
        """As `Store.watch_matches`, over every shard's matches (newest match first, then newest article)."""
        each = self._each(lambda i, s: s.watch_matches(watch_id, 0, offset + limit))
        matches = sorted((m for _, found in each for m in found), key=lambda m: m.article_id)
        matches.sort(key=lambda m: (m.matched_at, (m.published_at or "")[:10]), reverse=True)
        return sum(total for total, _ in each), matches[offset:offset + limit]

    def sync_watches(self) -> None:
        """Make every shard hold exactly shard 0's watches (a crash may have cut a copy or a removal short). The
        other shards are read before shard 0: a watch the API adds or removes meanwhile is then seen in shard 0
        as it is by the time of the reading, and never removed from the others while it is being copied."""
        held = [{w.id for w in shard.watches()} for shard in self.shards[1:]]
        wanted = self.shards[0].watch_vectors()
        ids = {w.id for w, _ in wanted}
        for shard, have in zip(self.shards[1:], held):
            for watch, vector in wanted:
                if watch.id not in have:
                    shard.add_watch(NewWatch(name=watch.name, query=watch.query, filters=watch.filters,
                                             min_score=watch.min_score, webhook=watch.webhook,
                                             model_id=watch.model_id, vector=vector), watch.created_at, watch.id)
            for extra in have - ids:
                shard.delete_watch(extra)

    # ---- counts and statistics ----------------------------------------------------------------------
    def count(self, table: str) -> int:
        return sum(self._each(lambda i, s: s.count(table)))

    def disk_bytes(self) -> int:
        return sum(s.disk_bytes() for s in self.shards)

    def _entity_count(self) -> int:
        """Distinct (name under NOCASE, label) over the shards: one that two shards hold counts once. Every shard's
        entity list crosses to this process for it (pickled from Ray actors), so the count is kept until a shard
        changes: `/health` asks for it on every call."""
        version = self.version()
        if self._entities is None or self._entities[0] != version:
            keys = {(_fold_ascii(name), label) for found in self._each(lambda i, s: s.entity_keys())
                    for name, label in found}
            self._entities = (version, len(keys))
        return self._entities[1]

    def release_free_pages(self) -> int:
        """`Store.release_free_pages` in every shard; the pages released in all."""
        return sum(self._each(lambda i, s: s.release_free_pages()))

    def stats(self) -> dict:
        """`Store.stats` over all shards (facets counted once, over the whole store), with "shards": each shard's
        own articles, passages, index type and search settings ("vector_search" at the top is shard 0's)."""
        each = self._each(lambda i, s: s.summary())
        facets = self.facets(None, limit=10)
        passages, disk = sum(s["passages"] for s in each), self.disk_bytes()
        dates = [d for s in each for d in s["date_range"] if d]
        vector_file = sum(s["bytes_per_passage"]["vector_file"] * s["passages"] for s in each)
        return {
            "articles": sum(s["articles"] for s in each), "passages": passages,
            "entities": self._entity_count(),
            "multi_article_clusters": sum(s["multi_article_clusters"] for s in each),
            "topics": facets["topics"], "top_entities": facets["entities"], "sources": facets["sources"],
            "date_range": [min(dates), max(dates)] if dates else [None, None],
            "index_type": "/".join(sorted({str(s["index_type"]) for s in each})),
            "index_kind": each[0]["index_kind"], "vectors": sum(s["vectors"] for s in each),
            "index_on_gpu": any(s["index_on_gpu"] for s in each), "vector_search": each[0]["vector_search"],
            "model_id": self.model_id, "model_name": each[0]["model_name"],
            "schema_version": each[0]["schema_version"], "disk_bytes": disk,
            "bytes_per_passage": {"sqlite_vector": each[0]["bytes_per_passage"]["sqlite_vector"],
                                  "vector_file": vector_file / max(passages, 1),
                                  "all_files": disk / max(passages, 1)},
            "shards": [{key: s[key] for key in ("articles", "passages", "index_type", "vector_search")}
                       for s in each],
        }


def _fold_ascii(value: str) -> str:
    """`value` as SQLite's NOCASE compares it: ASCII letters lower-cased, the rest as it is."""
    return value.translate(ASCII_LOWER)


def _same(value: str) -> str:
    return value


def _combined(copies: list[Watch | None]) -> Watch:
    """One watch from its copies in every shard (the first is shard 0's): match counts summed, the first
    delivery error any shard has."""
    found = [w for w in copies if w is not None]
    return replace(found[0], matches=sum(w.matches for w in found), undelivered=sum(w.undelivered for w in found),
                   webhook_error=next((w.webhook_error for w in found if w.webhook_error), None))
