"""`news-index` end to end in-process: summaries, messages and exit codes scripts rely on."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import faiss
import pytest

from indexer.cli import EXIT_DAMAGED, EXIT_OK, EXIT_PARTIAL, EXIT_STORE, EXIT_USAGE, main
from search.store import Store
from tests.indexer.helpers import assert_consistent, short_articles, write_jsonl


def test_add_stats_delete_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    store = str(tmp_path / "store")
    path = write_jsonl(tmp_path / "in.jsonl", short_articles(3))
    with path.open("a") as f:
        f.write("{broken\n")
    assert main(["add", str(path), "--strict", "--store", store]) == EXIT_USAGE
    assert f"news-index: error: {path}:4: invalid JSON" in capsys.readouterr().err
    assert main(["add", str(path), "--store", store]) == EXIT_PARTIAL
    captured = capsys.readouterr()
    out = captured.out
    assert "added" in out and "bad records (skipped)" in out and f"{path}:4: invalid JSON" in out
    assert "passages/s" in out
    assert "4/4" in captured.err and "articles" in captured.err  # the bar knew its total: 3 articles, 1 bad

    assert main(["stats", "--store", store, "--json"]) == EXIT_OK
    stats = json.loads(capsys.readouterr().out)
    assert stats["articles"] == 3 and stats["passages"] == stats["vectors"] >= 3
    assert stats["sources"] == [["Wikinews", 3]] and stats["index_type"] == "flat" and stats["model_id"]
    assert stats["index_on_gpu"] is (faiss.get_num_gpus() > 0)  # a flat index moves to a GPU when there is one
    code = main(["stats", "--store", store])
    printed = capsys.readouterr().out
    assert code == EXIT_OK and "top entities" in printed and "searched on the" in printed

    ids = [r["id"] for r in short_articles(2)]
    assert main(["delete", *ids, "--store", store]) == EXIT_OK
    deleted = capsys.readouterr().out
    assert "deleted" in deleted and "added" not in deleted and "passages/s" not in deleted
    assert main(["delete", "unknown-id", "--store", store]) == EXIT_PARTIAL
    assert "not found unknown-id" in capsys.readouterr().out
    assert len(assert_consistent(Path(store))) >= 1
    with sqlite3.connect(Path(store) / "store.db") as conn:  # what the runs freed went back to the disk
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0


def test_bad_arguments_and_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["add", str(tmp_path / "missing.jsonl"), "--store", str(tmp_path / "s")]) == EXIT_USAGE
    assert capsys.readouterr().err.strip() == f"news-index: error: no such file or folder: {tmp_path}/missing.jsonl"
    assert main(["stats", "--store", str(tmp_path / "none")]) == EXIT_STORE
    assert "no store at" in capsys.readouterr().err
    path = write_jsonl(tmp_path / "in.jsonl", short_articles(1))
    assert main(["add", str(path), "--store", str(tmp_path / "s"), "--ray-address", "auto", "--workers", "2"]) == 2
    refused = capsys.readouterr().err
    assert "--ray-address, --workers apply to --engine ray; add --engine ray or leave them out" in refused
    assert main(["add", str(path), "--store", str(tmp_path / "s"), "--engine", "ray", "--ray-address", "h:x"]) == 2
    assert "--ray-address h:x is not auto or HOST:PORT" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # argparse's own refusal
        main(["add", str(path), "--store", str(tmp_path / "s"), "--engine", "ray", "--gpus-per-worker", "-1"])
    assert exited.value.code == EXIT_USAGE
    assert "expected a number of GPUs of 0 or more" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_model_mismatch_exits_3_and_says_rebuild(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "store"
    Store.open(folder, create=True).set_model("another-checkpoint", "old")
    path = write_jsonl(tmp_path / "in.jsonl", short_articles(1))
    assert main(["add", str(path), "--store", str(folder)]) == EXIT_STORE
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith("news-index: error: ") and "built with model another-checkpoint" in err
    assert "news-index rebuild" in err


def test_passage_tokens_cuts_shorter_passages_and_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                             model) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", short_articles(2))
    store = tmp_path / "store"
    assert main(["add", str(path), "--store", str(store), "--passage-tokens", "8"]) == EXIT_USAGE
    assert "--passage-tokens must be between 16 and 256" in capsys.readouterr().err
    assert not store.exists()  # a refused command leaves nothing behind
    assert main(["add", str(path), "--store", str(store), "--passage-tokens", "32"]) == EXIT_OK
    texts = [text for _, _, text in Store.open(store, readonly=True).passage_texts()]
    lengths = [len(model.tokenizer(t)["input_ids"]) for t in texts]
    assert len(texts) > 2 and max(lengths) <= 32


def test_the_summary_names_repeated_ids_generated_ids_and_numbers_read_as_text(tmp_path: Path,
                                                                                  capsys: pytest.CaptureFixture) -> None:
    first, other = short_articles(2)
    later = {**first, "title": first["title"] + " (corrected)"}
    path = write_jsonl(tmp_path / "in.jsonl", [first, {"title": "Lottery", "body": 4815162342}, other, later])
    assert main(["add", str(path), "--store", str(tmp_path / "store")]) == EXIT_OK
    captured = capsys.readouterr()
    out = " ".join(captured.out.split())
    assert f"repeated id (the later record is kept) {first['id']}: {path}:1 and {path}:4" in out
    assert f"note {path}:2: body is a number (4815162342), stored as text" in out
    generated = Store.open(tmp_path / "store", readonly=True).db.execute(
        "SELECT id FROM articles WHERE title = 'Lottery'").fetchone()[0]
    assert generated.startswith("doc-") and f"id generated {path}:2: {generated}" in out
    assert Store.open(tmp_path / "store", readonly=True).article(first["id"]).title.endswith("(corrected)")
    assert "4/4" in captured.err  # the replaced record counts as done on the bar


def test_check_repair_and_backup_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                       sample_store: Path) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(sample_store, store)
    assert main(["check", "--store", str(store)]) == EXIT_OK
    assert "vector index" in capsys.readouterr().out  # flat: built from SQLite, no file
    (store / "vectors.faiss").write_bytes(b"not an index")  # a damaged file where one is read
    assert main(["check", "--store", str(store)]) == EXIT_DAMAGED
    captured = capsys.readouterr()
    assert "PROBLEM" in captured.out and f"news-index repair --store {store}" in captured.err
    assert main(["repair", "--store", str(store)]) == EXIT_OK
    assert "PROBLEM" not in capsys.readouterr().out
    assert main(["backup", str(tmp_path / "copy"), "--store", str(store)]) == EXIT_OK
    assert main(["check", "--store", str(tmp_path / "copy")]) == EXIT_OK
    assert main(["backup", str(tmp_path / "copy"), "--store", str(store)]) == EXIT_STORE  # not empty
    assert "not empty" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders: nothing to test as root")
def test_a_read_only_store_folder_is_one_line_and_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                         sample_store: Path) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(sample_store, store)
    path = write_jsonl(tmp_path / "in.jsonl", short_articles(2, 200))
    for f in store.iterdir():
        f.chmod(0o444)
    store.chmod(0o555)
    try:
        assert main(["add", str(path), "--store", str(store)]) == EXIT_STORE
        assert "make the folder writable" in capsys.readouterr().err
    finally:
        store.chmod(0o755)


def test_tune_index_measures_keeps_and_sets_the_vector_search_settings(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                       sample_store: Path) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(sample_store, store)
    assert Store.open(store).sync_vectors("ivfpq").kind == "flat"  # too few passages to train PQ codes: exact
    assert Store.open(store, readonly=True).stats()["index_kind"] == "ivfpq"  # until the store has enough
    Store.open(store).sync_vectors("ivf")
    assert main(["tune-index", "--store", str(store), "--recall", "0.99", "--queries", "50"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "recall@10" in out and "chosen" in out
    reader = Store.open(store, readonly=True)  # another process sees the kept setting and searches with it
    chosen = reader.search_settings.nprobe
    assert reader.stats()["vector_search"] == {"nprobe": chosen} and chosen <= reader.vectors.nlist  # IVF's knob
    query = reader.exact_vectors(reader.vectors.ids()[:1])[1]
    reader.dense_search(query, 10)
    assert faiss.downcast_index(reader.vectors.index.index).nprobe == chosen
    assert main(["tune-index", "--store", str(store), "--nprobe", "3", "--refine", "4"]) == EXIT_OK
    assert Store.open(store, readonly=True).search_settings.nprobe == 3
    with pytest.raises(SystemExit) as exit_:
        main(["tune-index", "--store", str(store), "--recall", "1.5"])
    assert exit_.value.code == EXIT_USAGE and "at most 1" in capsys.readouterr().err


def test_the_summary_says_when_a_store_was_converted_and_a_closed_pipe_is_quiet(
        tmp_path: Path, capsys: pytest.CaptureFixture, sample_store: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys

    from tests.store.old_layouts import as_schema_4

    store = tmp_path / "store"
    shutil.copytree(sample_store, store)
    as_schema_4(store)
    path = write_jsonl(tmp_path / "one.jsonl", short_articles(1))
    assert main(["add", str(path), "--store", str(store)]) == EXIT_OK
    assert "converted from schema 4 to" in capsys.readouterr().out
    assert main(["add", str(path), "--store", str(store)]) == EXIT_OK
    assert "converted" not in capsys.readouterr().out
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first line (as `| head` after its lines)
    try:
        gone = subprocess.run([sys.executable, "-m", "search.cli", "query", "flood", "--store", str(store), "--json",
                               "--no-rerank", "--no-answers"], stdout=write, stderr=subprocess.PIPE, text=True,
                              timeout=300)
    finally:
        os.close(write)
    assert gone.returncode == 141 and gone.stderr == ""
