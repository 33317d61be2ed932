"""Add, re-add, update, delete, rebuild and clustering with the real model on short sample articles."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.pipeline import Indexer, delete
from indexer.readers import read_inputs
from search.model import NewsModel
from search.store import Store, StoreError
from tests.conftest import SAMPLE
from tests.encoder_calls import encoder_forwards
from tests.indexer.helpers import assert_consistent, short_articles, write_jsonl


def add(folder: Path, model: NewsModel, records: list[dict], **kwargs):
    path = write_jsonl(folder.parent / f"{folder.name}-input.jsonl", records)
    store = Store.open(folder, create=True)
    try:
        return Indexer(store, model).add(read_inputs([str(path)]), **kwargs)
    finally:
        store.close()


class EncoderRows:
    """Counts the passages going through the encoder (rows of every forward pass)."""

    def __init__(self, model: NewsModel) -> None:
        self.watch = encoder_forwards(model)

    @property
    def rows(self) -> int:
        return sum(int(inputs["input_ids"].shape[0]) for inputs in self.calls)

    def __enter__(self) -> "EncoderRows":
        self.calls = self.watch.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.watch.__exit__(*exc)


def test_each_passage_is_encoded_once_and_adding_again_changes_nothing(tmp_path: Path, model: NewsModel) -> None:
    folder = tmp_path / "store"
    records = short_articles(6)
    records[0]["body"] = json.loads(SAMPLE.read_text().splitlines()[0])["body"]  # a multi-passage one
    with EncoderRows(model) as encoded:
        report = add(folder, model, records)
    passages = assert_consistent(folder)
    assert report.added == 6 and report.passages == len(passages) > 6
    assert encoded.rows == len(passages)
    with EncoderRows(model) as encoded:
        again = add(folder, model, records)
    assert (again.added, again.updated, again.unchanged, again.passages, encoded.rows) == (0, 0, 6, 0, 0)
    assert assert_consistent(folder) == passages


def test_update_replaces_passages_vectors_and_text(tmp_path: Path, model: NewsModel) -> None:
    folder = tmp_path / "store"
    records = short_articles(4)
    add(folder, model, records)
    store = Store.open(folder, readonly=True)
    old_ids = [r[0] for r in store.db.execute("SELECT id FROM passages WHERE article_id = ?", [records[1]["id"]])]
    records[1]["body"] += " Zanzibarian officials confirmed the figures later."
    report = add(folder, model, records)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 3)
    passages = assert_consistent(folder)
    assert not set(old_ids) & set(passages)
    store = Store.open(folder, readonly=True)
    hits = store.lexical_search("Zanzibarian", 5)
    assert [store.passages([pid])[0].article_id for pid, _ in hits] == [records[1]["id"]]
    assert store.article(records[1]["id"]).body.endswith("figures later.")


def test_delete_leaves_no_orphan_rows_or_vectors(tmp_path: Path, model: NewsModel) -> None:
    folder = tmp_path / "store"
    records = short_articles(4)
    add(folder, model, records)
    report = delete(Store.open(folder), [records[0]["id"], "no-such-id", records[2]["id"]])
    assert report.deleted == 2 and report.not_found == ["no-such-id"]
    assert_consistent(folder)
    store = Store.open(folder, readonly=True)
    assert {r[0] for r in store.db.execute("SELECT id FROM articles")} == {records[1]["id"], records[3]["id"]}


def test_another_model_is_refused_until_rebuild(tmp_path: Path, model: NewsModel) -> None:
    folder = tmp_path / "store"
    records = short_articles(3)
    add(folder, model, records)
    store = Store.open(folder)
    store.set_model("checkpoint-from-last-year", "old")  # as if an older checkpoint had built this store
    with pytest.raises(StoreError, match="built with model checkpoint-from-last-year.*news-index rebuild"):
        add(folder, model, records)
    report = Indexer(store, model).rebuild()
    assert report.updated == 3 and store.model_id == model.model_id
    assert_consistent(folder)
    assert add(folder, model, records).unchanged == 3
    same_model = Indexer(store, model).rebuild(index_kind="hnsw")  # same model: everything annotated again
    assert same_model.updated == 3 and Store.open(folder, readonly=True).vectors.kind == "hnsw"
    delete(store, [records[0]["id"]])  # HNSW cannot drop ids: the vector file is rebuilt from SQLite
    assert len(assert_consistent(folder)) == 2


def test_an_open_reader_sees_a_writers_commits(tmp_path: Path, model: NewsModel) -> None:
    folder = tmp_path / "store"
    records = short_articles(4)
    add(folder, model, records[:2])
    reader = Store.open(folder, readonly=True)  # as the API holds it
    before = set(reader.vectors.ids().tolist())
    add(folder, model, records)
    after = set(reader.vectors.ids().tolist())
    assert before < after and sorted(after) == assert_consistent(folder)
    new = sorted(after - before)
    assert {row.article_id for row in reader.passages(new)} == {records[2]["id"], records[3]["id"]}


def test_a_topic_below_the_models_confidence_is_other(tmp_path: Path, model: NewsModel, monkeypatch) -> None:
    """With the floor above every probability, articles and passages are "other"; with 0, the argmax."""
    from search.model.records import OTHER_TOPIC, topic_label

    path = write_jsonl(tmp_path / "in.jsonl", short_articles(2))
    monkeypatch.setattr(model.config, "min_topic_confidence", 1.0)
    store = Store.open(tmp_path / "store", create=True)
    Indexer(store, model).add(read_inputs([str(path)]))
    topics = {r[0] for r in store.db.execute("SELECT topic FROM articles UNION SELECT topic FROM passages")}
    assert topics == {OTHER_TOPIC}
    assert store.facets(None)["topics"][0][0] == OTHER_TOPIC  # "other" is a facet value and a filter like any
    assert topic_label({"sport": 0.6, "world": 0.4}, 0.5) == "sport"
    assert topic_label({"sport": 0.45, "world": 0.4, "tech": 0.15}, 0.5) == OTHER_TOPIC
    assert topic_label({}, 0.5) == ""
