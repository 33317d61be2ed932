"""BM25 with the whole store's statistics for a sharded store — what one store would score — in the way of
Elasticsearch's `dfs_query_then_fetch`: each shard sends its statistics, and its candidates are scored with the
pooled ones.

FTS5's `bm25()` (https://sqlite.org/fts5.html#the_bm25_function; `fts5_aux.c`) scores a row, negated, as

    Σ_p idf(p) · w_p · (k1 + 1) / (w_p + k1 · (1 − b + b · D / avgdl)),    k1 = 1.2, b = 0.75,

over every phrase occurrence p of the MATCH expression: w_p is p's hits in the row, each weighted by its column's
weight; D the row's tokens; avgdl the table's tokens per row; idf(p) = ln((N − n_p + 0.5) / (n_p + 0.5)), or
1e-6 when that is not positive, for N rows of which n_p match p. A shard computes N, n_p and avgdl over itself.
Each phrase's own bm25 over a shard's candidates is one term of that sum, so with the shard's statistics and
the row's D it gives w_p exactly; the row is then scored again with N, n_p and avgdl summed over all shards.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

K1, B = 1.2, 0.75  # FTS5's constants
PHRASE = re.compile(r'(?:title : )?"(?:[^"]|"")*"')  # a phrase of the expressions newsearch writes, with its column


@dataclass
class LexicalEvidence:
    """What one shard knows about a MATCH expression's phrases and some of its rows."""

    rows: int  # N: rows in the shard's FTS5 index
    tokens: int  # tokens in all of them, every column
    hits: dict[str, int]  # phrase -> n_p, rows matching it
    docs: dict[int, tuple[int, dict[str, float]]] = field(default_factory=dict)  # row -> (D, phrase -> bm25 term)


def fts5_varints(blob: bytes) -> list[int]:
    """The integers of an FTS5 record in SQLite's varint format (7 bits a byte, high bit set while more follow;
    a ninth byte gives 8): the `averages` record (rows, then tokens per column) and a row's `docsize` (tokens
    per column)."""
    values, i = [], 0
    while i < len(blob):
        value = 0
        for j in range(9):
            byte = blob[i]
            i += 1
            if j == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        values.append(value)
    return values


def phrases(expression: str) -> list[str]:
    """The phrase occurrences of an FTS5 expression newsearch wrote (quoted words, optionally `title : `), in
    order, repeats kept: FTS5 counts a phrase once per occurrence."""
    return PHRASE.findall(expression)


def idf(rows: int, hits: int) -> float:
    """FTS5's inverse document frequency."""
    value = math.log((rows - hits + 0.5) / (hits + 0.5))
    return value if value > 0 else 1e-6


def _length_norm(doc_tokens: int, avgdl: float) -> float:
    return K1 * (1 - B + B * doc_tokens / avgdl)


def pooled_scores(shards: list[LexicalEvidence], expression: str) -> list[dict[int, float]]:
    """Per shard: row -> BM25 (higher is better) of its rows in `docs`, with the statistics of all shards."""
    occurrences = phrases(expression)
    rows = sum(s.rows for s in shards)
    avgdl = sum(s.tokens for s in shards) / max(rows, 1)
    pooled_idf = {p: idf(rows, sum(s.hits.get(p, 0) for s in shards)) for p in set(occurrences)}
    scored = []
    for shard in shards:
        shard_avgdl = shard.tokens / max(shard.rows, 1)
        shard_idf = {p: idf(shard.rows, shard.hits.get(p, 0)) for p in pooled_idf}
        result = {}
        for row, (doc_tokens, terms) in shard.docs.items():
            local, pooled = _length_norm(doc_tokens, shard_avgdl), _length_norm(doc_tokens, avgdl)
            score = 0.0
            for p in occurrences:
                if p in terms:
                    g = terms[p] / shard_idf[p]  # = w (k1 + 1) / (w + local)
                    w = g * local / (K1 + 1 - g)
                    score += pooled_idf[p] * w * (K1 + 1) / (w + pooled)
            result[row] = score
        scored.append(result)
    return scored
