"""One name per entity: abbreviations, titles, the alias table and short forms within an article, each mention
keeping its own offsets (issue 14: "US", "United States" and "U.S" were three facet values; "Dr" an entity)."""
from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

from search.model import NewsModel
from search.store import Filters, Store
from search.store.names import Names, name_key
from search.store.records import Mention

TEXT = ("Dr Anthony Fauci met President Obama and U.S. officials. D'Souza said Trump, then Donald Trump, and "
        "John Smith and Jane Smith agreed with Smith. Dr. spoke.")


def mention(name: str, label: str = "PER", nth: int = 0) -> Mention:
    """The tagger's mention of `name` (its `nth` occurrence in TEXT), as the tagger cut it."""
    start = -1
    for _ in range(nth + 1):
        start = TEXT.index(name, start + 1)
    return Mention(name, label, start, start + len(name), 0.9)


def test_dotted_undotted_unicode_and_aliases_are_one_name() -> None:
    names = Names({"Fed": "Federal Reserve"})
    assert {names.canonical(n) for n in ("U.S.", "U.S", "US", "u.s.", "USA", "United States")} == {"United States"}
    assert names.canonical("fed") == "Federal Reserve" and names.canonical("I.B.M.") == "IBM"
    decomposed = unicodedata.normalize("NFD", "Örebro")
    assert decomposed != "Örebro" and names.canonical(decomposed) == "Örebro"
    assert name_key(" Donald   TRUMP ") == "donald trump" and names.canonical("St. Louis") == "St. Louis"


def test_mentions_get_one_name_each_and_keep_their_own_offsets() -> None:
    found = Names().article_mentions(TEXT, [
        mention("Dr Anthony Fauci"), mention("President"), mention("President Obama"), mention("U", "LOC"),
        mention("D", nth=1), mention("Trump"), mention("Donald Trump"), mention("John Smith"), mention("Jane Smith"),
        mention("Smith", nth=2), mention("Dr", nth=1)])
    assert [(m.name, TEXT[m.start:m.end]) for m in found] == [
        ("Anthony Fauci", "Anthony Fauci"),  # the title is left out of the name and of the span
        ("Obama", "Obama"),                  # "President" alone is no entity
        ("United States", "U.S."),           # completed over its dots, then the alias table
        ("D'Souza", "D'Souza"),              # completed over the apostrophe
        ("Donald Trump", "Trump"),           # a short form of exactly one longer name in the article
        ("Donald Trump", "Donald Trump"),
        ("John Smith", "John Smith"),
        ("Jane Smith", "Jane Smith"),
        ("Smith", "Smith"),                  # two Smiths: which one is not known, so it stays as written
    ]                                        # and "Dr." alone is dropped


def test_a_store_keeps_one_facet_value_and_filters_by_any_spelling(tmp_path: Path, model: NewsModel) -> None:
    from indexer.pipeline import Indexer
    from indexer.records import parse_record

    articles = [{"id": "a1", "title": "Trade talks in Washington",
                 "body": "U.S. negotiators met British officials on Monday. The US team said the United States "
                         "would sign. Dr Jane Porter, an adviser to the Fed, welcomed the talks."},
                {"id": "a2", "title": "Markets rise", "body": "Shares rose in the U.S. after the Fed kept rates."}]
    store = Store.open(tmp_path / "store", create=True)
    store.add_aliases({"Fed": "Federal Reserve"})
    Indexer(store, model).add(parse_record(a) for a in articles)
    names = {r[0] for r in store.db.execute("SELECT name FROM entities")}
    assert "United States" in names and not names & {"US", "U.S", "U.S.", "Dr", "Fed"}, names
    facet = dict(store.facets(None)["entities"])
    assert facet["United States"] == 2
    for spelling in ("U.S.", "us", "United States"):
        assert store.missing_values("entities", [spelling]) == []
        allowed = store.allowed_passage_ids(Filters(entities=[spelling]))
        assert {row.article_id for row in store.passages(allowed.tolist())} == {"a1", "a2"}, spelling
    assert Store.open(tmp_path / "store", readonly=True).names.canonical("FED") == "Federal Reserve"


def test_news_index_add_takes_an_alias_file_and_refuses_a_bad_one(tmp_path: Path) -> None:
    bad = tmp_path / "aliases.json"
    bad.write_text(json.dumps(["not", "an", "object"]), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "indexer.cli", "add", "x.jsonl", "--aliases", str(bad),
                          "--store", str(tmp_path / "store")], capture_output=True, text=True)
    assert out.returncode == 2 and "--aliases" in out.stderr and "expected a JSON object" in out.stderr
    assert not (tmp_path / "store").exists()
