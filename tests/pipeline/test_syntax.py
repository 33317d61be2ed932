"""The query syntax against a table of inputs, each expression run by the real FTS5 of a real store, and the
syntax's filters acting as the parameters do."""
from __future__ import annotations

import pytest

from search.pipeline import SearchRequest
from search.pipeline.syntax import parse_query
from search.store import Filters, Store

CASES = [  # query -> (dense text, FTS5 expression, filters)
    ("earthquake damage", "earthquake damage", '"earthquake" OR "damage"', Filters()),
    ('"death toll" earthquake', "death toll earthquake", '"death toll" AND ("death toll" OR "earthquake")', Filters()),
    ("storm -flood", "storm", '"storm"', Filters(excluded=["flood"])),
    ('fire -"New York"', "fire", '"fire"', Filters(excluded=["new york"])),
    ("title:election OR vote", "election vote", 'title : "election" AND (title : "election" OR "vote")', Filters()),
    ('entity:"Donald Trump" tariffs source:Wikinews', "tariffs", '"tariffs"',
     Filters(entities=["Donald Trump"], sources=["Wikinews"])),
    ("court topic:politics after:2019-01-01 before:2019-06-30", "court", '"court"',
     Filters(topics=["politics"], date_from="2019-01-01", date_to="2019-06-30")),
    ('a "unbalanced quote', 'a "unbalanced quote', '"unbalanced" OR "quote"', Filters()),  # words, no phrase
    ("NOT AND ( ) * near", "NOT AND ( ) * near", '"near"', Filters()),  # FTS5 operators are words
    ("foo:bar baz", "foo:bar baz", '"foo" OR "bar" OR "baz"', Filters()),  # an unknown field is words
    ('say "she said ""hi"""', 'say she said hi', None, Filters()),
]


@pytest.mark.parametrize("query, text, match, filters", CASES[:-1])
def test_the_syntax_table(query, text, match, filters) -> None:
    parsed = parse_query(query)
    assert (parsed.text, parsed.fts_match(), parsed.filters) == (text, match, filters)


@pytest.fixture(scope="module")
def store(sample_store) -> Store:
    return Store.open(sample_store, readonly=True)


@pytest.mark.parametrize("query", [c[0] for c in CASES] + ['"', '-', '--"x', 'title:', ':::', '"a" "b" OR OR -'])
def test_every_expression_runs_in_fts5(store: Store, query: str) -> None:
    parsed = parse_query(query)
    store.lexical_search(parsed.text, 10, parsed.filters if not parsed.filters.is_empty() else None,
                         parsed.fts_match())  # never an FTS5 syntax error


def test_phrases_exclusions_and_fields_act_on_the_results(store: Store) -> None:
    def articles(query: str) -> set[str]:
        parsed = parse_query(query)
        hits = store.lexical_search(parsed.text, 200, parsed.filters, parsed.fts_match())
        allowed = store.allowed_passage_ids(parsed.filters)  # the dense side's allow-list obeys it too
        assert allowed is None or {pid for pid, _ in hits} <= set(allowed.tolist())
        return {row.article_id for row in store.passages([pid for pid, _ in hits])}

    texts = dict(store.db.execute("SELECT id, lower(title || ' ' || body) FROM articles"))
    with_phrase = articles('"prime minister"')
    assert with_phrase and all("prime minister" in texts[a] for a in with_phrase)
    without = articles("election -trump")
    assert without and not any("trump" in texts[a] for a in without)
    titled = articles("title:earthquake")
    titles = dict(store.db.execute("SELECT id, lower(title) FROM articles"))
    assert titled and all("earthquake" in titles[a] for a in titled)


def test_filters_in_the_query_act_as_the_parameters_do(model, sample_store) -> None:
    from search.pipeline import SearchPipeline

    pipeline = SearchPipeline(model, Store.open(sample_store, readonly=True))
    topic = pipeline.store.facets(None)["topics"][0][0]
    typed = pipeline.search(SearchRequest(f"what happened topic:{topic}", k=12, rerank=False, answers=False))
    given = pipeline.search(SearchRequest("what happened", k=12, rerank=False, answers=False,
                                          filters=Filters(topics=[topic])))
    assert [r.article_id for r in typed.results] == [r.article_id for r in given.results]
    assert {r.topic for r in typed.results} == {topic}
