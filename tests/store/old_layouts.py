"""Turn a store into what an older schema wrote, for the migration tests: the layout is rebuilt by hand here,
not by the code under test."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from search.store.records import article_text
from search.terms import lexical_text


def as_schema_4(folder: Path, version: int = 4) -> None:
    """Passages with their own `text` column, an FTS5 table holding its own copy of the text and mentions in a
    rowid table with an (article_id, start) index (versions 1–4); version 1 indexed the text as it is, 2–4 as
    `lexical_text`."""
    lexical = (lambda t: t) if version == 1 else lexical_text
    with sqlite3.connect(folder / "store.db") as conn:
        conn.execute("""CREATE TABLE mentions (article_id TEXT NOT NULL REFERENCES articles(id),
            entity_id INTEGER NOT NULL REFERENCES entities(id), start INTEGER NOT NULL, "end" INTEGER NOT NULL,
            score REAL NOT NULL)""")
        conn.execute("INSERT INTO mentions SELECT * FROM article_entities")
        conn.execute("DROP TABLE article_entities")
        conn.execute("ALTER TABLE mentions RENAME TO article_entities")
        conn.execute("CREATE INDEX idx_article_entities_article_id_start ON article_entities (article_id, start)")
        conn.execute("CREATE INDEX idx_article_entities_entity_id_article_id ON article_entities (entity_id, article_id)")
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
