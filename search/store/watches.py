"""Saved searches ("watches") in the store's own SQLite: the watches, the articles each matched, whether a webhook
got them, and the journal of articles `news-index add` wrote and has not matched yet.

Why in store.db and not a file of their own: matches point at articles and must be recorded with the write that
indexed them (the journal), backups (SQLite's online backup API) carry them, and `news-index check` sees them.

Writes while the store is in use: the indexer writes through its own connection, in its transactions. The API
server holds the store read-only (its connection is `mode=ro`), so `add_watch` and `delete_watch` open a short
connection of their own for one `BEGIN IMMEDIATE` transaction: SQLite lets one writer in at a time, and the busy
timeout (10 s, as every store connection has) waits for a batch `news-index add` is committing — a batch holds the
lock for its inserts and matching only (milliseconds), never while the model annotates.
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Iterator

import numpy as np

from search.store import schema
from search.store.base import DB_FILE, StoreBase
from search.store.errors import StoreError, is_busy
from search.store.filters import article_conditions
from search.store.records import Filters

BUSY_TIMEOUT_S = 10.0  # as the store's own connections (search/store/store.py)
SUMMARY_CHARS = 300  # of the article's body, for feeds


@dataclass
class NewWatch:
    """A watch to save: what `search/pipeline/watches.py` checked and encoded."""

    name: str
    query: str  # as typed, with its syntax (search/pipeline/syntax.py); parsed again at each match
    filters: Filters  # the filters given beside the query (the query's own are parsed from it)
    min_score: float  # 0..1: the fused score a new article needs to match (search/pipeline/watch_match.py)
    webhook: str | None  # http(s) URL POSTed the new matches after each `news-index add`, or None
    model_id: str  # the checkpoint that encoded `vector`
    vector: np.ndarray  # (dim,) float32 unit vector of the query's plain words: the query pass, once


@dataclass
class Watch:
    """A saved watch as clients see it (its vector stays in the store)."""

    id: int
    name: str
    query: str
    filters: Filters
    min_score: float
    webhook: str | None
    created_at: str  # ISO 8601, UTC
    model_id: str
    matches: int = 0  # articles matched so far
    undelivered: int = 0  # matches the webhook has not received yet (0 without a webhook)
    webhook_error: str | None = None  # why the last delivery failed; None once one succeeds


@dataclass
class WatchMatch:
    """One article a watch matched, with what a feed entry shows."""

    article_id: str
    title: str
    url: str | None
    source: str | None
    published_at: str | None
    score: float  # the fused score it matched with, 0..1
    matched_at: str  # ISO 8601, UTC: when the indexer matched it
    delivered: bool  # the watch's webhook received it
    summary: str = ""  # the first SUMMARY_CHARS characters of the body


@dataclass
class PendingPassages:
    """The passages of the journaled articles: what matching scores (the vectors the indexer stored)."""

    articles: list[str]  # the journaled article ids (those deleted since are left out)
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (n,) passage ids
    article_ids: list[str] = field(default_factory=list)  # (n,) the article of each passage
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), np.float32))  # (n, dim) float32


class Watches(StoreBase):
    """Watches, their matches and deliveries, and the match journal."""

    # ---- reads ----------------------------------------------------------------------------------------
    def has_watches_tables(self) -> bool:
        """False for a store from before schema 4 that nobody has written since (read-only: nothing saved)."""
        with self._lock:
            return "watches" in self.db.table_names()

    def watches(self) -> list[Watch]:
        """Every watch, oldest first, with its match counts."""
        return self._watches("", [])

    def watch(self, watch_id: int) -> Watch | None:
        """One watch, or None."""
        found = self._watches("WHERE w.id = ?", [watch_id])
        return found[0] if found else None

    def watch_vectors(self) -> list[tuple[Watch, np.ndarray]]:
        """Every watch with its saved (dim,) float32 query vector, for matching."""
        if not self.has_watches_tables():
            return []
        with self._lock:
            blobs = dict(self.db.execute("SELECT id, vector FROM watches").fetchall())
        return [(w, np.frombuffer(blobs[w.id], np.float32)) for w in self.watches() if w.id in blobs]

    def watch_matches(self, watch_id: int, offset: int = 0, limit: int = 50) -> tuple[int, list[WatchMatch]]:
        """(how many articles the watch matched, `limit` of them from `offset`, newest match first — ties by
        publication date, newest first)."""
        if not self.has_watches_tables():
            return 0, []
        with self._lock:
            total = self.db.execute("SELECT COUNT(*) FROM watch_matches WHERE watch_id = ?", [watch_id]).fetchone()[0]
            rows = self.db.execute(
                """SELECT m.article_id, a.title, a.url, a.source, a.published_at, m.score, m.matched_at,
                          m.delivered_at IS NOT NULL, substr(a.body, 1, ?)
                   FROM watch_matches m JOIN articles a ON a.id = m.article_id WHERE m.watch_id = ?
                   ORDER BY m.matched_at DESC, a.published_date DESC, m.article_id LIMIT ? OFFSET ?""",
                [SUMMARY_CHARS, watch_id, limit, offset]).fetchall()
        return int(total), [WatchMatch(*r[:7], delivered=bool(r[7]), summary=r[8] or "") for r in rows]

    def undelivered_matches(self, watch_id: int, limit: int) -> list[WatchMatch]:
        """Up to `limit` matches of the watch its webhook has not received, oldest first."""
        with self._lock:
            rows = self.db.execute(
                """SELECT m.article_id, a.title, a.url, a.source, a.published_at, m.score, m.matched_at
                   FROM watch_matches m JOIN articles a ON a.id = m.article_id
                   WHERE m.watch_id = ? AND m.delivered_at IS NULL ORDER BY m.matched_at, m.article_id LIMIT ?""",
                [watch_id, limit]).fetchall()
        return [WatchMatch(*r, delivered=False) for r in rows]

    def _watches(self, where: str, params: list) -> list[Watch]:
        if not self.has_watches_tables():
            return []
        with self._lock:
            rows = self.db.execute(
                f"""SELECT w.id, w.name, w.query, w.filters, w.min_score, w.webhook, w.created_at, w.model_id,
                           (SELECT COUNT(*) FROM watch_matches m WHERE m.watch_id = w.id),
                           (SELECT COUNT(*) FROM watch_matches m WHERE m.watch_id = w.id AND w.webhook IS NOT NULL
                            AND m.delivered_at IS NULL), w.webhook_error
                    FROM watches w {where} ORDER BY w.id""", params).fetchall()
        return [Watch(id=r[0], name=r[1], query=r[2], filters=Filters(**json.loads(r[3])), min_score=r[4],
                      webhook=r[5], created_at=r[6], model_id=r[7], matches=r[8], undelivered=r[9],
                      webhook_error=r[10]) for r in rows]

    # ---- saving and removing watches (the API's read-only store included) ----------------------------
    def add_watch(self, new: NewWatch, created_at: str, watch_id: int | None = None) -> Watch:
        """Save a watch; returns it with its id — the next one, or `watch_id` (a copy of another shard's watch,
        search/store/sharded.py). StoreError when the store cannot be written."""
        with self._watch_writes() as conn:
            # a copy that is there already (another process made it first) stays as it is
            cursor = conn.execute(
                f"""INSERT {"" if watch_id is None else "OR IGNORE "}INTO watches
                    (id, name, query, filters, min_score, webhook, model_id, vector, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [watch_id, new.name, new.query, json.dumps(asdict(new.filters), ensure_ascii=False), new.min_score,
                 new.webhook, new.model_id, np.ascontiguousarray(new.vector, np.float32).tobytes(), created_at])
            watch_id = int(cursor.lastrowid) if watch_id is None else watch_id
        saved = self.watch(watch_id)
        assert saved is not None  # committed just now
        return saved

    def delete_watch(self, watch_id: int) -> bool:
        """Remove a watch and its matches in one commit; False when there was none."""
        if self.watch(watch_id) is None:
            return False
        with self._watch_writes() as conn:
            conn.execute("DELETE FROM watch_matches WHERE watch_id = ?", [watch_id])
            gone = conn.execute("DELETE FROM watches WHERE id = ?", [watch_id]).rowcount
        return bool(gone)

    @contextmanager
    def _watch_writes(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the store's connection, or — the store being open read-only, as the API
        server holds it — on a short connection of its own (see the module docstring)."""
        if not self.readonly:
            with self._writing(immediate=True):
                yield self.db.conn
            return
        try:
            conn = sqlite3.connect(self.folder / DB_FILE, timeout=BUSY_TIMEOUT_S)
            try:
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    schema.create_watch_tables(conn)  # a store from before version 4: its first watch
                    yield conn
            finally:
                conn.close()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot save to the store in {self.folder}: {exc}; make the folder writable, or "
                             "try again once the indexer has committed its batch", busy=is_busy(exc)) from exc

    # ---- the indexer: the journal, matches, deliveries -----------------------------------------------
    def set_watch_vectors(self, model_id: str, vectors: dict[int, np.ndarray]) -> None:
        """Replace the saved query vectors (watch id -> (dim,) vector) made by another model, in one commit."""
        with self._writing():
            self.db.conn.executemany("UPDATE watches SET vector = ?, model_id = ? WHERE id = ?",
                                     [(np.ascontiguousarray(v, np.float32).tobytes(), model_id, i)
                                      for i, v in vectors.items()])

    def pending_passages(self) -> PendingPassages:
        """The journaled articles and their passages' stored vectors. Call inside `matching()`."""
        rows = self.db.execute("""SELECT w.article_id, p.id, p.vector FROM watch_pending w
                                  LEFT JOIN passages p ON p.article_id = w.article_id ORDER BY p.id""").fetchall()
        found = [r for r in rows if r[1] is not None]
        return PendingPassages(articles=sorted({r[0] for r in rows}), ids=np.array([r[1] for r in found], np.int64),
                               article_ids=[r[0] for r in found],
                               vectors=self._decode_vectors([r[2] for r in found]) if found else
                               np.zeros((0, int(self._meta("dim") or 1)), np.float32))

    def allowed_among(self, passage_ids: np.ndarray, filters: Filters) -> np.ndarray:
        """The passages of `passage_ids` whose articles the filters allow (excluded words included)."""
        where, params = article_conditions(filters, self.names)
        rows = self.db.execute(f"""SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id
                                   WHERE p.id IN (SELECT value FROM json_each(?)) AND {where}""",
                               [json.dumps(passage_ids.tolist()), *params])
        return np.fromiter((r[0] for r in rows), np.int64)

    def lexical_among(self, match: str, passage_ids: np.ndarray) -> set[int]:
        """The passages of `passage_ids` whose title or text match the FTS5 expression `match`."""
        if not len(passage_ids):
            return set()
        rows = self.db.execute("""SELECT rowid FROM passages_fts WHERE passages_fts MATCH ?
                                  AND rowid IN (SELECT value FROM json_each(?))""",
                               [match, json.dumps(passage_ids.tolist())])
        return {int(r[0]) for r in rows}

    def lexical_rows(self, match: str) -> int:
        """How many passages match the FTS5 expression `match` in the whole store (an inverse document
        frequency's document count)."""
        return int(self.db.execute("SELECT COUNT(*) FROM passages_fts WHERE passages_fts MATCH ?",
                                   [match]).fetchone()[0])

    def record_matches(self, rows: list[tuple[int, str, float]], matched_at: str) -> int:
        """Record (watch id, article id, score) matches not recorded yet; returns how many are new. Call inside
        `matching()`."""
        before = self.db.conn.total_changes
        self.db.conn.executemany("INSERT OR IGNORE INTO watch_matches (watch_id, article_id, score, matched_at) "
                                 "VALUES (?, ?, ?, ?)", [(w, a, s, matched_at) for w, a, s in rows])
        return self.db.conn.total_changes - before

    def clear_pending(self, article_ids: list[str]) -> None:
        """Strike matched articles off the journal. Call inside `matching()`."""
        self.db.execute("DELETE FROM watch_pending WHERE article_id IN (SELECT value FROM json_each(?))",
                        [json.dumps(article_ids)])

    @contextmanager
    def matching(self) -> Iterator[None]:
        """The one transaction of a matching round: the journal read, the matches recorded and the journal
        cleared commit together (or not at all, after a crash: the next run matches the same articles)."""
        with self._writing(immediate=True):
            yield

    def pending_count(self) -> int:
        """Articles written and not matched yet (a crash between the two; the next `add` matches them)."""
        with self._lock:
            if "watch_pending" not in self.db.table_names():
                return 0
            return self._count("watch_pending")

    def mark_delivered(self, watch_id: int, article_ids: list[str], when: str) -> None:
        """The webhook received these matches: note when, and clear the watch's delivery error."""
        with self._writing():
            self.db.execute("""UPDATE watch_matches SET delivered_at = ? WHERE watch_id = ?
                               AND article_id IN (SELECT value FROM json_each(?))""",
                            [when, watch_id, json.dumps(article_ids)])
            self.db.execute("UPDATE watches SET webhook_error = NULL WHERE id = ?", [watch_id])

    def set_webhook_error(self, watch_id: int, error: str) -> None:
        """A delivery failed: its matches stay undelivered for the next run; say why on the watch."""
        with self._writing():
            self.db.execute("UPDATE watches SET webhook_error = ? WHERE id = ?", [error, watch_id])
