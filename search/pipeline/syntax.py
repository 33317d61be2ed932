"""Query syntax for the lexical side, as search boxes of Elasticsearch (`query_string`) and Lucene spell it:

- `"exact phrase"` — the words in this order must occur (FTS5 phrase);
- `-word` or `-"a phrase"` — articles that hold it anywhere are left out (a filter: both retrievers obey it);
- `a OR b` — either (plain words are already either: this only reads naturally);
- `title:word` — the word must occur in the title;
- `source:Name`, `entity:Name`, `topic:name` (quote names with spaces: `entity:"Donald Trump"`), `after:2024-01-01`,
  `before:2024-12-31` — the same filters as the parameters, added to them (and checked the same way);
- anything else is searched as words: a stray quote, `-` or `:` is never an FTS5 error.

The dense side, the pair pass and the highlighted terms get the plain words (phrases' words included, excluded
words and field values left out); the lexical side gets an FTS5 expression in which every user word is quoted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from search.store import Filters
from search.terms import query_terms, words

FILTER_FIELDS = {"source": "sources", "entity": "entities", "topic": "topics"}
DATE_FIELDS = {"after": "date_from", "before": "date_to"}
# a token: optional "-", optional field:, then a "quoted run" or a bare run without spaces
TOKEN = re.compile(r'(?P<neg>-)?(?:(?P<field>[A-Za-z_]+):)?(?:"(?P<quoted>[^"]*)"|(?P<bare>\S+))')  # an unclosed
# quote is no phrase: its words are searched


@dataclass
class ParsedQuery:
    """What a query asks of each side of the search."""

    text: str  # plain words for the dense side, the pair pass and highlighting
    words: list[str] = field(default_factory=list)  # free words, any of which may match
    phrases: list[str] = field(default_factory=list)  # must occur, words in this order
    title: list[str] = field(default_factory=list)  # words that must occur in the title
    filters: Filters = field(default_factory=Filters)  # from source:/entity:/topic:/after:/before:

    def fts_match(self) -> str | None:
        """The FTS5 MATCH expression, every user word quoted (None when nothing is left to match)."""
        required = [_phrase(p) for p in self.phrases] + [f"title : {_phrase(w)}" for w in self.title]
        terms = [_phrase(w) for w in query_terms(" ".join(self.words))] if self.words else []
        if required:  # the free words still rank (bm25 counts every phrase of the expression), not filter
            expression = " AND ".join(required) + (f" AND ({' OR '.join(required + terms)})" if terms else "")
        elif terms:
            expression = " OR ".join(terms)
        else:
            return None
        return expression

    def fts_units(self) -> list[str]:
        """One FTS5 expression per thing the query asks for — each free word, each phrase, each title word — so
        each can be looked up on its own (how much of a query a passage holds: search/pipeline/watch_match.py)."""
        words = query_terms(" ".join(self.words)) if self.words else []
        units = [_phrase(w) for w in words] + [_phrase(p) for p in self.phrases]
        return list(dict.fromkeys(units + [f"title : {_phrase(w)}" for w in self.title]))


def parse_query(query: str) -> ParsedQuery:
    """Split `query` into its parts (see the module docstring); never raises."""
    parsed = ParsedQuery(text="")
    extra: dict[str, list[str]] = {v: [] for v in FILTER_FIELDS.values()}
    dates: dict[str, str] = {}
    excluded: list[str] = []
    plain: list[str] = []
    for m in TOKEN.finditer(query):
        neg, name, quoted, bare = m.group("neg"), (m.group("field") or "").lower(), m.group("quoted"), m.group("bare")
        value = (quoted if quoted is not None else bare or "").strip()
        if not value or (bare == "OR" and not neg and not name):
            continue
        if name in FILTER_FIELDS and not neg:
            extra[FILTER_FIELDS[name]].append(value)
        elif name in DATE_FIELDS and not neg:
            dates[DATE_FIELDS[name]] = value
        elif name == "title" and not neg:
            parsed.title += words(value)
            plain.append(value)
        elif neg and words(value):
            excluded.append(" ".join(words(value)))
        elif quoted is not None and len(words(value)) > 1 and not name:
            parsed.phrases.append(" ".join(words(value)))
            plain.append(value)
        else:  # a word, or something that only looks like syntax: its words
            text = f"{name}:{value}" if name and name not in FILTER_FIELDS | DATE_FIELDS else value
            parsed.words += words(text)
            plain.append(text)
    parsed.text = " ".join(plain)
    parsed.filters = replace(Filters(), **extra, **dates, excluded=excluded)
    return parsed


def merged_filters(given: Filters, parsed: ParsedQuery) -> Filters:
    """The request's filters with the query's own added (a date in both: the query's)."""
    q = parsed.filters
    return replace(given, topics=given.topics + q.topics, entities=given.entities + q.entities,
                   sources=given.sources + q.sources, date_from=q.date_from or given.date_from,
                   date_to=q.date_to or given.date_to, excluded=given.excluded + q.excluded)


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
