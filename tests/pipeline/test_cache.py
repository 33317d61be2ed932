"""The response and query-vector caches: a repeat costs no encoder pass, any change to the store (another
process's `news-index add` included) is seen at once."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from search.pipeline import SearchPipeline, SearchRequest
from search.pipeline.cache import LockedLRU, normalise_query
from search.store import Store
from tests.pipeline.test_search import encoder_rows


def test_a_repeat_in_other_case_and_spacing_is_served_from_the_cache_without_a_pass(model, sample_store) -> None:
    store = Store.open(sample_store, readonly=True)
    pipeline = SearchPipeline(model, store)
    first = pipeline.search(SearchRequest("Who won the election?", k=12))
    again = None

    def repeat() -> None:
        nonlocal again
        again = pipeline.search(SearchRequest("  who WON the   election? ", k=12))

    assert encoder_rows(model, repeat) == []
    assert again.cached and not first.cached and set(again.timings_ms) == {"cache", "total"}
    assert first.pairs_read > 0 and again.pairs_read == 0  # the hit read nothing
    assert again.results == first.results and again.facets == first.facets
    other_page = pipeline.search(SearchRequest("Who won the election?", k=12, page=2))
    assert not other_page.cached  # paging, filters and options are part of the key
    off = SearchPipeline(model, store, responses_cached=0)
    assert not off.search(SearchRequest("Who won the election?", k=12)).cached
    assert not off.search(SearchRequest("Who won the election?", k=12)).cached
    store.close()


def test_another_processs_add_invalidates_the_cache(model, sample_store, tmp_path: Path) -> None:
    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    store = Store.open(folder, readonly=True)
    pipeline = SearchPipeline(model, store)
    query = SearchRequest("zorblat pelican festival in Quimperlé", k=12, rerank=False, answers=False)
    before = pipeline.search(query)
    assert pipeline.search(query).cached
    article = {"id": "new-1", "title": "Zorblat pelican festival opens in Quimperlé",
               "body": "The first zorblat pelican festival opened on Saturday in Quimperlé, Brittany. "
                       "Organisers said four thousand visitors came to see the birds."}
    path = tmp_path / "new.jsonl"
    path.write_text(json.dumps(article) + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "indexer.cli", "add", str(path), "--store", str(folder)], check=True,
                   capture_output=True)
    after = pipeline.search(query)
    assert not after.cached and after.results[0].article_id == "new-1"
    assert "new-1" not in [r.article_id for r in before.results]
    store.close()


def test_the_lru_drops_the_least_recently_used_and_size_0_keeps_nothing() -> None:
    cache: LockedLRU[int] = LockedLRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    off: LockedLRU[int] = LockedLRU(0)
    off.put("a", 1)
    assert off.get("a") is None and len(off) == 0
    assert normalise_query("  Who\tWON  the\nvote ") == "who won the vote"
