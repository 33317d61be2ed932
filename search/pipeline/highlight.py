"""Where the query's words occur in a shown passage, so a reader sees why it matched.

The rule is the lexical retriever's own: the passage is tokenized by FTS5 with the store's tokenizer (porter
stemming over unicode61, so "earthquakes" and "damaged" match "earthquake" and "damage") in an in-memory table,
and FTS5's `highlight()` marks the query's words (stopwords out, as `search.terms.query_terms` chooses them).
Chinese and Japanese query words — character pairs (search/terms.py) — are found by plain substring search,
since FTS5 here sees a run of such characters as one token. Offsets count code points into the passage text.
"""
from __future__ import annotations

import sqlite3

from search.terms import CJK_RUN, query_terms

OPEN, CLOSE = "\x02", "\x03"  # markers for highlight(); a passage holding them is left unmarked


def term_spans(texts: list[str], query: str) -> list[list[tuple[int, int]]]:
    """For each text, the sorted, non-overlapping (start, end) spans of the query's words in it."""
    terms = query_terms(query)
    spans: list[set[tuple[int, int]]] = [set() for _ in texts]
    plain = [t for t in terms if not CJK_RUN.search(t)]
    if plain and texts:
        conn = sqlite3.connect(":memory:")
        try:
            conn.execute("CREATE VIRTUAL TABLE h USING fts5(text, tokenize='porter unicode61')")
            conn.executemany("INSERT INTO h (rowid, text) VALUES (?, ?)",
                             [(i, t) for i, t in enumerate(texts) if OPEN not in t and CLOSE not in t])
            match = " OR ".join(f'"{t}"' for t in plain)
            for i, marked in conn.execute("SELECT rowid, highlight(h, 0, ?, ?) FROM h WHERE h MATCH ?",
                                          [OPEN, CLOSE, match]):
                spans[i] |= _marked_spans(marked)
        finally:
            conn.close()
    for i, text in enumerate(texts):
        for term in (t for t in terms if CJK_RUN.search(t)):
            at = text.find(term)
            while at >= 0:
                spans[i].add((at, at + len(term)))
                at = text.find(term, at + 1)
    return [_merged(s) for s in spans]


def _marked_spans(marked: str) -> set[tuple[int, int]]:
    """Spans between OPEN and CLOSE markers, in the coordinates of the text without them."""
    out, plain, start = set(), 0, 0
    for ch in marked:
        if ch == OPEN:
            start = plain
        elif ch == CLOSE:
            out.add((start, plain))
        else:
            plain += 1
    return out


def _merged(spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
