"""The words a query is matched on, shared by the lexical retriever (FTS5) and the pair window's sentence choice.

Words are `\\w+` runs, lowercased. Stopwords (bm25s's English list) are left out unless nothing else is left:
they match most passages, so FTS5 (which scores every match) slows down tenfold on 100k passages, and their
BM25 weight is near zero anyway.
"""
from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN_PLUS

WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(STOPWORDS_EN_PLUS)


def words(text: str) -> list[str]:
    """Every word of `text`, lowercased, in order."""
    return [w.lower() for w in WORD.findall(text)]


def query_terms(query: str) -> list[str]:
    """The query's distinct words in order, stopwords out unless the query has nothing else."""
    terms = list(dict.fromkeys(words(query)))
    return [t for t in terms if t not in STOPWORDS] or terms
