"""`news-search soup`: average a fine-tuned checkpoint's encoder with its base encoder (WiSE-FT)."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("soup", help="average a checkpoint's encoder weights with its base encoder (WiSE-FT)")
    p.add_argument("--model", required=True, help="the fine-tuned checkpoint folder")
    p.add_argument("--alpha", type=float, default=0.5, help="weight of the fine-tuned encoder (default 0.5)")
    p.add_argument("--out", required=True, help="folder for the averaged checkpoint")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from search.training.soup import interpolate_with_base

    folder = interpolate_with_base(args.model, args.alpha, args.out)
    print(f"wrote {folder}: encoder = {args.alpha} x {args.model} + {1 - args.alpha:g} x its base; heads as trained")
    return 0
