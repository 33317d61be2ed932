"""Joining a Ray cluster — for the shard actors of `news-search serve --shards ray` and the annotating actors of
`news-index add --engine ray` — with one clear error instead of a traceback or a wait without end.

Ray 2.60's `ray.init` raises a ValueError on an address it cannot parse and a ConnectionError when "auto" finds
no cluster, but on a well-formed HOST:PORT where no Ray head answers it retries for minutes (measured:
`ray.init(address="127.0.0.1:1")` still retrying after 60 s). So an
address with a port is probed first: a Ray head's GCS (or a Ray Client server, `ray://`) is a gRPC server, and an
HTTP/2 server answers a client's connection preface with a SETTINGS frame (RFC 9113, section 3.4). Nothing
listening, or a listener that does not answer so (a web server, a database), is an error within about twice
`PROBE_TIMEOUT_S` (to connect, then to answer). Another gRPC or HTTP/2 server passes the probe and is left to
`ray.init` (e.g. a Ray Client port given without `ray://`). With `RAY_USE_TLS=1` the probe only opens the TCP
connection (the preface would go inside TLS).

Ray is an optional extra (`pip install -e ".[cpu,ray]"`); it is imported only when a function here is called.
"""
from __future__ import annotations

import logging
import os
import socket
from urllib.parse import urlsplit

from search.errors import NewsearchError
from search.store.errors import StoreError

PROBE_TIMEOUT_S = 5.0  # for the cluster's head to accept a connection and answer the HTTP/2 preface
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # frame header: length 0, type SETTINGS, stream 0
SETTINGS = 0x04  # the frame type byte (the 4th of a frame header) a server's first frame must have
ADDRESS_HELP = ("give auto (the cluster this machine joined with `ray start`), the HOST:PORT that `ray start "
                "--head` printed, or leave --ray-address out for a local Ray")


def connect(address: str | None, probe_timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Start a local Ray sized to this machine (`address` None and no RAY_ADDRESS set, as `ray.init` reads it),
    or join the cluster at `address` ("auto", "HOST:PORT", "ray://HOST:PORT"); nothing when this process already
    has Ray running. Ray's own logging stays quiet: the command prints its own progress.

    Raises NewsearchError when the address is malformed, StoreError when nothing answers as a Ray head at its
    HOST:PORT within `probe_timeout_s` seconds or Ray cannot join it: one line naming the address and what to
    give instead."""
    import ray

    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None  # what ray.init would join: probed the same
    # the commands print their own progress; Ray's start-up warnings (e.g. on token authentication) would cut it
    logging.getLogger("ray").setLevel(logging.ERROR)
    host_port = check_address(address)
    if host_port is not None:
        _probe(str(address), host_port, probe_timeout_s)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    except (ValueError, ConnectionError, RuntimeError) as exc:
        if address is None:
            raise StoreError(f"a local Ray could not start ({_first_line(exc)}); `ray stop` ends a half-started "
                             "one") from exc
        raise StoreError(f"--ray-address {address}: Ray cannot join it ({_first_line(exc)}); {ADDRESS_HELP}") from exc


def check_address(address: str | None) -> tuple[str, int] | None:
    """The (host, port) of `address` ("HOST:PORT" or "ray://HOST:PORT"); None for None and "auto". Cheap (no Ray
    import), so a command can check its flag before loading anything. NewsearchError when it is neither."""
    if address is None or address == "auto":
        return None
    try:
        parts = urlsplit(address if "://" in address else f"//{address}")
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number 0..65535
        host, port = None, None
    if not host or port is None or parts.scheme not in ("", "ray") or parts.path or parts.query:
        raise NewsearchError(f"--ray-address {address} is not auto or HOST:PORT; {ADDRESS_HELP}")
    return host, port


def _probe(address: str, host_port: tuple[str, int], timeout_s: float) -> None:
    """Whether `address`'s `host_port` answers as a gRPC server (module docstring); StoreError when not."""
    try:
        with socket.create_connection(host_port, timeout=timeout_s) as conn:
            if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
                return
            conn.sendall(HTTP2_PREFACE + EMPTY_SETTINGS)
            header = _read(conn, 9)
    except OSError as exc:
        raise StoreError(f"--ray-address {address}: no Ray cluster answers there ({exc.strerror or exc}); "
                         f"{ADDRESS_HELP}") from exc
    if len(header) < 9 or header[3] != SETTINGS:
        raise StoreError(f"--ray-address {address}: something answers there, but not a Ray cluster's head "
                         f"(no gRPC); {ADDRESS_HELP}")


def _read(conn: socket.socket, size: int) -> bytes:
    """Up to `size` bytes: fewer when the other side closes first."""
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _first_line(exc: Exception) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
