"""`news-search serve`: the API and the search page on uvicorn, model and index loaded once."""
from __future__ import annotations

import argparse

from search.api.settings import DEFAULT_DEADLINE_S, DEFAULT_MAX_WAITING, ServeSettings
from search.commands import add_runtime_option


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
    p.add_argument("--max-waiting", type=int, default=DEFAULT_MAX_WAITING,
                   help="searches that may wait for a pair pass beyond those running one; more get 503 with "
                        f"Retry-After at once (default: {DEFAULT_MAX_WAITING}; 0: none may wait)")
    p.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE_S,
                   help="seconds a search may wait for its pair pass before it gets 503 "
                        f"(default: {DEFAULT_DEADLINE_S:g})")
    add_runtime_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the model and the store, then serve until stopped."""
    import uvicorn

    from search.api import create_app

    for flag, value, low in (("--passes", args.passes, 1), ("--max-waiting", args.max_waiting, 0)):
        if value < low:
            raise ValueError(f"{flag} must be at least {low}, got {value}")
    if args.deadline <= 0:
        raise ValueError(f"--deadline must be more than 0 seconds, got {args.deadline:g}")
    settings = ServeSettings(passes=args.passes, runtime=args.runtime, max_waiting=args.max_waiting,
                             deadline_s=args.deadline)
    app = create_app(args.store, args.model, settings)  # fails here, before binding the port, on a bad store or model
    print(f"newsearch: serving {args.store} on http://{args.host}:{args.port}/ (API docs at /docs)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
