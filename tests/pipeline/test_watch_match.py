"""Watches matched at index time, on the sample store with the real model: a watch saved before `news-index add`
records exactly the new articles that match it — filters, phrases and excluded words obeyed, nothing without the
query's words — with no encoder pass beyond indexing's own, once per article however often it is indexed again,
and none lost or doubled by a crash between the write and the match."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from indexer.pipeline import Indexer, RunReport
from indexer.readers import read_inputs
from search.model import NewsModel
from search.pipeline.watch_match import WatchMatcher
from search.pipeline.watches import WatchRequest, save_watch
from search.store import Filters, Store
from search.store.check import check_store
from tests.indexer.helpers import LATER_ARTICLES, sample_records, write_jsonl
from tests.indexer.test_pipeline import EncoderRows

WATCHES = {  # query -> the later articles it must match, exactly
    "marathon world record": {"wn-vat-2019-141", "wn-vat-2019-142"},
    "Hong Kong protests": {"wn-vat-2019-125", "wn-vat-2019-144"},
    '"Hong Kong" protests before:2019-10-10': {"wn-vat-2019-125"},
    "Syria": {"wn-vat-2019-133", "wn-vat-2019-143"},
    "Syria -Kurds": set(),  # both Syria articles name the Kurds
    "earthquake": {"wn-vat-2019-148"},
    "Trump impeachment": {"wn-vat-2019-154"},
    "football": set(),  # no article holds the word: the nearest vectors are no match
}


def add(store: Store, model: NewsModel, records: list[dict], path: Path) -> RunReport:
    return Indexer(store, model).add(read_inputs([str(write_jsonl(path, records))]))


def matched(store: Store) -> dict[str, set[str]]:
    return {w.query: {m.article_id for m in store.watch_matches(w.id, 0, 100)[1]} for w in store.watches()}


@pytest.fixture(scope="module")
def watched(sample_store: Path, model: NewsModel, tmp_path_factory) -> tuple[Path, RunReport, int]:
    """A copy of the sample store with the WATCHES saved, then the later articles added: (folder, the add's
    report, rows the encoder read during the add)."""
    folder = tmp_path_factory.mktemp("watched") / "store"
    shutil.copytree(sample_store, folder)
    store = Store.open(folder)
    now = datetime.now(timezone.utc)
    for query in WATCHES:
        save_watch(store, model, WatchRequest(query=query), now)
    with EncoderRows(model) as encoded:
        report = add(store, model, sample_records(LATER_ARTICLES), folder.parent / "later.jsonl")
    store.close()
    return folder, report, encoded.rows


def test_a_watch_saved_before_add_records_exactly_the_new_matching_articles(watched) -> None:
    folder, report, encoded = watched
    store = Store.open(folder, readonly=True)
    assert matched(store) == WATCHES
    assert report.watch_matches == sum(len(v) for v in WATCHES.values()) and report.watches == len(WATCHES)
    assert encoded == report.passages  # each passage once, for indexing: matching adds no encoder pass
    for watch in store.watches():
        for match in store.watch_matches(watch.id, 0, 100)[1]:
            assert watch.min_score <= match.score <= 1.0 and match.title and match.summary
    assert all(c.ok for c in check_store(store)), check_store(store)
    assert store.pending_count() == 0


def test_articles_indexed_before_the_watch_are_not_matched(watched, model: NewsModel, tmp_path: Path) -> None:
    folder, _, _ = watched
    shutil.copytree(folder, tmp_path / "store")
    store = Store.open(tmp_path / "store")
    watch = save_watch(store, model, WatchRequest(query="marathon world record", name="later"),
                       datetime.now(timezone.utc))
    again = add(store, model, sample_records(LATER_ARTICLES), tmp_path / "same.jsonl")  # unchanged: skipped
    assert again.unchanged == len(LATER_ARTICLES) and again.watch_matches == 0
    assert store.watch_matches(watch.id)[0] == 0


def test_reindexing_a_changed_article_keeps_one_match_and_deleting_it_removes_it(watched, model: NewsModel,
                                                                                 tmp_path: Path) -> None:
    folder, _, _ = watched
    shutil.copytree(folder, tmp_path / "store")
    store = Store.open(tmp_path / "store")
    marathon = next(w for w in store.watches() if w.query == "marathon world record")
    before = {m.article_id: m.matched_at for m in store.watch_matches(marathon.id)[1]}
    changed = [{**r, "body": r["body"] + "\n\nThis article was corrected."}
               for r in sample_records(["wn-vat-2019-141"])]
    report = add(store, model, changed, tmp_path / "changed.jsonl")
    assert report.updated == 1 and report.watch_matches == 0
    assert {m.article_id: m.matched_at for m in store.watch_matches(marathon.id)[1]} == before
    from indexer.pipeline import delete

    delete(store, ["wn-vat-2019-141"])
    assert {m.article_id for m in store.watch_matches(marathon.id)[1]} == {"wn-vat-2019-142"}
    assert all(c.ok for c in check_store(store))


def test_a_crash_between_the_write_and_the_match_loses_and_doubles_nothing(sample_store: Path, model: NewsModel,
                                                                           tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "store"
    shutil.copytree(sample_store, folder)
    store = Store.open(folder)
    watch = save_watch(store, model, WatchRequest(query="marathon world record",
                                                  filters=Filters(date_from="2019-10-01")),
                       datetime.now(timezone.utc))
    records = sample_records(["wn-vat-2019-141", "wn-vat-2019-142"])

    def crash(self) -> int:  # the process dies once the batch is committed, before its match commits
        raise KeyboardInterrupt

    monkeypatch.setattr(WatchMatcher, "match_pending", crash)
    with pytest.raises(KeyboardInterrupt):
        add(store, model, records, tmp_path / "in.jsonl")
    assert store.pending_count() == 2 and store.watch_matches(watch.id)[0] == 0
    assert all(c.ok for c in check_store(store))  # a journal waiting is no damage
    monkeypatch.undo()
    report = add(store, model, records, tmp_path / "in.jsonl")  # the same command again
    assert report.unchanged == 2 and report.watch_matches == 2
    assert {m.article_id for m in store.watch_matches(watch.id)[1]} == {"wn-vat-2019-141", "wn-vat-2019-142"}
    assert store.pending_count() == 0
    assert add(store, model, records, tmp_path / "in.jsonl").watch_matches == 0
