"""Joining a Ray cluster at a wrong address is one clear line, from the function and from both commands, and
never a wait without end (Ray itself retries an address where nothing listens for ever)."""
from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from search.cli import main as search_main
from search.errors import NewsearchError
from search.store.errors import StoreError
from search.store.ray_cluster import check_address, connect
from tests.indexer.helpers import short_articles, write_jsonl

ray = pytest.importorskip("ray")


@pytest.fixture
def closed_port() -> str:
    """HOST:PORT of a port that was free a moment ago: nothing listens there."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture(autouse=True)
def no_ray(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    if ray.is_initialized():  # another module's local Ray: connect would reuse it
        ray.shutdown()
    yield
    assert not ray.is_initialized()


@pytest.mark.parametrize("address, error, says", [
    ("bogus", NewsearchError, "is not auto or HOST:PORT"), ("host:port", NewsearchError, "is not auto or HOST:PORT"),
    ("auto", StoreError, "Ray cannot join it (Could not find any running Ray")])
def test_a_malformed_address_is_bad_input_and_no_cluster_a_store_error(address: str, error: type, says: str) -> None:
    with pytest.raises(error, match=r"--ray-address .*" + says.replace("(", r"\(")) as refused:
        connect(address)
    assert "\n" not in str(refused.value) and "leave --ray-address out for a local Ray" in str(refused.value)


def test_an_address_where_nothing_listens_fails_at_once(closed_port: str, monkeypatch: pytest.MonkeyPatch) -> None:
    start = time.perf_counter()
    with pytest.raises(StoreError, match=f"--ray-address {closed_port}: no Ray cluster answers there"):
        connect(closed_port)
    monkeypatch.setenv("RAY_ADDRESS", closed_port)  # what ray.init joins without an address: probed the same
    with pytest.raises(StoreError, match=f"--ray-address {closed_port}: no Ray cluster answers there"):
        connect(None)
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("address", ["http://h:1", "h:1/path", "ray://h", "[::1]"])
def test_only_host_port_or_ray_scheme_is_an_address(address: str) -> None:
    with pytest.raises(NewsearchError, match="is not auto or HOST:PORT"):
        check_address(address)
    assert check_address("ray://h:10001") == ("h", 10001) and check_address("[::1]:6379") == ("::1", 6379)


def test_a_ray_head_passes_the_probe_and_a_web_server_does_not() -> None:
    """The probe is the HTTP/2 preface a gRPC server (Ray's GCS) answers with SETTINGS; an HTTP/1 server listening
    at the address would otherwise leave `ray.init` retrying for minutes."""
    import http.server
    import threading

    from search.store.ray_cluster import _probe

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        gcs = ray.get_runtime_context().gcs_address
        _probe(gcs, check_address(gcs), 5)
    finally:
        ray.shutdown()
    web = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        start = time.perf_counter()
        with pytest.raises(StoreError, match="something answers there, but not a Ray cluster's head"):
            connect(f"127.0.0.1:{web.server_address[1]}")
        assert time.perf_counter() - start < 10
    finally:
        web.shutdown()


def test_both_commands_say_so_in_one_line_and_make_nothing(tmp_path: Path, closed_port: str,
                                                           capsys: pytest.CaptureFixture) -> None:
    from indexer.cli import main as index_main

    path = write_jsonl(tmp_path / "in.jsonl", short_articles(2))
    assert index_main(["add", str(path), "--store", str(tmp_path / "s"), "--engine", "ray",
                       "--ray-address", closed_port]) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("news-index: error: --ray-address") and "\n" not in err
    assert not (tmp_path / "s").exists()
    assert index_main(["add", str(path), "--store", str(tmp_path / "s"), "--shards", "2"]) == 0
    capsys.readouterr()
    assert search_main(["serve", "--store", str(tmp_path / "s"), "--shards", "ray", "--ray-address", "bogus"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--ray-address bogus is not auto or HOST:PORT" in err and "\n" not in err
    assert search_main(["serve", "--store", str(tmp_path / "s"), "--ray-address", closed_port]) == 2
    assert "--ray-address applies to --shards ray" in capsys.readouterr().err
