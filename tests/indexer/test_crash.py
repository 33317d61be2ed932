"""A `news-index add` killed with SIGKILL mid-run leaves a store that the same command finishes."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from indexer.pipeline import Indexer
from indexer.readers import read_inputs
from search.model import NewsModel
from search.store import Store
from tests.indexer.helpers import assert_consistent, short_articles, write_jsonl
from tests.indexer.kill_loop import committed, kill_loop, start_add

ARTICLES = 60


def wait_for_commits(proc: subprocess.Popen, db: Path, count: int) -> None:
    deadline = time.monotonic() + 240
    while committed(db) < count and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)


def test_sigkill_mid_add_then_rerun_completes_and_agrees(tmp_path: Path, model: NewsModel) -> None:
    folder = tmp_path / "store"
    first = write_jsonl(tmp_path / "first.jsonl", short_articles(10))
    Indexer(Store.open(folder, create=True), model).add(read_inputs([str(first)]))  # a saved vector file exists
    path = write_jsonl(tmp_path / "in.jsonl", short_articles(ARTICLES))
    proc = start_add(path, folder, batch_passages=2)
    wait_for_commits(proc, folder / "store.db", 14)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = committed(folder / "store.db")
    assert 14 <= done < ARTICLES, "the kill should land in the middle of the run"

    store = Store.open(folder)
    report = Indexer(store, model).add(read_inputs([str(path)]))
    assert report.unchanged == done and report.added == ARTICLES - done
    assert len(assert_consistent(folder)) == store.stats()["passages"] >= ARTICLES


def test_ctrl_c_mid_add_exits_130_with_store_and_vectors_agreeing(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    # many more articles than the kill test: the run must still be going when the signal lands (with 60, a
    # fast run sometimes finished between the fourth commit being seen and the signal)
    articles = 8 * ARTICLES  # 480 of the sample's 497
    proc = start_add(write_jsonl(tmp_path / "in.jsonl", short_articles(articles)), folder, batch_passages=2)
    wait_for_commits(proc, folder / "store.db", 4)
    assert proc.poll() is None, "the run ended before the signal could be sent"
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait() == 130
    assert 4 <= committed(folder / "store.db") < articles
    assert_consistent(folder)


def test_three_kills_at_random_moments_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    """The suite's kill loop (benchmarks/kill_loop.py runs 20 on a larger input)."""
    records = short_articles(ARTICLES)
    path = write_jsonl(tmp_path / "in.jsonl", records)
    report = kill_loop(path, [r["id"] for r in records], tmp_path / "store", kills=3, seed=1, batch_passages=2,
                       max_delay_s=1.0)
    assert report.kills + report.finished_early == 3 and report.kills >= 1
    assert report.final_exit == 0 and report.lost == [] and report.duplicated == 0
    assert report.articles_stored == ARTICLES and report.problems == {}
