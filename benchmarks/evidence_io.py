"""What the benchmarks that read `news-search tune`'s cached evidence share: their flags and the loading of the
checkpoint, the base encoder and the collection plan (search/evaluation/collections.py)."""
from __future__ import annotations

import argparse


def evidence_setup(description: str):
    """Parse --model, --data and --cache (as `news-search tune` takes them) from the command line of a benchmark
    described by `description`, and load (model, base encoder, CollectionPlan) for them."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="checkpoint folder (default: the released one)")
    parser.add_argument("--data", default="../shared/data", help="data folder with the validation collections")
    parser.add_argument("--cache", default="runs/evidence", help="evidence cache (the one news-search tune uses)")
    args = parser.parse_args()

    from search.evaluation.collections import CollectionPlan
    from search.model.newsmodel import NewsModel

    model = NewsModel.load(args.model)
    base = NewsModel.from_base(model.config.base)
    return model, base, CollectionPlan(data_dir=args.data, cache=args.cache)
