"""`news-search`: train and evaluate the model, serve the search page and API, query from the terminal."""
from __future__ import annotations

import argparse
import importlib
import sys

from search.model.errors import ModelLoadError
from search.store.errors import StoreError

COMMANDS = ["train", "soup", "eval", "serve", "query"]  # modules under search/commands/, in help order


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="news-search", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"search.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ModelLoadError, StoreError, FileNotFoundError, ValueError) as exc:
        print(f"news-search: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
