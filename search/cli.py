"""`news-search`: train and evaluate the model, serve the search page and API, query from the terminal."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from search.model.errors import ModelLoadError


def _train(args: argparse.Namespace) -> int:
    from search.training.recipe import Recipe
    from search.training.trainer import Trainer
    from search.training.summary import print_train_summary

    recipe = Recipe.from_file(args.recipe) if args.recipe else Recipe()
    if args.data:
        recipe.data_dir = args.data
    if args.max_steps:
        recipe.max_steps = args.max_steps
    if args.limit:
        recipe.limit = args.limit
    if args.base:
        recipe.base = args.base
    report = Trainer(recipe, args.out, resume=args.resume).run()
    print_train_summary(report, recipe)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="news-search", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="fine-tune the encoder and its five heads on the real data sets")
    train.add_argument("--recipe", help="JSON file with Recipe fields (default: the built-in recipe)")
    train.add_argument("--data", help="data folder (default: ../shared/data)")
    train.add_argument("--out", default="runs/train", help="run folder: resumable state and checkpoint/")
    train.add_argument("--base", help="encoder to start from: a folder or a model name (default: packaged MiniLM)")
    train.add_argument("--max-steps", type=int, help="override the recipe's number of steps")
    train.add_argument("--limit", type=int, help="cap examples per data set (tiny runs)")
    train.add_argument("--resume", action="store_true", help="continue from the run folder's last state")
    train.set_defaults(func=_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ModelLoadError, FileNotFoundError, ValueError) as exc:
        print(f"news-search: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
