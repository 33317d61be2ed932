"""`news-search serve`: the API and the search page on uvicorn, model and index loaded once."""
from __future__ import annotations

import argparse
import importlib.util
import logging
from pathlib import Path

from search.api.settings import DEFAULT_DEADLINE_S, DEFAULT_MAX_WAITING, DEFAULT_PAIR_NICE, ServeSettings
from search.commands import add_rerank_options, add_runtime_option
from search.pipeline.priority import MAX_NICE
from search.pipeline.validate import Naming, validate_rerank
from search.store.ray_cluster import check_address

LOOPBACK = ("127.0.0.1", "localhost", "::1")
SERVE_NAMES = Naming({"rerank_depth": "--rerank-depth", "pair_window": "--pair-window",
                      "rerank_margin": "--rerank-margin"}, "")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `serve` subcommand to the `news-search` parser."""
    p = sub.add_parser("serve", help="serve the search page and the HTTP API")
    p.add_argument("--store", default="store", help="index folder written by news-index (default: ./store)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--model", help="checkpoint folder (default: $NEWSEARCH_MODEL or data/models/newsearch-minilm)")
    p.add_argument("--passes", type=int, default=1,
                   help="encoder passes run at once; more searches wait for a slot (default: 1, which keeps a "
                        "CPU's cores from being shared by several passes; see benchmarks/bench_concurrency.py)")
    p.add_argument("--pair-nice", type=int, default=DEFAULT_PAIR_NICE, metavar="0-19",
                   help="run the pair passes this much below normal CPU priority (Linux nice value), so that "
                        "other searches' retrieval and first results get the cores first "
                        f"(default: {DEFAULT_PAIR_NICE}; 0: normal priority)")
    p.add_argument("--max-waiting", type=int, default=DEFAULT_MAX_WAITING,
                   help="searches that may wait for a pair pass beyond those running one; more get 503 with "
                        f"Retry-After at once (default: {DEFAULT_MAX_WAITING}; 0: none may wait)")
    p.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE_S,
                   help="seconds a search may wait for its pair pass before it gets 503 "
                        f"(default: {DEFAULT_DEADLINE_S:g})")
    p.add_argument("--api-key-file", metavar="FILE",
                   help="file holding the API key every API request must send as `Authorization: Bearer <key>` "
                        "(needed to listen on any address but this machine's own)")
    p.add_argument("--insecure-no-auth", action="store_true",
                   help="listen on another address without an API key (anyone who reaches it can use it)")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="let pages from ORIGIN (e.g. https://newsroom.example) call the API; repeatable; "
                        "default: none")
    p.add_argument("--shards", choices=["threads", "ray"], default="threads",
                   help="a sharded store's shards: read by threads of this process (default), or each by a Ray "
                        "actor, on any node that reaches the store's folder at the same path (needs "
                        "`pip install -e \".[cpu,ray]\"`)")
    p.add_argument("--ray-address", default=None, metavar="auto|HOST:PORT",
                   help="--shards ray: an existing Ray cluster (default: start a local Ray)")
    add_rerank_options(p, "the model's setting; a request's rerank_depth / rerank_margin / pair_window "
                          "overrides it")
    add_runtime_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the model and the store, then serve until stopped."""
    for flag, value, low in (("--passes", args.passes, 1), ("--max-waiting", args.max_waiting, 0)):
        if value < low:
            raise ValueError(f"{flag} must be at least {low}, got {value}")
    if not 0 <= args.pair_nice <= MAX_NICE:
        raise ValueError(f"--pair-nice must be between 0 and {MAX_NICE}, got {args.pair_nice}")
    if args.deadline <= 0:
        raise ValueError(f"--deadline must be more than 0 seconds, got {args.deadline:g}")
    api_key = _api_key(args)
    if args.ray_address and args.shards != "ray":  # serving without the cluster would hide that it was never used
        raise ValueError("--ray-address applies to --shards ray; add --shards ray or leave it out")
    if args.shards == "ray" and importlib.util.find_spec("ray") is None:
        raise ValueError('--shards ray needs Ray: pip install -e ".[cpu,ray]"')
    check_address(args.ray_address)
    validate_rerank(args.rerank_depth, args.pair_window, args.rerank_margin, names=SERVE_NAMES)
    import uvicorn  # after the checks above: importing the API (torch) takes seconds

    from search.api import create_app
    from search.api.middleware import MAX_HEADER_BYTES

    settings = ServeSettings(passes=args.passes, pair_nice=args.pair_nice, runtime=args.runtime,
                             max_waiting=args.max_waiting, deadline_s=args.deadline, api_key=api_key,
                             cors_origins=args.cors_origin, shards=args.shards, ray_address=args.ray_address,
                             rerank_depth=args.rerank_depth, pair_window=args.pair_window,
                             rerank_margin=args.rerank_margin)
    app = create_app(args.store, args.model, settings)  # fails here, before binding the port, on a bad store or model
    print(f"newsearch: serving {args.store} on http://{args.host}:{args.port}/ (API docs at /docs)", flush=True)
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # one JSON line per request on stderr
    logging.getLogger("newsearch.access").setLevel(logging.INFO)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                h11_max_incomplete_event_size=MAX_HEADER_BYTES)
    return 0


def _api_key(args: argparse.Namespace) -> str | None:
    """The key from --api-key-file; ValueError when another address would be served without one."""
    if args.api_key_file:
        key = Path(args.api_key_file).read_text(encoding="utf-8").strip()
        if len(key) < 16:
            raise ValueError(f"--api-key-file {args.api_key_file}: the key has {len(key)} characters; use at least "
                             "16, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))' > FILE`")
        return key
    if args.host not in LOOPBACK and not args.insecure_no_auth:
        raise ValueError(f"--host {args.host} lets other machines in: give --api-key-file FILE (a key they must "
                         "send), or --insecure-no-auth to serve them without one")
    return None
    return 0
