"""Query words and the text FTS5 indexes: CJK runs become overlapping character pairs, other scripts stay words."""
from __future__ import annotations

from search.terms import lexical_text, query_terms, words


def test_cjk_runs_become_overlapping_pairs_and_other_text_stays() -> None:
    assert words("强台风预计星期五登陆") == ["强台", "台风", "风预", "预计", "计星", "星期", "期五", "五登", "登陆"]
    assert words("新しい路面電車") == ["新し", "しい", "い路", "路面", "面電", "電車"]
    assert words("台") == ["台"]  # a lone character is its own word
    assert words("시립 도서관 Örebro U.S. 2024년") == ["시립", "도서관", "örebro", "u", "s", "2024년"]
    assert words("2年間 and AI台风") == ["2", "年間", "and", "ai", "台风"]
    assert "台风" in lexical_text("强台风预计。").split() and lexical_text("no cjk here") == "no cjk here"


def test_a_cjk_word_in_a_query_is_a_substring_of_the_indexed_pairs() -> None:
    """Every pair of a query word that occurs in a text is among that text's pairs, so FTS5 finds the passage."""
    text = "市内で新しい路面電車の運行が月曜日に始まった。運賃は二百円で、十分ごとに運行する。"
    indexed = set(words(text))
    for word in ("路面電車", "運賃", "月曜日"):
        assert set(query_terms(word)) <= indexed, word
    assert not set(query_terms("地震")) & indexed


def test_a_word_is_one_word_however_unicode_composes_it() -> None:
    composed, decomposed = "Café Örebro", "Cafe\u0301 O\u0308rebro"
    assert composed != decomposed and words(decomposed) == words(composed) == ["café", "örebro"]
