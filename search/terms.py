"""The words a query is matched on, shared by the lexical retriever (FTS5) and the pair window's sentence choice.

Words are `\\w+` runs, lowercased. Chinese and Japanese write words without spaces, so a run of their characters
would be one word and a word inside a sentence would never match; such runs are cut into overlapping pairs of
characters instead (the CJK bigrams of Lucene's CJKAnalyzer and Elasticsearch's `cjk_bigram`), in the text FTS5
indexes and in queries alike: 台风 matches 强台风预计. Korean separates words with spaces and needs nothing.

Stopwords (bm25s's English list) are left out of a query unless nothing else is left: they match most passages,
so FTS5 (which scores every match) slows down tenfold on 100k passages, and their BM25 weight is near zero.
"""
from __future__ import annotations

import re
import unicodedata

from bm25s.stopwords import STOPWORDS_EN_PLUS

WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
# Han ideographs (with 々〆〇 and the supplementary planes), hiragana, katakana (full and half width)
CJK_RUN = re.compile("[\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
                     "\U00020000-\U0003134f]+")


def _bigrams(run: re.Match) -> str:
    text = run.group()
    pairs = [text[i:i + 2] for i in range(len(text) - 1)] or [text]
    return " " + " ".join(pairs) + " "


def lexical_text(text: str) -> str:
    """`text` as FTS5 indexes it: Unicode NFC (an "é" typed as e + U+0301 is the same word), and each CJK run
    replaced by its overlapping character pairs, space-separated."""
    return CJK_RUN.sub(_bigrams, unicodedata.normalize("NFC", text))


def words(text: str) -> list[str]:
    """Every word of `text`, lowercased, in order (CJK runs as their character pairs)."""
    return [w.lower() for w in WORD.findall(lexical_text(text))]


def query_terms(query: str) -> list[str]:
    """The query's distinct words in order, stopwords out unless the query has nothing else."""
    terms = list(dict.fromkeys(words(query)))
    return [t for t in terms if t not in STOPWORDS] or terms
