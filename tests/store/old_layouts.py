"""Turn a store into what an older schema wrote, for the migration tests: the layout is rebuilt by hand here,
not by the code under test."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from search.store.records import article_text
from search.terms import lexical_text


def as_schema_4(folder: Path, version: int = 4) -> None:
    """Passages with their own `text` column and an FTS5 table holding its own copy of the text (versions 1–4);
    version 1 indexed the text as it is, 2–4 as `lexical_text`."""
    lexical = (lambda t: t) if version == 1 else lexical_text
    with sqlite3.connect(folder / "store.db") as conn:
        conn.execute("DROP TABLE passages_fts")
        conn.execute("DROP VIEW passage_lexical")
        conn.execute("ALTER TABLE passages ADD COLUMN text TEXT NOT NULL DEFAULT ''")
        rows = conn.execute("""SELECT p.id, a.title, a.body, p.start, p."end" FROM passages p
                               JOIN articles a ON a.id = p.article_id""").fetchall()
        texts = [(i, article_text(title, body)[start:end]) for i, title, body, start, end in rows]
        conn.executemany("UPDATE passages SET text = ? WHERE id = ?", [(t, i) for i, t in texts])
        conn.execute("CREATE VIRTUAL TABLE passages_fts USING fts5(title, text, tokenize='porter unicode61')")
        titles = dict(conn.execute("SELECT p.id, a.title FROM passages p JOIN articles a ON a.id = p.article_id"))
        conn.executemany("INSERT INTO passages_fts (rowid, title, text) VALUES (?, ?, ?)",
                         [(i, lexical(titles[i]), lexical(t)) for i, t in texts])
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
