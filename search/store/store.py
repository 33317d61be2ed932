"""The store: one folder with the SQLite database (truth), the FAISS vector file (a cache of it) and the manifest.

SQLite keeps every passage vector too, so the vector file can always be brought back in line with it: after a
crash, when the index type changes, or when a reader opens a store another process is still writing.
Readers open SQLite read-only in WAL mode, so searching while `news-index` writes is safe.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import numpy as np
import sqlite_utils

from search.store import schema
from search.store.errors import StoreError
from search.store.filters import article_conditions
from search.store.manifest import Manifest
from search.store.records import ArticleRow, ArticleWrite, Filters, Mention, PassageRow, article_text
from search.store.vectors import KINDS, VectorIndex, choose_kind, searches_on_gpu
from search.store.names import Names
from search.terms import lexical_text, query_terms

DB_FILE = "store.db"
VECTOR_FILE = "vectors.faiss"
MANIFEST_FILE = "manifest.json"
KNOWN_KINDS = ("topics", "sources", "entities")
_VALUE_COLUMNS = {"topics": ("articles", "topic"), "sources": ("articles", "source"), "entities": ("entities", "name")}


class Store:
    """Reads for search and the API; writes (`replace_articles`, `delete_articles`, `sync_vectors`) for the indexer."""

    def __init__(self, folder: Path, db: sqlite_utils.Database, readonly: bool) -> None:
        self.folder = folder
        self.db = db
        self.readonly = readonly
        self._lock = threading.RLock()  # one Store per API process, shared by its worker threads
        self._vectors: VectorIndex | None = None
        self._vectors_mtime: float | None = None
        self._names: Names | None = None

    # ---- opening ------------------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: str | Path, readonly: bool = False, create: bool = False) -> "Store":
        """Open the store in `folder`; `create` makes an empty one there if there is none."""
        folder = Path(folder)
        path = folder / DB_FILE
        if not path.exists():
            if not create:
                raise StoreError(f"no store at {folder}; build one with `news-index add PATH --store {folder}`")
            folder.mkdir(parents=True, exist_ok=True)
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            conn = sqlite3.connect(path, check_same_thread=False)
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        # SQLite's NOCASE folds ASCII letters only; entity names ("Örebro", "Émile Durand") are matched through
        # Python's casefold when a value is not plain ASCII (search/store/filters.py)
        conn.create_function("casefold", 1, _casefold, deterministic=True)
        db = sqlite_utils.Database(conn)
        try:
            if not readonly:
                schema.create(db)
            version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a newsearch store ({exc})") from exc
        if version is None or int(version[0]) not in schema.READABLE_VERSIONS:
            raise StoreError(f"{path} has schema version {version and version[0]}, this newsearch needs "
                             f"{schema.SCHEMA_VERSION}; index the articles again into a new --store folder")
        store = cls(folder, db, readonly)
        if not readonly and store._meta("store_id") is None:
            store._set_meta("store_id", uuid.uuid4().hex)
        return store

    def close(self) -> None:
        """Close the SQLite connection."""
        self.db.conn.close()

    # ---- model --------------------------------------------------------------------------------------
    @property
    def model_id(self) -> str | None:
        """The checkpoint every passage vector in this store came from (None while empty)."""
        return self._meta("model_id")

    def check_model(self, model_id: str) -> None:
        """Refuse a model other than the one that built the store: its vectors would not be comparable."""
        built = self.model_id
        if built is not None and built != model_id:
            raise StoreError(f"the store in {self.folder} was built with model {built}, not {model_id}; "
                             f"run `news-index rebuild --store {self.folder}` to re-index it with this model")

    @property
    def names(self) -> Names:
        """The canonical-name rules with this store's alias table (search/store/names.py)."""
        extra = self._meta("aliases")
        if self._names is None or self._names.extra != json.loads(extra or "{}"):
            self._names = Names(json.loads(extra or "{}"))
        return self._names

    def add_aliases(self, aliases: dict[str, str]) -> None:
        """Add to (or change) the store's alias table: alias -> canonical entity name, for the articles indexed
        from now on and for filter values."""
        with self._lock:
            self._set_meta("aliases", json.dumps({**self.names.extra, **aliases}, ensure_ascii=False))

    def set_model(self, model_id: str, name: str) -> None:
        """Record the checkpoint (fingerprint and name) the store's vectors come from."""
        self._set_meta("model_id", model_id)
        self._set_meta("model_name", name)

    def version(self) -> tuple[int, int, float | None]:
        """Changes whenever what a search can return may have changed: SQLite's `data_version` (moves when another
        connection, e.g. another process's `news-index add`, commits), this connection's own row changes, and the
        vector file's modification time. For cache keys (search/pipeline/cache.py)."""
        with self._lock:
            data_version = int(self.db.execute("PRAGMA data_version").fetchone()[0])
            return data_version, self.db.conn.total_changes, self._file_mtime(VECTOR_FILE)

    # ---- vectors ------------------------------------------------------------------------------------
    @property
    def vectors(self) -> VectorIndex:
        """The vector index, reloaded when another process has replaced the file since it was read."""
        with self._lock:
            mtime = self._file_mtime(VECTOR_FILE)
            if self._vectors is None or (self.readonly and mtime != self._vectors_mtime):
                self._vectors_mtime = mtime
                saved = self._load_vector_file()
                # a reader patches ids in memory but keeps the file's index type: switching is the writer's job
                kind = saved.kind if saved is not None and self.readonly else self._target_kind(None)
                self._vectors, _ = self._reconciled(saved, kind)
            return self._vectors

    def sync_vectors(self, kind: str | None = None) -> VectorIndex:
        """Bring the vector file in line with SQLite (adds, removals, index type) and save it with its manifest.

        `kind` is flat, hnsw, ivf or auto (chosen from the passage count); None keeps the store's setting.
        """
        if self.readonly:
            raise StoreError("the store is open read-only")
        if kind is not None:
            self._set_meta("index_kind", kind)
        with self._lock:
            vectors, changed = self._reconciled(self._vectors or self._load_vector_file(), self._target_kind(kind))
            if changed or not (self.folder / VECTOR_FILE).exists():
                vectors.save(self.folder / VECTOR_FILE)
            self._write_manifest(vectors)
            self._vectors = vectors
            return vectors

    def _target_kind(self, kind: str | None) -> str:
        requested = kind or self._meta("index_kind") or "auto"
        if requested != "auto" and requested not in KINDS:
            raise StoreError(f"unknown index type {requested!r}; use flat, hnsw, ivf or auto")
        return choose_kind(self._count("passages")) if requested == "auto" else requested

    def _load_vector_file(self) -> VectorIndex | None:
        """The saved index if it belongs to this store, else None (it is then rebuilt from SQLite)."""
        manifest = Manifest.read(self.folder / MANIFEST_FILE)
        path = self.folder / VECTOR_FILE
        if manifest is None or manifest.store_id != self._meta("store_id") or not path.exists():
            return None
        return VectorIndex.load(path)  # its type from the file itself, not from a manifest that may lag

    def _reconciled(self, current: VectorIndex | None, kind: str) -> tuple[VectorIndex, bool]:
        """`current` with exactly SQLite's passage ids (patched in place when possible, else rebuilt); and
        whether anything changed."""
        dim = int(self._meta("dim") or 0)
        if current is None or current.kind != kind or (dim and current.dim != dim):
            return self._build(kind, dim), True
        db_ids = self._passage_ids()
        have = current.ids()
        extra = np.setdiff1d(have, db_ids, assume_unique=True)
        missing = np.setdiff1d(db_ids, have, assume_unique=True)
        if len(extra) and not current.supports_remove:
            return self._build(kind, dim), True
        current.remove(extra)
        current.add(*self._passage_vectors(missing))
        return current, bool(len(extra) or len(missing))

    def _build(self, kind: str, dim: int) -> VectorIndex:
        return VectorIndex.build(kind, dim or 1, *self._passage_vectors(None))

    def _passage_ids(self) -> np.ndarray:
        return np.fromiter((r[0] for r in self.db.execute("SELECT id FROM passages ORDER BY id")), np.int64)

    def _passage_vectors(self, ids: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) from SQLite for `ids`, or for every passage when None."""
        dim = int(self._meta("dim") or 1)
        if ids is not None and len(ids) == 0:
            return np.zeros(0, np.int64), np.zeros((0, dim), np.float32)
        sql, params = "SELECT id, vector FROM passages", []
        if ids is not None:
            sql, params = sql + " WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(ids.tolist())]
        rows = self.db.execute(sql + " ORDER BY id", params).fetchall()
        out_ids = np.array([r[0] for r in rows], np.int64)
        vectors = np.frombuffer(b"".join(r[1] for r in rows), np.float32).reshape(len(rows), dim)
        return out_ids, vectors

    def _write_manifest(self, vectors: VectorIndex) -> None:
        Manifest(store_id=self._meta("store_id") or "", model_id=self.model_id or "",
                 model_name=self._meta("model_name") or "", schema_version=schema.SCHEMA_VERSION,
                 dim=vectors.dim, index_kind=self._meta("index_kind") or "auto", index_type=vectors.kind,
                 vectors=len(vectors), vector_file=VECTOR_FILE,
                 updated_at=datetime.now(timezone.utc).isoformat(timespec="seconds")).write(self.folder / MANIFEST_FILE)

    # ---- writing (the indexer) ----------------------------------------------------------------------
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
        with self._lock, self.db.conn:
            self.db.execute("UPDATE articles SET model_id = NULL")

    def article_vectors(self, model_id: str) -> tuple[list[tuple[str, str]], np.ndarray]:
        """[(article id, cluster id)] and article vectors of the articles annotated by `model_id`, for
        near-duplicate clustering."""
        rows = self.db.execute("SELECT id, cluster_id, vector FROM articles WHERE model_id = ? ORDER BY rowid",
                               [model_id]).fetchall()
        dim = int(self._meta("dim") or 1)
        vectors = np.frombuffer(b"".join(r[2] for r in rows), np.float32).reshape(len(rows), dim)
        return [(r[0], r[1]) for r in rows], vectors

    def replace_articles(self, articles: list[ArticleWrite]) -> None:
        """Insert the articles, replacing any stored version (its passages, FTS rows and mentions), in one commit.
        A replaced article's story cluster is noted for a re-check (`clusters_to_recheck`) in the same commit."""
        if not articles:
            return
        with self._lock, self.db.conn:
            if self._meta("dim") is None:
                self._set_meta("dim", str(len(articles[0].vector)), commit=False)
            touched: set[int] = set()
            for article in articles:
                touched |= self._delete_article(article.id)
                self._insert_article(article)
            self._drop_unused_entities(touched)

    def delete_articles(self, ids: Iterable[str]) -> list[str]:
        """Delete the articles with these ids; returns those that existed. Call `sync_vectors` afterwards.
        Their story clusters are noted for a re-check (`clusters_to_recheck`) in the same commit."""
        found = list(self.article_states(ids))
        with self._lock, self.db.conn:
            touched: set[int] = set()
            for article_id in found:
                touched |= self._delete_article(article_id)
            self._drop_unused_entities(touched)
        return found

    # ---- story clusters -----------------------------------------------------------------------------
    def clusters_to_recheck(self) -> list[str]:
        """Story clusters that lost or changed a member since they were last checked (journaled with the write,
        so a crash between the write and the re-check leaves the re-check to the next run)."""
        return json.loads(self._meta("clusters_to_recheck") or "[]")

    def cluster_articles(self, cluster_id: str) -> list[tuple[str, np.ndarray, str]]:
        """[(article id, article vector (dim,) float32, title + body)] of one story cluster, in indexing order."""
        with self._lock:
            rows = self.db.execute("SELECT id, vector, title, body FROM articles WHERE cluster_id = ? ORDER BY rowid",
                                   [cluster_id]).fetchall()
        return [(r[0], np.frombuffer(r[1], np.float32), article_text(r[2], r[3])) for r in rows]

    def article_texts(self, ids: Iterable[str]) -> dict[str, str]:
        """article id -> title + body (the text passages and mentions point into)."""
        with self._lock:
            rows = self.db.execute("SELECT id, title, body FROM articles WHERE id IN (SELECT value FROM json_each(?))",
                                   [json.dumps(list(ids))])
            return {r[0]: article_text(r[1], r[2]) for r in rows}

    def set_clusters(self, checked: str, assignment: dict[str, str]) -> None:
        """Write re-checked cluster ids (article id -> cluster id) and strike `checked` off the re-check list,
        in one commit."""
        with self._lock, self.db.conn:
            self.db.conn.executemany("UPDATE articles SET cluster_id = ? WHERE id = ?",
                                     [(c, a) for a, c in assignment.items()])
            left = [c for c in self.clusters_to_recheck() if c != checked]
            self._set_meta("clusters_to_recheck", json.dumps(left), commit=False)

    def _insert_article(self, a: ArticleWrite) -> None:
        ex = self.db.execute
        ex("""INSERT INTO articles (id, title, body, published_at, published_date, source, url, categories, extra,
              content_hash, model_id, topic, topics, cluster_id, vector, indexed_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
           [a.id, a.title, a.body, a.published_at, a.published_at[:10] if a.published_at else None, a.source, a.url,
            json.dumps(a.categories), json.dumps(a.extra), a.content_hash, a.model_id, a.topic, json.dumps(a.topics),
            a.cluster_id, _blob(a.vector), datetime.now(timezone.utc).isoformat(timespec="seconds")])
        for p in a.passages:
            cursor = ex('INSERT INTO passages (article_id, position, start, "end", text, topic, vector) '
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", [a.id, p.position, p.start, p.end, p.text, p.topic,
                                                          _blob(p.vector)])
            ex("INSERT INTO passages_fts (rowid, title, text) VALUES (?, ?, ?)",
               [cursor.lastrowid, lexical_text(a.title), lexical_text(p.text)])
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
        pending = self.clusters_to_recheck()
        if row is not None and row[0] not in pending:
            self._set_meta("clusters_to_recheck", json.dumps(pending + [row[0]]), commit=False)

    def _drop_unused_entities(self, entity_ids: set[int]) -> None:
        self.db.execute("""DELETE FROM entities WHERE id IN (SELECT value FROM json_each(?))
                           AND NOT EXISTS (SELECT 1 FROM article_entities ae WHERE ae.entity_id = entities.id)""",
                        [json.dumps(sorted(entity_ids))])

    # ---- reading (search and the API) ---------------------------------------------------------------
    def lexical_search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """Top-k (passage id, BM25 score; higher is better) over title + passage text, filters applied in SQL.

        The query's words, stopwords left out unless nothing else is left, are quoted one by one and OR-ed,
        so FTS5 syntax in user input is never interpreted. Without filters the FTS5 table is read alone:
        joining every match to its article first costs twice the time of the search itself.
        """
        terms = query_terms(query)
        if not terms or k <= 0:
            return []
        join, where, params = "", "", []
        if filters is not None and not filters.is_empty():
            conditions, params = article_conditions(filters, self.names)
            join = "JOIN passages p ON p.id = passages_fts.rowid JOIN articles a ON a.id = p.article_id"
            where = f"AND {conditions}"
        sql = f"""SELECT passages_fts.rowid, bm25(passages_fts, 2.0, 1.0) AS rank FROM passages_fts {join}
                  WHERE passages_fts MATCH ? {where} ORDER BY rank LIMIT ?"""
        match = " OR ".join(f'"{t}"' for t in terms)
        with self._lock:
            return [(int(r[0]), -float(r[1])) for r in self.db.execute(sql, [match, *params, k])]

    def allowed_passage_ids(self, filters: Filters | None) -> np.ndarray | None:
        """Passage ids of articles matching `filters` (for VectorIndex.search), or None when there are no filters."""
        if filters is None or filters.is_empty():
            return None
        where, params = article_conditions(filters, self.names)
        with self._lock:
            rows = self.db.execute(f"SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id "
                                   f"WHERE {where}", params)
            return np.fromiter((r[0] for r in rows), np.int64)

    def passages(self, ids: list[int]) -> list[PassageRow]:
        """The passages with these ids, in the given order; ids no longer in the store are left out."""
        if not ids:
            return []
        ids_json = json.dumps([int(i) for i in ids])
        with self._lock:
            rows = self.db.execute("""SELECT p.id, p.article_id, p.position, p.text, p.start, p."end", a.title,
                    a.source, a.url, a.published_at, a.topic, a.cluster_id FROM passages p
                    JOIN articles a ON a.id = p.article_id WHERE p.id IN (SELECT value FROM json_each(?))""",
                                   [ids_json]).fetchall()
            mentions: dict[int, list[Mention]] = {}
            for r in self.db.execute("""SELECT p.id, e.name, e.label, ae.start, ae."end", ae.score FROM passages p
                    JOIN article_entities ae ON ae.article_id = p.article_id AND ae.start >= p.start
                         AND ae."end" <= p."end"
                    JOIN entities e ON e.id = ae.entity_id
                    WHERE p.id IN (SELECT value FROM json_each(?)) ORDER BY ae.start""", [ids_json]):
                mentions.setdefault(r[0], []).append(Mention(*r[1:]))
        by_id = {r[0]: PassageRow(*r, entities=mentions.get(r[0], [])) for r in rows}
        return [by_id[int(i)] for i in ids if int(i) in by_id]

    def article(self, article_id: str) -> ArticleRow | None:
        """The whole article with its fields, topic distribution, entity mentions and story cluster size."""
        with self._lock:
            row = self.db.execute("""SELECT id, title, body, published_at, source, url, categories, extra, topic,
                    topics, cluster_id FROM articles WHERE id = ?""", [article_id]).fetchone()
            if row is None:
                return None
            mentions = [Mention(*r) for r in self.db.execute("""SELECT e.name, e.label, ae.start, ae."end",
                    ae.score FROM article_entities ae JOIN entities e ON e.id = ae.entity_id
                    WHERE ae.article_id = ? ORDER BY ae.start""", [article_id])]
            size = self.cluster_sizes([row[10]]).get(row[10], 1)
        return ArticleRow(id=row[0], title=row[1], body=row[2], published_at=row[3], source=row[4], url=row[5],
                          categories=json.loads(row[6] or "[]"), extra=json.loads(row[7] or "{}"), topic=row[8],
                          topics=json.loads(row[9] or "{}"), cluster_id=row[10], cluster_size=size,
                          entities=mentions)

    def cluster_sizes(self, cluster_ids: Iterable[str]) -> dict[str, int]:
        """cluster id -> number of articles in that story cluster."""
        with self._lock:
            rows = self.db.execute("""SELECT cluster_id, COUNT(*) FROM articles WHERE cluster_id IN
                    (SELECT value FROM json_each(?)) GROUP BY cluster_id""", [json.dumps(list(set(cluster_ids)))])
            return {r[0]: int(r[1]) for r in rows}

    def facets(self, passage_ids: list[int] | None = None, limit: int = 20,
               filters: Filters | None = None) -> dict[str, list[tuple[str, int]]]:
        """"topics", "entities", "sources" -> [(value, article count)], most frequent first, over the articles of
        `passage_ids`, or else over the articles `filters` allow (both None: the whole store). Entity labels:
        `entity_labels`."""
        if passage_ids is None:
            scope, params = article_conditions(filters or Filters(), self.names)  # in SQL: no passage id list
        else:
            scope = "a.id IN (SELECT article_id FROM passages WHERE id IN (SELECT value FROM json_each(?)))"
            params = [json.dumps([int(i) for i in passage_ids])]
        queries = {
            "topics": f"SELECT a.topic, COUNT(*) FROM articles a WHERE {scope} AND a.topic IS NOT NULL "
                      "GROUP BY a.topic ORDER BY 2 DESC, 1 LIMIT ?",
            "sources": f"SELECT a.source, COUNT(*) FROM articles a WHERE {scope} AND a.source IS NOT NULL "
                       "GROUP BY a.source ORDER BY 2 DESC, 1 LIMIT ?",
            "entities": f"""SELECT e.name, COUNT(DISTINCT ae.article_id) FROM article_entities ae
                            JOIN entities e ON e.id = ae.entity_id JOIN articles a ON a.id = ae.article_id
                            WHERE {scope} GROUP BY e.name ORDER BY 2 DESC, 1 LIMIT ?""",
        }
        with self._lock:
            return {kind: [(r[0], int(r[1])) for r in self.db.execute(sql, [*params, limit])]
                    for kind, sql in queries.items()}

    def entity_labels(self, names: Iterable[str]) -> dict[str, str]:
        """name -> its most frequent label (PER, ORG, LOC, MISC), for showing entity facets by type."""
        with self._lock:
            rows = self.db.execute("""SELECT e.name, e.label, COUNT(*) AS n FROM entities e
                    JOIN article_entities ae ON ae.entity_id = e.id WHERE e.name IN (SELECT value FROM json_each(?))
                    GROUP BY e.id ORDER BY n""", [json.dumps(list(names))])
            return {r[0]: r[1] for r in rows}  # ascending order: the most frequent label is written last

    def known_values(self, kind: str) -> set[str]:
        """Every topic, source or entity name in the store, to reject unknown filter values."""
        sql = {"topics": "SELECT DISTINCT topic FROM articles", "sources": "SELECT DISTINCT source FROM articles",
               "entities": "SELECT DISTINCT name FROM entities"}.get(kind)
        if sql is None:
            raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KNOWN_KINDS)}")
        with self._lock:
            return {r[0] for r in self.db.execute(sql) if r[0] is not None}

    def missing_values(self, kind: str, values: Iterable[str]) -> list[str]:
        """The given topics, sources or entity names that are not in the store, in the given order.

        One indexed lookup per value, matched as the filters match them (entity names case-insensitively), so a
        request is checked without reading every known value.
        """
        table, column = _VALUE_COLUMNS.get(kind, (None, None))
        if table is None:
            raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KNOWN_KINDS)}")
        given = list(values)
        if not given:
            return []
        values = [self.names.canonical(v) for v in given] if kind == "entities" else given
        # the column is on the left, so its collation (NOCASE for entity names) decides; a non-ASCII entity name
        # is compared casefolded, which NOCASE cannot do (a scan of the entity names, not an index lookup)
        folded = [v for v in values if kind == "entities" and not v.isascii()]
        with self._lock:
            found = {r[0] for r in self.db.execute(f"""SELECT v.value FROM json_each(?) v WHERE EXISTS
                    (SELECT 1 FROM {table} t WHERE t.{column} = v.value)""", [json.dumps(values)])}
            found |= {v for v in folded if self.db.execute(
                "SELECT 1 FROM entities WHERE casefold(name) = ? LIMIT 1", [v.casefold()]).fetchone()}
        return [g for g, v in zip(given, values) if v not in found]

    def stats(self) -> dict:
        """What `news-index stats` and /health show."""
        facets = self.facets(None, limit=10)
        manifest = Manifest.read(self.folder / MANIFEST_FILE)
        with self._lock:
            clusters = self.db.execute("SELECT COUNT(*) FROM (SELECT cluster_id FROM articles GROUP BY cluster_id "
                                       "HAVING COUNT(*) > 1)").fetchone()[0]
            dates = self.db.execute("SELECT MIN(published_date), MAX(published_date) FROM articles").fetchone()
            return {
                "articles": self._count("articles"), "passages": self._count("passages"),
                "entities": self._count("entities"), "multi_article_clusters": int(clusters),
                "topics": facets["topics"], "top_entities": facets["entities"], "sources": facets["sources"],
                "date_range": list(dates), "index_type": manifest.index_type if manifest else None,
                "index_kind": self._meta("index_kind") or "auto", "vectors": manifest.vectors if manifest else 0,
                "index_on_gpu": bool(manifest) and searches_on_gpu(manifest.index_type),
                "model_id": self.model_id, "model_name": self._meta("model_name"),
                "schema_version": schema.SCHEMA_VERSION, "disk_bytes": self.disk_bytes(),
            }

    def disk_bytes(self) -> int:
        """Size of the store folder's files (database, WAL, vector file, manifest)."""
        return sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())

    # ---- small helpers ------------------------------------------------------------------------------
    def _count(self, table: str) -> int:
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str, commit: bool = True) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])
        if commit:
            self.db.conn.commit()

    def _file_mtime(self, name: str) -> float | None:
        try:
            return (self.folder / name).stat().st_mtime
        except OSError:
            return None


def _casefold(value: str | None) -> str | None:
    return value.casefold() if isinstance(value, str) else value


def _blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, np.float32).tobytes()
