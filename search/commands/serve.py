"""`news-search serve`: the API and the search page on uvicorn, model and index loaded once."""
from __future__ import annotations

import argparse

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
    add_runtime_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the model and the store, then serve until stopped."""
    import uvicorn

    from search.api import create_app

    if args.passes < 1:
        raise ValueError(f"--passes must be at least 1, got {args.passes}")
    app = create_app(args.store, args.model, passes=args.passes, runtime=args.runtime)  # fails here, before binding the port, on a bad store or model
    print(f"newsearch: serving {args.store} on http://{args.host}:{args.port}/ (API docs at /docs)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
