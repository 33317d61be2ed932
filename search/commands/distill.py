"""`news-search distill`: fit the embedding head's projection towards the base encoder's vectors."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from search.training.recipe import ProjectionFit

    d = ProjectionFit()
    p = sub.add_parser("distill", help="fit the embedding head's projection towards the base encoder's vectors "
                       "(encoder and other heads unchanged)")
    p.add_argument("--model", help="the checkpoint to start from (default: the released one)")
    p.add_argument("--out", required=True, help="folder for the new checkpoint")
    p.add_argument("--data", default="../shared/data", help="data folder the unlabeled texts come from")
    p.add_argument("--teacher-share", type=float, default=d.teacher_share,
                   help=f"weight of the base's vector in the target, 0..1 (default {d.teacher_share})")
    p.add_argument("--ridge", type=float, default=d.ridge, help=f"L2 penalty on the weights (default {d.ridge})")
    p.add_argument("--texts", type=int, default=d.texts,
                   help=f"unlabeled training texts, half passages, half queries (default {d.texts})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os
    import time
    from pathlib import Path

    from rich.console import Console
    from rich.table import Table

    from search.model.checkpoint import load_recipe, save_checkpoint
    from search.model.base import default_checkpoint
    from search.model.newsmodel import NewsModel
    from search.training.embedding_distillation import distill_embedding, distillation_texts
    from search.training.recipe import ProjectionFit

    fit = ProjectionFit(args.teacher_share, args.ridge, args.texts)
    fit.check()
    if Path(args.out).resolve() == Path(args.model or default_checkpoint()).resolve():
        raise ValueError("--out is the checkpoint being read: write the new one to another folder")
    if Path(args.out).exists() and any(Path(args.out).iterdir()):
        raise ValueError(f"--out {args.out} already holds files: choose a new folder or remove that one")
    started = time.perf_counter()
    model = NewsModel.load(args.model)
    base = NewsModel.from_base(model.config.base)
    texts = distillation_texts(args.data, fit)
    measured = distill_embedding(model, base, texts, fit)
    recipe = load_recipe(model.name) | {"embedding_distillation": {
        "from": os.path.relpath(model.name), "from_model_id": model.model_id, "teacher_share": fit.teacher_share,
        "ridge": fit.ridge, "texts": len(texts), "seed": fit.seed}}
    folder = save_checkpoint(args.out, model.net, model.tokenizer, recipe)
    table = Table(title="embedding projection fitted")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("texts (training splits)", f"{len(texts):,}")
    table.add_row("teacher share / ridge", f"{fit.teacher_share:g} / {fit.ridge:g}")
    table.add_row("cosine to the base, before", f"{measured['cosine_to_base_before']:.3f}")
    table.add_row("cosine to the base, after", f"{measured['cosine_to_base_after']:.3f}")
    table.add_row("time", f"{time.perf_counter() - started:.0f} s")
    table.add_row("checkpoint", str(folder))
    table.add_row("next", f"news-search eval --model {folder}")
    Console().print(table)
    return 0
