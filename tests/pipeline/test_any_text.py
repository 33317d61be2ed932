"""Property test: any Unicode text indexed and queried never raises, and every offset returned slices to the text
returned with it (astral characters, combining marks, right-to-left and CJK scripts, control characters)."""
from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from indexer.pipeline import Indexer
from indexer.records import RecordError, parse_record
from search.pipeline import InvalidRequest, SearchPipeline, SearchRequest
from search.pipeline.syntax import parse_query
from search.store import Store

PIECES = ["🎉", "𝐁𝐫𝐞𝐚𝐤𝐢𝐧𝐠", "e\u0301", "\u0915\u094d\u0937", "שלום", "مرحبا", "台风", "路面電車", "도서관", "\u200b",
          "\u202e", "\x00", "\x07", "\t", "\n\n", "U.S.", "Dr", "Örebro", " ", "fire", "Mayor Ana Ruiz", "ﬁ", "İ"]
any_text = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=200),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=40).map("".join))
counter = itertools.count()


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(titles=st.lists(any_text, min_size=1, max_size=4), bodies=st.lists(any_text, min_size=1, max_size=4),
       query=any_text)
def test_any_text_indexes_searches_and_slices(tmp_path: Path, model, titles, bodies, query) -> None:
    store = Store.open(tmp_path / f"store-{next(counter)}", create=True)
    records = []
    for i, (title, body) in enumerate(zip(titles, bodies)):
        try:
            records.append(parse_record({"id": f"a{i}", "title": title, "body": body}))
        except RecordError:  # an empty body is refused with a reason, as a file's record would be
            assert not body.strip()
    Indexer(store, model).add(records)
    pipeline = SearchPipeline(model, store)
    try:
        response = pipeline.search(SearchRequest(query=query, size=10))
    except InvalidRequest as exc:  # only what validation refuses: a query with no words left to search ("-0")
        assert exc.field == "q" and not parse_query(query).text.strip(), exc
        return
    for result in response.results + response.weak:
        article = store.article(result.article_id)
        passage = result.passage
        assert article.text[passage.start:passage.end] == passage.text
        if passage.answer is not None:
            assert passage.text[passage.answer.start:passage.answer.end] == passage.answer.text
        for mention in article.entities:
            assert 0 <= mention.start < mention.end <= len(article.text) and mention.name.strip()
