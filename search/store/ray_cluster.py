"""Joining a Ray cluster — for the shard actors of `news-search serve --shards ray` and the annotating actors of
`news-index add --engine ray` — with one clear error instead of a traceback or a wait without end.

Ray 2.60's `ray.init` raises a ValueError on an address it cannot parse and a ConnectionError when "auto" finds
no cluster, but on a well-formed HOST:PORT where no Ray head listens it retries the connection for ever (measured:
`ray.init(address="127.0.0.1:1")` still retrying after 60 s). So an address with a port is first probed with a
plain TCP connection: nothing listening there is an error within `PROBE_TIMEOUT_S`.

Ray is an optional extra (`pip install -e ".[cpu,ray]"`); it is imported only when a function here is called.
"""
from __future__ import annotations

import logging
import socket
from urllib.parse import urlsplit

from search.store.errors import StoreError

PROBE_TIMEOUT_S = 5.0  # for the cluster's head to accept a TCP connection
ADDRESS_HELP = ("give auto (the cluster this machine joined with `ray start`), the HOST:PORT that `ray start "
                "--head` printed, or leave --ray-address out for a local Ray")


def connect(address: str | None, probe_timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Start a local Ray sized to this machine (`address` None), or join the cluster at `address` ("auto",
    "HOST:PORT", "ray://HOST:PORT"); nothing when this process already has Ray running. Ray's own logging stays
    quiet: the command prints its own progress.

    Raises StoreError (one line naming the address and what to give instead) when the address is malformed,
    nothing accepts a connection at its HOST:PORT within `probe_timeout_s` seconds, or Ray cannot join it."""
    import ray

    if ray.is_initialized():
        return
    # the commands print their own progress; Ray's start-up warnings (e.g. on token authentication) would cut it
    logging.getLogger("ray").setLevel(logging.ERROR)
    if address and address != "auto":
        _probe(address, probe_timeout_s)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    except (ValueError, ConnectionError, RuntimeError) as exc:
        raise StoreError(f"--ray-address {address}: Ray cannot join it ({_first_line(exc)}); {ADDRESS_HELP}") from exc


def _probe(address: str, timeout_s: float) -> None:
    """A TCP connection to `address`'s host and port, closed at once; StoreError when there is none."""
    try:
        parts = urlsplit(address if "://" in address else f"//{address}")
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number 0..65535
        host, port = None, None
    if not host or port is None:
        raise StoreError(f"--ray-address {address} is not auto or HOST:PORT; {ADDRESS_HELP}")
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        raise StoreError(f"--ray-address {address}: no Ray cluster answers there ({exc.strerror or exc}); "
                         f"{ADDRESS_HELP}") from exc


def _first_line(exc: Exception) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
