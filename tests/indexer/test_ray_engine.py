"""`news-index add --engine ray` on a real local Ray: the same store as the local engine, and crash-safe by shard."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from indexer.pipeline import Indexer, IndexerConfig
from indexer.readers import InputError, read_inputs
from search.model import NewsModel
from search.model.info import ModelInfo
from search.store import Store
from search.store.check import check_store
from tests.indexer.helpers import short_articles, write_jsonl

ray = pytest.importorskip("ray")

from indexer.ray_engine import (WORKER_MEMORY, RaySettings, add_with_ray, default_workers, join_cluster,  # noqa: E402
                                pool_size)


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def rows(folder: Path) -> dict:
    with sqlite3.connect(folder / "store.db") as conn:
        return {"articles": conn.execute("SELECT id, topic, cluster_id, content_hash FROM articles ORDER BY id").fetchall(),
                "passages": conn.execute("SELECT article_id, position, start, \"end\", topic FROM passages "
                                         "ORDER BY article_id, position").fetchall(),
                "mentions": conn.execute("SELECT ae.article_id, e.name, e.label, ae.start FROM article_entities ae "
                                         "JOIN entities e ON e.id = ae.entity_id ORDER BY 1, 4").fetchall()}


def test_ray_writes_the_store_the_local_engine_writes_and_resumes_by_shard(tmp_path: Path, model: NewsModel) -> None:
    records = short_articles(10)
    original = records[0]
    records.append({**original, "id": "copy-of-" + original["id"]})  # a copy: one story cluster
    path = write_jsonl(tmp_path / "in.jsonl", records)
    local = Store.open(tmp_path / "local", create=True)
    Indexer(local, model).add(read_inputs([str(path)]))
    settings = RaySettings(workers=1, shard_articles=4)
    store = Store.open(tmp_path / "ray", create=True)
    report = add_with_ray(store, ModelInfo.read(model.name), read_inputs([str(path)]), settings, IndexerConfig())
    assert (report.added, report.shards_annotated, report.passages) == (11, 3, len(rows(tmp_path / "local")["passages"]))
    assert rows(tmp_path / "ray") == rows(tmp_path / "local")
    ray_vectors, local_vectors = store._passage_vectors(None)[1], local._passage_vectors(None)[1]
    assert np.abs(ray_vectors - local_vectors).max() < 2e-3  # float16 in the shards, as in SQLite
    assert not [c for c in check_store(store) if not c.ok]
    assert not (tmp_path / "ray" / "shards").exists()  # merged shards are gone, and their folders

    again = add_with_ray(store, ModelInfo.read(model.name), read_inputs([str(path)]), settings, IndexerConfig())
    assert (again.unchanged, again.added, again.shards_annotated) == (11, 0, 0)


def test_a_shard_annotated_before_a_crash_is_merged_not_annotated_again(tmp_path: Path, model: NewsModel,
                                                                        monkeypatch) -> None:
    from indexer import ray_engine

    read = ray_engine.read_shard
    calls = []

    def interrupted(path: Path):  # Ctrl-C as the second shard's merge starts: that shard is written already
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return read(path)

    path = write_jsonl(tmp_path / "in.jsonl", short_articles(6, 20))
    store = Store.open(tmp_path / "ray", create=True)
    settings = RaySettings(workers=1, shard_articles=3)
    with monkeypatch.context() as patch:
        patch.setattr(ray_engine, "read_shard", interrupted)
        with pytest.raises(KeyboardInterrupt):
            add_with_ray(store, ModelInfo.read(model.name), read_inputs([str(path)]), settings, IndexerConfig())
    assert len(list((tmp_path / "ray" / "shards").rglob("*.parquet"))) == 1 and store.count("articles") == 3
    report = add_with_ray(store, ModelInfo.read(model.name), read_inputs([str(path)]), settings, IndexerConfig())
    assert (report.unchanged, report.added, report.shards_annotated) == (3, 3, 0)
    assert not [c for c in check_store(store) if not c.ok]


def test_default_workers_are_one_per_cpu_as_memory_allows_or_one_per_gpu_share() -> None:
    assert default_workers({"CPU": 2.0, "memory": 16 * WORKER_MEMORY}, 0.0) == 2
    assert default_workers({"CPU": 16.0, "memory": 3.5 * WORKER_MEMORY}, 0.0) == 3
    assert default_workers({"CPU": 8.0, "GPU": 2.0, "memory": 64 * WORKER_MEMORY}, 0.5) == 4
    assert default_workers({"CPU": 1.0, "memory": 0.5 * WORKER_MEMORY}, 0.0) == 1


def test_the_pool_fits_the_cluster_and_gpu_actors_need_gpus() -> None:
    assert pool_size({"CPU": 8.0, "memory": 64 * WORKER_MEMORY}, RaySettings(workers=3), 10) == (3, 2.0)
    assert pool_size({"CPU": 2.0}, RaySettings(workers=4), 10) == (4, 0.5)  # a share: a whole CPU is not there
    assert pool_size({"CPU": 2.0, "memory": 16 * WORKER_MEMORY}, RaySettings(), 1) == (1, 2.0)
    gpus = ray.cluster_resources().get("GPU", 0)
    with pytest.raises(InputError, match="--gpus-per-worker") as refused:  # a wait for ever, before
        join_cluster(RaySettings(workers=2, gpus_per_worker=gpus + 1))
    assert ("has no GPU" if not gpus else f"ask for {2 * (gpus + 1):g} GPUs") in str(refused.value)


def test_the_command_indexes_with_ray_and_refuses_a_sharded_store(tmp_path: Path, capsys) -> None:
    from indexer.cli import main

    path = write_jsonl(tmp_path / "in.jsonl", short_articles(5))
    assert main(["add", str(path), "--store", str(tmp_path / "ray"), "--engine", "ray", "--workers", "1"]) == 0
    assert Store.open(tmp_path / "ray", readonly=True).count("articles") == 5
    assert "news-index add --engine ray" in capsys.readouterr().out
    assert not (tmp_path / "ray" / "shards").exists()
    assert main(["add", str(path), "--store", str(tmp_path / "new"), "--shards", "2", "--engine", "ray"]) == 2
    assert "not one split by --shards; leave out --engine or --shards" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
    assert main(["add", str(path), "--store", str(tmp_path / "sharded"), "--shards", "2"]) == 0
    assert main(["add", str(path), "--store", str(tmp_path / "sharded"), "--engine", "ray"]) == 2
    assert "sharded has shards; leave out --engine" in capsys.readouterr().err


def test_an_ivf_store_merges_the_vectors_the_actors_encoded_as_a_sync_would_add_them(
        tmp_path: Path, model: NewsModel) -> None:
    from search.store.base import VECTOR_FILE
    from search.store.vectors import VectorIndex

    first = write_jsonl(tmp_path / "first.jsonl", short_articles(12))
    later = write_jsonl(tmp_path / "later.jsonl", short_articles(7, 12))
    store = Store.open(tmp_path / "ray", create=True)
    Indexer(store, model).add(read_inputs([str(first)]), index_kind="ivf")
    before = VectorIndex.load(tmp_path / "ray" / VECTOR_FILE)
    report = add_with_ray(store, ModelInfo.read(model.name), read_inputs([str(later)]),
                          RaySettings(workers=1, shard_articles=3), IndexerConfig())
    assert report.vectors_merged == report.passages > 0  # every new vector came encoded from an actor
    ids, vectors = store._passage_vectors(None)
    reference = before.copy()  # what the sync's own add makes of SQLite's new rows, with the same centroids
    new = np.setdiff1d(ids, before.ids())
    reference.add(new, vectors[np.searchsorted(ids, new)])
    assert store.vectors.kind == "ivf" and np.array_equal(np.sort(store.vectors.ids()), ids)
    assert store.vectors.search(vectors, len(ids)) == reference.search(vectors, len(ids))
    assert VectorIndex.load(tmp_path / "ray" / VECTOR_FILE).search(vectors, 5) == reference.search(vectors, 5)
    assert not [c for c in check_store(store) if not c.ok]
    assert not (tmp_path / "ray" / "shards").exists()  # parts and template gone with their shards
