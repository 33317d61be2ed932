"""Writes for the indexer: articles with their passages, FTS5 rows and entity mentions replaced or deleted in one
commit each, and the story clusters' re-check journal."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from typing import Iterable

import numpy as np

from search.store import schema
from search.store.base import StoreBase
from search.store.records import ArticleWrite, article_text


class ArticleWrites(StoreBase):
    """Article rows in and out (`replace_articles`, `delete_articles`) and what the indexer reads back to do them."""

    def release_free_pages(self) -> int:
        """Give the pages SQLite freed (replaced and deleted rows, FTS5 segment merges) back to the file system;
        returns how many pages went. On stores made with `auto_vacuum = INCREMENTAL` — new ones, and
        older ones since a schema migration — this is SQLite's `PRAGMA incremental_vacuum`, which moves pages from
        the file's end into the holes and truncates it; on others the free pages stay for later writes (only a
        whole-file VACUUM could give them back). `news-index` calls it when `add`, `delete`, `rebuild` and `repair`
        end. Only space is at stake: when another process holds the store past the busy timeout, nothing is
        released (0) and the pages serve later writes."""
        with self._lock:
            free = int(self.db.execute("PRAGMA freelist_count").fetchone()[0])
            if not free or int(self.db.execute("PRAGMA auto_vacuum").fetchone()[0]) != schema.AUTO_VACUUM_INCREMENTAL:
                return 0
            try:
                # executescript steps the statement to its end; execute() stops after one page
                self.db.conn.executescript("PRAGMA incremental_vacuum;")
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the shorter file reaches the disk, not the log
            except sqlite3.DatabaseError:  # busy past the timeout, a full disk, a damaged file
                return 0
            return free - int(self.db.execute("PRAGMA freelist_count").fetchone()[0])

    def refill_lexical(self) -> None:
        """Write the FTS5 index again from the passages (`news-index repair`)."""
        with self._lock:
            schema.refill_lexical(self.db)

    def delete_orphans(self) -> int:
        """Delete rows whose parent is gone (search/store/check.py lists them), in one commit; returns how many.
        Their FTS5 rows stay for `refill_lexical`, which `repair` runs next (a damaged index cannot delete)."""
        with self._writing():
            before = self.db.conn.total_changes
            self.db.execute("DELETE FROM passages WHERE article_id NOT IN (SELECT id FROM articles)")
            self.db.execute("DELETE FROM article_entities WHERE article_id NOT IN (SELECT id FROM articles) "
                            "OR entity_id NOT IN (SELECT id FROM entities)")
            self.db.execute("DELETE FROM entities WHERE id NOT IN (SELECT entity_id FROM article_entities)")
            self.db.execute("DELETE FROM watch_matches WHERE article_id NOT IN (SELECT id FROM articles) "
                            "OR watch_id NOT IN (SELECT id FROM watches)")
            return self.db.conn.total_changes - before

    def article_states(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """id -> (content_hash, model_id) of the given articles that are in the store."""
        rows = self.db.execute("SELECT id, content_hash, model_id FROM articles WHERE id IN "
                               "(SELECT value FROM json_each(?))", [json.dumps(list(ids))])
        return {r[0]: (r[1], r[2]) for r in rows}

    def article_ids(self, stale_for_model: str | None = None) -> list[str]:
        """All article ids, or only those not yet annotated by `stale_for_model` (what a rebuild still has to do)."""
        if stale_for_model is None:
            return [r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY rowid")]
        return [r[0] for r in self.db.execute("SELECT id FROM articles WHERE model_id IS NOT ? ORDER BY rowid",
                                              [stale_for_model])]

    def mark_stale(self) -> None:
        """Mark every article as needing new annotations (a rebuild with the same model)."""
        with self._writing():
            self.db.execute("UPDATE articles SET model_id = NULL")

    def article_vectors(self, model_id: str) -> tuple[list[tuple[str, str]], np.ndarray]:
        """[(article id, cluster id)] and article vectors of the articles annotated by `model_id`, for
        near-duplicate clustering."""
        rows = self.db.execute("SELECT id, cluster_id, vector FROM articles WHERE model_id = ? ORDER BY rowid",
                               [model_id]).fetchall()
        return [(r[0], r[1]) for r in rows], self._decode_vectors([r[2] for r in rows])

    def replace_articles(self, articles: list[ArticleWrite], match_watches: bool = False) -> None:
        """Insert the articles, replacing any stored version (its passages, FTS rows and mentions), in one commit.
        A replaced article's story cluster is noted for a re-check (`clusters_to_recheck`) in the same commit;
        with `match_watches` (`news-index add`), the articles are journaled for matching against the saved
        watches (`watch_pending`, search/pipeline/watch_match.py) in it too, so a crash cannot lose them."""
        if not articles:
            return
        with self._writing():
            if self._meta("dim") is None:
                self._set_meta("dim", str(len(articles[0].vector)), commit=False)
            touched: set[int] = set()
            dtype = self.vector_dtype
            for article in articles:
                touched |= self._delete_article(article.id)
                self._insert_article(article, dtype)
            self._drop_unused_entities(touched)
            if match_watches:
                self.db.conn.executemany("INSERT OR IGNORE INTO watch_pending (article_id) VALUES (?)",
                                         [(a.id,) for a in articles])

    def delete_articles(self, ids: Iterable[str]) -> list[str]:
        """Delete the articles with these ids; returns those that existed. Call `sync_vectors` afterwards.
        Their story clusters are noted for a re-check (`clusters_to_recheck`) in the same commit."""
        found = list(self.article_states(ids))
        with self._writing():
            touched: set[int] = set()
            for article_id in found:
                touched |= self._delete_article(article_id)
            self._drop_unused_entities(touched)
            # a deleted article leaves the watches' matches and feeds (a re-indexed one keeps its matches)
            self.db.execute("DELETE FROM watch_matches WHERE article_id IN (SELECT value FROM json_each(?))",
                            [json.dumps(found)])
            self.db.execute("DELETE FROM watch_pending WHERE article_id IN (SELECT value FROM json_each(?))",
                            [json.dumps(found)])
        return found

    # ---- story clusters -----------------------------------------------------------------------------
    def clusters_to_recheck(self) -> list[str]:
        """Story clusters that lost or changed a member since they were last checked (journaled with the write,
        so a crash between the write and the re-check leaves the re-check to the next run)."""
        if "clusters_to_recheck" not in self.db.table_names():  # a store from before the journal, read-only
            return []
        return [r[0] for r in self.db.execute("SELECT cluster_id FROM clusters_to_recheck ORDER BY rowid")]

    def cluster_articles(self, cluster_id: str) -> list[tuple[str, np.ndarray, str]]:
        """[(article id, article vector (dim,) float32, title + body)] of one story cluster, in indexing order."""
        with self._lock:
            rows = self.db.execute("SELECT id, vector, title, body FROM articles WHERE cluster_id = ? ORDER BY rowid",
                                   [cluster_id]).fetchall()
        vectors = self._decode_vectors([r[1] for r in rows])
        return [(r[0], v, article_text(r[2], r[3])) for r, v in zip(rows, vectors)]

    def set_clusters(self, checked: str, assignment: dict[str, str]) -> None:
        """Write re-checked cluster ids (article id -> cluster id) and strike `checked` off the re-check list,
        in one commit."""
        with self._writing():
            self.db.conn.executemany("UPDATE articles SET cluster_id = ? WHERE id = ?",
                                     [(c, a) for a, c in assignment.items()])
            self.db.execute("DELETE FROM clusters_to_recheck WHERE cluster_id = ?", [checked])

    def _insert_article(self, a: ArticleWrite, dtype: np.dtype) -> None:
        ex = self.db.execute
        ex("""INSERT INTO articles (id, title, body, published_at, published_date, source, url, categories, extra,
              content_hash, model_id, topic, topics, cluster_id, vector, indexed_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
           [a.id, a.title, a.body, a.published_at, a.published_at[:10] if a.published_at else None, a.source, a.url,
            json.dumps(a.categories), json.dumps(a.extra), a.content_hash, a.model_id, a.topic, json.dumps(a.topics),
            a.cluster_id, self._blob(a.vector, dtype), datetime.now(timezone.utc).isoformat(timespec="seconds")])
        for p in a.passages:
            cursor = ex('INSERT INTO passages (article_id, position, start, "end", topic, vector) '
                        "VALUES (?, ?, ?, ?, ?, ?)", [a.id, p.position, p.start, p.end, p.topic,
                                                       self._blob(p.vector, dtype)])
            # the words FTS5 will delete are read from the same view: index exactly those
            ex("INSERT INTO passages_fts (rowid, title, text) SELECT id, title, text FROM passage_lexical "
               "WHERE id = ?", [cursor.lastrowid])
        many = self.db.conn.executemany
        many("INSERT OR IGNORE INTO entities (name, label) VALUES (?, ?)", [(m.name, m.label) for m in a.mentions])
        many('INSERT INTO article_entities (article_id, entity_id, start, "end", score) '
             "SELECT ?, id, ?, ?, ? FROM entities WHERE name = ? AND label = ?",
             [(a.id, m.start, m.end, m.score, m.name, m.label) for m in a.mentions])

    def _delete_article(self, article_id: str) -> set[int]:
        """Remove one article's rows (inside the caller's transaction); returns the entity ids it mentioned."""
        ex = self.db.execute
        touched = {r[0] for r in ex("SELECT DISTINCT entity_id FROM article_entities WHERE article_id = ?",
                                    [article_id])}
        self._note_cluster_change(article_id)
        ex("DELETE FROM passages_fts WHERE rowid IN (SELECT id FROM passages WHERE article_id = ?)", [article_id])
        ex("DELETE FROM passages WHERE article_id = ?", [article_id])
        ex("DELETE FROM article_entities WHERE article_id = ?", [article_id])
        ex("DELETE FROM articles WHERE id = ?", [article_id])
        return touched

    def _note_cluster_change(self, article_id: str) -> None:
        """Inside the caller's transaction: when the article shares a story cluster, put it on the re-check list
        (its other members may have joined through it)."""
        row = self.db.execute("""SELECT cluster_id FROM articles WHERE id = ? AND
                (SELECT COUNT(*) FROM articles o WHERE o.cluster_id = articles.cluster_id) > 1""",
                              [article_id]).fetchone()
        if row is not None:
            self.db.execute("INSERT OR IGNORE INTO clusters_to_recheck (cluster_id) VALUES (?)", [row[0]])

    def _drop_unused_entities(self, entity_ids: set[int]) -> None:
        self.db.execute("""DELETE FROM entities WHERE id IN (SELECT value FROM json_each(?))
                           AND NOT EXISTS (SELECT 1 FROM article_entities ae WHERE ae.entity_id = entities.id)""",
                        [json.dumps(sorted(entity_ids))])
