"""Query words in shown passages: FTS5's own tokenizer and stemming decide, CJK pairs by substring."""
from __future__ import annotations

from search.pipeline.highlight import term_spans


def words_at(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[a:b] for a, b in spans]


def test_words_match_as_the_lexical_retriever_matches_them() -> None:
    texts = ["Earthquakes struck; the earthquake damaged 20 buildings in Örebro.", "强台风预计星期五登陆南部港口。",
             "Nothing to see.", "🎉 Storm in Örebro 🎉"]
    spans = term_spans(texts, "the earthquake damage in orebro 台风 storm")
    assert words_at(texts[0], spans[0]) == ["Earthquakes", "earthquake", "damaged", "Örebro"]  # stopwords out
    assert words_at(texts[1], spans[1]) == ["台风"] and spans[2] == []
    assert words_at(texts[3], spans[3]) == ["Storm", "Örebro"]  # code-point offsets after an emoji
    assert term_spans(["a \x02 b"], "b") == [[]]  # a text holding the markers is left unmarked


def test_spans_are_sorted_and_never_overlap() -> None:
    text = "台风台风 storms storm"
    spans = term_spans([text], "台风 风台 storm")[0]
    assert spans == sorted(spans) and all(a < b <= c for (a, b), (c, _) in zip(spans, spans[1:]))
    assert words_at(text, spans) == ["台风台风", "storms", "storm"]
