"""`news-search calibrate`: measure the activations the int8 pair pass smooths, and save its scales beside the
checkpoint (search/model/int8.py)."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search.training.recipe import Recipe

DEFAULT_PAIRS = 512


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="save the smoothing scales the torch-int8 runtime needs into a checkpoint "
                       "(measured on training pairs)")
    p.add_argument("--model", help="the checkpoint folder (default: the released one); the scales go into its "
                   "int8/ folder")
    p.add_argument("--data", default="../shared/data", help="data folder the training pairs come from")
    p.add_argument("--pairs", type=int, default=DEFAULT_PAIRS,
                   help=f"(query, passage) pairs to measure, half matching, half not (default {DEFAULT_PAIRS})")
    p.set_defaults(func=run)


def calibration_pairs(data_dir: str, n: int, recipe: "Recipe", seed: int = 0) -> tuple[list[str], list[str]]:
    """`n` (query, passage) pairs from training splits only (BBC's held-out share as the checkpoint's `recipe`
    set it): SQuAD training questions with their own paragraph and, for the other half, with a BBC training
    article (not matching); (queries, passages)."""
    import random

    from search.training.data import read_squad
    from search.training.materials import SQUAD_TRAIN, data_path, load_topics

    rng = random.Random(seed)
    paragraphs = [p for p in read_squad(data_path(data_dir, SQUAD_TRAIN)) if p.qas]
    news = [t for t in load_topics(data_dir, recipe.val_fraction_bbc, recipe.val_fraction_ag, validation=False)
            if t.source == "bbc"]
    half = n // 2
    chosen = rng.sample(paragraphs, min(n - half, len(paragraphs)))
    queries = [p.qas[0].question for p in chosen]
    passages = [p.context for p in chosen]
    for p, article in zip(rng.sample(paragraphs, min(half, len(paragraphs))), rng.sample(news, min(half, len(news)))):
        queries.append(p.qas[0].question)
        passages.append(article.body)
    return queries, passages


def run(args: argparse.Namespace) -> int:
    import time

    from rich.console import Console
    from rich.table import Table

    from search.model.checkpoint import load_recipe
    from search.model.int8 import ALPHA, calibrate, int8_pair_net, save_scales, smoothing_scales
    from search.model.newsmodel import NewsModel
    from search.training.recipe import Recipe

    if args.pairs < 2:
        raise ValueError(f"--pairs must be at least 2 (got {args.pairs}): half match, half do not")
    started = time.perf_counter()
    model = NewsModel.load(args.model, device="cpu", runtime="torch")
    recipe = Recipe(**{k: v for k, v in load_recipe(model.name).items() if k in Recipe.__dataclass_fields__})
    queries, passages = calibration_pairs(args.data, args.pairs, recipe)
    seen = calibrate(model.net, lambda: model.score_pair_list(queries, passages))
    scales = smoothing_scales(model.net, seen, ALPHA)
    path = save_scales(model.name, scales)
    # how far the int8 pass moves the relevance on a few of these pairs: a quick sanity figure, not the
    # quality check (that is benchmarks/compare_runtimes.py and `news-search eval --runtime torch-int8`)
    probe = slice(0, min(64, len(queries)))
    before = [s.relevance for s in model.score_pair_list(queries[probe], passages[probe])]
    model.pair_pass = int8_pair_net(model.net, scales).pair
    after = [s.relevance for s in model.score_pair_list(queries[probe], passages[probe])]
    table = Table(title="int8 pair pass calibrated")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("pairs measured (training splits)", f"{len(queries):,}")
    table.add_row("Linear layers smoothed to int8", f"{len(scales)}")
    table.add_row("mean |relevance change| (64 pairs)",
                  f"{sum(abs(a - b) for a, b in zip(before, after)) / len(before):.4f}")
    table.add_row("time", f"{time.perf_counter() - started:.0f} s")
    table.add_row("scales", str(path))
    table.add_row("next", f"news-search serve --model {model.name} --runtime torch-int8")
    Console().print(table)
    return 0
