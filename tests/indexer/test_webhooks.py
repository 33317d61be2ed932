"""Watch webhooks against a real local HTTP server: the new matches of a `news-index add` are POSTed after the
run, a failed attempt is retried, and a webhook that stays down fails nothing — its matches wait, the summary and
the watch say why, and the next run delivers them."""
from __future__ import annotations

import json
import shutil
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from indexer.cli import EXIT_OK, main
from indexer.pipeline import Indexer, IndexerConfig
from indexer.readers import read_inputs
from indexer.webhooks import WebhookSettings
from search.model import NewsModel
from search.pipeline.watches import WatchRequest, save_watch
from search.store import Store
from tests.indexer.helpers import sample_records, write_jsonl

MARATHONS = ["wn-vat-2019-141", "wn-vat-2019-142"]


class Receiver:
    """A webhook receiver on a free local port answering each POST with the next status of `statuses` (then
    200), keeping the JSON bodies it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.bodies: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.bodies.append({"status": status, **body})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver([500])  # the first attempt fails
    yield server
    server.close()


def watched_copy(sample_store: Path, folder: Path, model: NewsModel, webhook: str) -> int:
    shutil.copytree(sample_store, folder)
    store = Store.open(folder)
    watch = save_watch(store, model, WatchRequest(query="marathon world record", name="Marathons",
                                                  webhook=webhook), datetime.now(timezone.utc))
    store.close()
    return watch.id


def test_new_matches_are_posted_after_the_run_and_a_failed_attempt_is_retried(
        sample_store: Path, tmp_path: Path, model: NewsModel, receiver: Receiver, capsys) -> None:
    folder = tmp_path / "store"
    watch_id = watched_copy(sample_store, folder, model, receiver.url)
    path = write_jsonl(tmp_path / "in.jsonl", sample_records(MARATHONS + ["wn-vat-2019-148"]))
    assert main(["add", str(path), "--store", str(folder)]) == EXIT_OK
    out = " ".join(capsys.readouterr().out.split())
    assert "new watch matches │ 2 (1 watches)" in out
    assert "webhook watch 1 (Marathons): 2 new matches delivered" in out
    assert [b["status"] for b in receiver.bodies] == [500, 200]  # retried at once, then received
    body = receiver.bodies[-1]
    assert body["watch"] == {"id": watch_id, "name": "Marathons", "query": "marathon world record",
                             "feed": f"/watches/{watch_id}/feed.xml"}
    assert {m["article_id"] for m in body["matches"]} == set(MARATHONS)
    assert all(m["title"] and m["url"].startswith("https://") and 0.6 <= m["score"] <= 1 for m in body["matches"])
    store = Store.open(folder, readonly=True)
    assert all(m.delivered for m in store.watch_matches(watch_id)[1])
    assert store.watch(watch_id).undelivered == 0


def test_a_webhook_that_stays_down_fails_nothing_and_the_next_run_delivers(sample_store: Path, tmp_path: Path,
                                                                           model: NewsModel) -> None:
    down = Receiver([503] * 3)  # every attempt of the first run fails
    try:
        folder = tmp_path / "store"
        watch_id = watched_copy(sample_store, folder, model, down.url)
        config = IndexerConfig(webhooks=WebhookSettings(retries=2, backoff_s=0.01))
        store = Store.open(folder)
        inputs = [str(write_jsonl(tmp_path / "in.jsonl", sample_records(MARATHONS)))]
        report = Indexer(store, model, config).add(read_inputs(inputs))
        assert report.added == 2 and report.watch_matches == 2  # indexing went through
        [delivery] = report.deliveries
        assert delivery.error and "503" in delivery.error and delivery.waiting == 2
        assert "will be sent again by the next run" in str(delivery)
        assert len(down.bodies) == 3 and store.watch(watch_id).webhook_error == delivery.error
        assert store.watch(watch_id).undelivered == 2

        again = Indexer(store, model, config).add(read_inputs(inputs))  # nothing new; the receiver is back
        assert again.unchanged == 2 and [str(d) for d in again.deliveries] == [
            f"watch {watch_id} (Marathons): 2 new matches delivered"]
        assert {m["article_id"] for m in down.bodies[-1]["matches"]} == set(MARATHONS)
        assert store.watch(watch_id).webhook_error is None and store.watch(watch_id).undelivered == 0
        assert Indexer(store, model, config).add(read_inputs(inputs)).deliveries == []  # nothing to send
    finally:
        down.close()
