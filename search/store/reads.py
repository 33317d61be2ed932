"""Reads for search and the API: lexical search, filters as allowed passage ids, passages and articles, facets,
known filter values and the store's statistics."""
from __future__ import annotations

import json
from datetime import date
from typing import Iterable

import numpy as np

from search.store import schema
from search.store.base import MANIFEST_FILE, VECTOR_FILE, StoreBase
from search.store.filters import article_conditions
from search.store.manifest import Manifest
from search.store.records import ArticleRow, Filters, Mention, PassageRow, article_text, passage_text
from search.store.pooled_bm25 import LexicalEvidence, fts5_varints, phrases
from search.store.vectors import searches_on_gpu
from search.terms import query_terms

KNOWN_KINDS = ("topics", "sources", "entities")
BM25_WEIGHTS = "2.0, 1.0"  # FTS5 bm25() column weights: a word in the title counts twice
_VALUE_COLUMNS = {"topics": ("articles", "topic"), "sources": ("articles", "source"), "entities": ("entities", "name")}
# facet value -> article count over the articles a condition `{scope}` on `a` keeps (GROUP BY and the rest added)
FACET_COUNTS = {
    "topics": "SELECT a.topic, COUNT(*) FROM articles a WHERE {scope} AND a.topic IS NOT NULL",
    "sources": "SELECT a.source, COUNT(*) FROM articles a WHERE {scope} AND a.source IS NOT NULL",
    "entities": """SELECT e.name, COUNT(DISTINCT ae.article_id) FROM article_entities ae
                   JOIN entities e ON e.id = ae.entity_id JOIN articles a ON a.id = ae.article_id WHERE {scope}""",
}
FACET_VALUE = {"topics": "a.topic", "sources": "a.source", "entities": "e.name"}


def match_expression(query: str, match: str | None) -> str | None:
    """The FTS5 expression `lexical_search` runs: `match` as given, else the query's words, stopwords left out
    unless nothing else is left, quoted one by one and OR-ed; None when nothing is left to match."""
    if match:
        return match
    terms = query_terms(query)
    return " OR ".join(f'"{t}"' for t in terms) if terms else None


def date_buckets(days: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Articles per day (`YYYY-MM-DD`, oldest first) as articles per day, month or year: the unit that gives at
    most about 60 bars over the span (`YYYY-MM-DD`, `YYYY-MM` or `YYYY` buckets, oldest first)."""
    if not days:
        return []
    span = (date.fromisoformat(days[-1][0]) - date.fromisoformat(days[0][0])).days
    width = 10 if span <= 62 else 7 if span <= 5 * 366 else 4
    buckets: dict[str, int] = {}
    for day, n in days:
        buckets[day[:width]] = buckets.get(day[:width], 0) + n
    return list(buckets.items())


class Reads(StoreBase):
    """Everything search and the API read."""

    def lexical_search(self, query: str, k: int, filters: Filters | None = None,
                       match: str | None = None) -> list[tuple[int, float]]:
        """Top-k (passage id, BM25 score; higher is better) over title + passage text, filters applied in SQL.

        The query's words, stopwords left out unless nothing else is left, are quoted one by one and OR-ed,
        so FTS5 syntax in user input is never interpreted; `match`, an FTS5 expression whose words are quoted
        already (search/pipeline/syntax.py), replaces that. Without filters the FTS5 table is read alone:
        joining every match to its article first costs twice the time of the search itself.
        """
        expression = match_expression(query, match)
        if expression is None or k <= 0:
            return []
        join, where, params = "", "", []
        if filters is not None and not filters.is_empty():
            conditions, params = article_conditions(filters, self.names)
            join = "JOIN passages p ON p.id = passages_fts.rowid JOIN articles a ON a.id = p.article_id"
            where = f"AND {conditions}"
        sql = f"""SELECT passages_fts.rowid, bm25(passages_fts, {BM25_WEIGHTS}) AS rank FROM passages_fts {join}
                  WHERE passages_fts MATCH ? {where} ORDER BY rank LIMIT ?"""
        with self._lock:
            return [(int(r[0]), -float(r[1])) for r in self.db.execute(sql, [expression, *params, k])]

    def lexical_evidence(self, expression: str, ids: list[int]) -> LexicalEvidence:
        """This store's FTS5 statistics for the phrases of `expression`, and for the passages `ids` their tokens
        and each phrase's own BM25 term: what a sharded store pools (search/store/pooled_bm25.py)."""
        unique = list(dict.fromkeys(phrases(expression)))
        ids_json = json.dumps([int(i) for i in ids])
        with self._lock:
            block = self.db.execute("SELECT block FROM passages_fts_data WHERE id = 1").fetchone()  # "averages"
            counts = fts5_varints(block[0]) if block else [0]
            hits = {p: int(self.db.execute("SELECT COUNT(*) FROM passages_fts WHERE passages_fts MATCH ?",
                                           [p]).fetchone()[0]) for p in unique}
            docs: dict[int, tuple[int, dict[str, float]]] = {
                int(r[0]): (sum(fts5_varints(r[1])), {}) for r in self.db.execute(
                    "SELECT id, sz FROM passages_fts_docsize WHERE id IN (SELECT value FROM json_each(?))",
                    [ids_json])}
            low, high = (min(docs), max(docs)) if docs else (0, -1)
            for p in unique:  # a rowid range FTS5 applies itself; `rowid IN (...)` would run the MATCH per id
                for row, score in self.db.execute(
                        f"""SELECT rowid, bm25(passages_fts, {BM25_WEIGHTS}) FROM passages_fts
                            WHERE passages_fts MATCH ? AND rowid BETWEEN ? AND ?""", [p, low, high]):
                    if row in docs:
                        docs[row][1][p] = -float(score)
        return LexicalEvidence(rows=counts[0], tokens=sum(counts[1:]), hits=hits, docs=docs)

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
            rows = self.db.execute("""SELECT p.id, p.article_id, p.position, a.body, p.start, p."end", a.title,
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
        by_id = {r[0]: PassageRow(*r[:3], passage_text(r[6], *r[3:6]), *r[4:], entities=mentions.get(r[0], []))
                 for r in rows}
        return [by_id[int(i)] for i in ids if int(i) in by_id]

    def article_passage_ids(self, article_ids: list[str]) -> np.ndarray:
        """The ids of these articles' passages: article by article in the given order, each in passage order."""
        with self._lock:
            rows = self.db.execute("""SELECT p.id FROM json_each(?) j JOIN passages p ON p.article_id = j.value
                                      ORDER BY j.key, p.position""", [json.dumps(article_ids)])
            return np.fromiter((r[0] for r in rows), np.int64)

    def passage_texts(self) -> list[tuple[int, str, str]]:
        """[(passage id, article id, passage text)] of every passage, by id."""
        with self._lock:
            rows = self.db.execute("""SELECT p.id, p.article_id, a.title, a.body, p.start, p."end" FROM passages p
                                      JOIN articles a ON a.id = p.article_id ORDER BY p.id""").fetchall()
        return [(r[0], r[1], passage_text(*r[2:])) for r in rows]

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

    def article_texts(self, ids: Iterable[str]) -> dict[str, str]:
        """article id -> title + body (the text passages and mentions point into)."""
        with self._lock:
            rows = self.db.execute("SELECT id, title, body FROM articles WHERE id IN (SELECT value FROM json_each(?))",
                                   [json.dumps(list(ids))])
            return {r[0]: article_text(r[1], r[2]) for r in rows}

    def article_vector(self, article_id: str) -> tuple[np.ndarray, str | None, str] | None:
        """(the article's stored vector (dim,) float32, its story cluster id, its title), or None."""
        with self._lock:
            row = self.db.execute("SELECT vector, cluster_id, title FROM articles WHERE id = ?",
                                  [article_id]).fetchone()
        return None if row is None else (self._decode_vectors([row[0]])[0], row[1], row[2])

    def articles_naming(self, names: list[str]) -> dict[str, set[str]]:
        """article id -> which of `names` (canonical entity names) it mentions, for the articles naming any."""
        if not names:
            return {}
        found: dict[str, set[str]] = {}
        with self._lock:
            for article_id, name in self.db.execute("""SELECT DISTINCT ae.article_id, e.name FROM article_entities ae
                    JOIN entities e ON e.id = ae.entity_id WHERE e.name IN (SELECT value FROM json_each(?))""",
                                                    [json.dumps(names)]):
                found.setdefault(article_id, set()).add(name)
        return found

    def article_heads(self, ids: list[str]) -> list[tuple[str, str | None, str | None]]:
        """(title, published_at, source) of each id, in order."""
        with self._lock:
            rows = {r[0]: (r[1], r[2], r[3]) for r in self.db.execute(
                "SELECT id, title, published_at, source FROM articles WHERE id IN (SELECT value FROM json_each(?))",
                [json.dumps(ids)])}
        return [rows.get(i, ("", None, None)) for i in ids]

    def cluster_members(self, cluster_id: str) -> list[str]:
        """The ids of the articles in one story cluster."""
        with self._lock:
            return [r[0] for r in self.db.execute("SELECT id FROM articles WHERE cluster_id = ? ORDER BY rowid",
                                                   [cluster_id])]

    def cluster_sizes(self, cluster_ids: Iterable[str]) -> dict[str, int]:
        """cluster id -> number of articles in that story cluster."""
        with self._lock:
            rows = self.db.execute("""SELECT cluster_id, COUNT(*) FROM articles WHERE cluster_id IN
                    (SELECT value FROM json_each(?)) GROUP BY cluster_id""", [json.dumps(list(set(cluster_ids)))])
            return {r[0]: int(r[1]) for r in rows}

    def facets(self, passage_ids: list[int] | None = None, limit: int = 20, filters: Filters | None = None,
               daily: bool = False) -> dict[str, list[tuple[str, int]]]:
        """"topics", "entities", "sources" -> [(value, article count)], most frequent first, and "dates" -> the
        date histogram (`date_buckets`; per day with `daily`), over the articles of `passage_ids`, or else over
        the articles `filters` allow (both None: the whole store). Entity labels: `entity_labels`."""
        scope, params = self._facet_scope(passage_ids, filters)
        queries = {kind: f"{sql.format(scope=scope)} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?"
                   for kind, sql in FACET_COUNTS.items()}
        with self._lock:
            counts = {kind: [(r[0], int(r[1])) for r in self.db.execute(sql, [*params, limit])]
                      for kind, sql in queries.items()}
            days = [(r[0], int(r[1])) for r in self.db.execute(
                f"""SELECT a.published_date, COUNT(*) FROM articles a WHERE {scope} AND a.published_date IS NOT NULL
                    GROUP BY 1 ORDER BY 1""", params)]
            counts["dates"] = days if daily else date_buckets(days)
            return counts

    def facet_counts(self, kind: str, values: Iterable[str], filters: Filters | None = None) -> dict[str, int]:
        """value -> article count for these topics, sources or entity names (`kind`) over the articles `filters`
        allow: the exact counts `facets` gives, for values it may have cut off below its `limit` (a sharded
        store asks each shard for them, as Elasticsearch refines a terms aggregation's shard counts)."""
        if kind not in FACET_COUNTS:
            raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(FACET_COUNTS)}")
        scope, params = self._facet_scope(None, filters)
        sql = (f"{FACET_COUNTS[kind].format(scope=scope)} AND {FACET_VALUE[kind]} IN "
               "(SELECT value FROM json_each(?)) GROUP BY 1")
        with self._lock:
            return {r[0]: int(r[1]) for r in self.db.execute(sql, [*params, json.dumps(list(values))])}

    def _facet_scope(self, passage_ids: list[int] | None, filters: Filters | None) -> tuple[str, list]:
        """The SQL condition on articles `a` for facets over `passage_ids`' articles, or else over what `filters`
        allow, with its parameters."""
        if passage_ids is None:
            return article_conditions(filters or Filters(), self.names)  # in SQL: no passage id list
        return ("a.id IN (SELECT article_id FROM passages WHERE id IN (SELECT value FROM json_each(?)))",
                [json.dumps([int(i) for i in passage_ids])])

    def entity_labels(self, names: Iterable[str]) -> dict[str, str]:
        """name -> its most frequent label (PER, ORG, LOC, MISC), for showing entity facets by type."""
        with self._lock:
            rows = self.db.execute("""SELECT e.name, e.label, COUNT(*) AS n FROM entities e
                    JOIN article_entities ae ON ae.entity_id = e.id WHERE e.name IN (SELECT value FROM json_each(?))
                    GROUP BY e.id ORDER BY n""", [json.dumps(list(names))])
            return {r[0]: r[1] for r in rows}  # ascending order: the most frequent label is written last

    def entity_keys(self) -> set[tuple[str, str]]:
        """Every entity as (name, label), the table's key (the name under NOCASE), for counting entities over
        shards without counting one that two shards hold twice."""
        with self._lock:
            return {(r[0], r[1]) for r in self.db.execute("SELECT name, label FROM entities")}

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
        # an entity value is found as given or as its canonical name (a store indexed before a name rule or an
        # alias keeps the old names), as the filter matches it
        forms = {g: {g, self.names.canonical(g)} if kind == "entities" else {g} for g in given}
        values = sorted(set().union(*forms.values()))
        # the column is on the left, so its collation (NOCASE for entity names) decides; a non-ASCII entity name
        # is compared casefolded, which NOCASE cannot do (a scan of the entity names, not an index lookup)
        folded = [v for v in values if kind == "entities" and not v.isascii()]
        with self._lock:
            found = {r[0] for r in self.db.execute(f"""SELECT v.value FROM json_each(?) v WHERE EXISTS
                    (SELECT 1 FROM {table} t WHERE t.{column} = v.value)""", [json.dumps(values)])}
            found |= {v for v in folded if self.db.execute(
                "SELECT 1 FROM entities WHERE casefold(name) = ? LIMIT 1", [v.casefold()]).fetchone()}
        return [g for g in given if not forms[g] & found]

    def count(self, table: str) -> int:
        """Rows of "articles" or "passages" (for metrics)."""
        if table not in ("articles", "passages"):
            raise ValueError(f"count articles or passages, not {table!r}")
        with self._lock:
            return self._count(table)

    def stats(self) -> dict:
        """What `news-index stats` and /health show: `summary()` and the top topics, entities and sources."""
        facets = self.facets(None, limit=10)
        return {**self.summary(), "topics": facets["topics"], "top_entities": facets["entities"],
                "sources": facets["sources"]}

    def summary(self) -> dict:
        """Counts, dates, the vector index and its settings, the model and the bytes (`stats` without facets)."""
        manifest = Manifest.read(self.folder / MANIFEST_FILE)
        with self._lock:
            clusters = self.db.execute("SELECT COUNT(*) FROM (SELECT cluster_id FROM articles GROUP BY cluster_id "
                                       "HAVING COUNT(*) > 1)").fetchone()[0]
            dates = self.db.execute("SELECT MIN(published_date), MAX(published_date) FROM articles").fetchone()
            passages, disk = self._count("passages"), self.disk_bytes()
            return {
                "articles": self._count("articles"), "passages": passages,
                "entities": self._count("entities"), "multi_article_clusters": int(clusters),
                "date_range": list(dates), "index_type": manifest.index_type if manifest else None,
                "index_kind": self._meta("index_kind") or "auto", "vectors": manifest.vectors if manifest else 0,
                "index_on_gpu": bool(manifest) and searches_on_gpu(manifest.index_type),
                "vector_search": self.search_settings.used_by(manifest.index_type if manifest else None),
                "model_id": self.model_id, "model_name": self._meta("model_name"),
                "schema_version": schema.SCHEMA_VERSION, "disk_bytes": disk,
                "bytes_per_passage": self._bytes_per_passage(passages, disk),
            }

    def _bytes_per_passage(self, passages: int, disk: int) -> dict[str, float]:
        """Bytes each passage costs: its vector in SQLite (`vector_dtype`), its vector in the vector file, and
        the whole folder (`disk` bytes)."""
        passages = max(passages, 1)
        vector_file = self.folder / VECTOR_FILE
        return {"sqlite_vector": float(int(self._meta("dim") or 0) * self.vector_dtype.itemsize),
                "vector_file": (vector_file.stat().st_size if vector_file.exists() else 0) / passages,
                "all_files": disk / passages}

    def disk_bytes(self) -> int:
        """Size of the store folder's files (database, WAL, vector file, manifest)."""
        return sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())
