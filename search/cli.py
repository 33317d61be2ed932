"""`news-search`: train and evaluate the model, serve the search page and API, query from the terminal.

Exit codes: 0 done; 2 bad arguments or input; 3 a store or model problem (no store, a store built by another
model, a checkpoint that cannot be loaded) — the same codes as `news-index`; 141 when the reader of the output
went away (`| head`).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from search.commands import ArgumentParser, reader_gone
from search.errors import NewsearchError, ResourceError

EXIT_USAGE, EXIT_STORE = 2, 3  # as news-index: 2 bad arguments or input, 3 a store or model problem

# modules under search/commands/, in help order
COMMANDS = ["train", "distill", "soup", "calibrate", "eval", "tune", "serve", "query", "watch"]


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """All subcommands, or just `only`: each command module imports what it needs, so `train` runs where the
    search stack (SQLite, FAISS, FastAPI) is not installed, such as a bare GPU machine."""
    parser = ArgumentParser(prog="news-search", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        if only in (None, name):
            importlib.import_module(f"search.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        return reader_gone()
    except ResourceError as exc:  # a store or model problem: the same code as news-index gives
        print(f"news-search: error: {exc}", file=sys.stderr)
        return EXIT_STORE
    except (NewsearchError, FileNotFoundError, ValueError) as exc:
        print(f"news-search: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
