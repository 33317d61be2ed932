"""`news-search train`: fine-tune the encoder and its five heads on the real data sets."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="fine-tune the encoder and its five heads on the real data sets")
    p.add_argument("--recipe", help="JSON file with Recipe fields (default: the built-in full recipe)")
    p.add_argument("--data", help="data folder (default: the recipe's, ../shared/data)")
    p.add_argument("--out", default="runs/train", help="run folder: resumable state and checkpoint/")
    p.add_argument("--base", help="encoder to start from: a folder or a model name (default: packaged MiniLM)")
    p.add_argument("--init", help="a newsearch checkpoint folder to continue training (encoder and heads)")
    p.add_argument("--max-steps", type=int, help="override the recipe's number of steps")
    p.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="also stop after this many seconds of training, with the learning rate fully decayed")
    p.add_argument("--limit", type=int, help="cap examples per data set (tiny runs)")
    p.add_argument("--resume", action="store_true", help="continue from the run folder's last state")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from search.training.recipe import Recipe
    from search.training.summary import print_train_summary
    from search.training.trainer import Trainer

    recipe = Recipe.from_file(args.recipe) if args.recipe else Recipe()
    for field, value in (("data_dir", args.data), ("max_steps", args.max_steps),
                         ("time_budget_s", args.time_budget), ("limit", args.limit),
                         ("base", args.base), ("init", args.init)):
        if value:
            setattr(recipe, field, value)
    recipe.check()
    report = Trainer(recipe, args.out, resume=args.resume).run()
    print_train_summary(report, recipe)
    return 0
