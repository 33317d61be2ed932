"""`news-search eval`: quality of every head on the validation splits (or on splits given by path)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from search.commands import DefaultsHelpFormatter, add_runtime_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate a checkpoint: SQuAD, CoNLL, STS-B, topics, retrieval vs baselines, "
                                    "SQuADShifts; and the release gate against the current release",
                       description="Evaluate a checkpoint on the validation splits: every head, retrieval as "
                                   "/search ranks it beside BM25, the base encoder and a txtai-style hybrid, "
                                   "SQuADShifts, and the release gate.", formatter_class=DefaultsHelpFormatter)
    p.add_argument("--model", help="checkpoint folder (default: the released one)")
    p.add_argument("--data", default="../shared/data", help="data folder with the validation splits")
    p.add_argument("--tasks", default=",".join(("squad", "conll", "stsb", "topics", "retrieval", "squadshifts")),
                   help="comma-separated subset of: squad, conll, stsb, topics, retrieval, squadshifts")
    p.add_argument("--limit", type=int, default=0, help="cap examples per data set (quick looks)")
    p.add_argument("--squad", help="SQuAD-format JSON to evaluate on instead of the validation split")
    p.add_argument("--conll", help="CoNLL-format file instead of the validation split")
    p.add_argument("--stsb", help="STS-B TSV instead of the dev split")
    p.add_argument("--time", help="TIME-format folder (corpus.jsonl, queries_dev.tsv, qrels_dev.txt)")
    p.add_argument("--topics", help="JSONL of {category, title, body} instead of the BBC / AG News held-out parts")
    p.add_argument("--rerank-queries", type=int, default=100,
                   help="queries per collection that get the pair pass (the default pipeline's rows; 0 = skip them)")
    p.add_argument("--cache", default="runs/evidence",
                   help="folder for cached retrieval evidence, shared with `news-search tune` (\"\" = no cache)")
    p.add_argument("--out", default="eval.json", help="where to write the JSON results")
    p.add_argument("--into-model", action="store_true",
                   help="also store the results in the checkpoint's eval.json (what a release ships with): the "
                        "sections measured replace the stored ones, the others stay")
    add_runtime_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markdown import Markdown

    from search.evaluation.gate import release_gate
    from search.evaluation.report import markdown_report
    from search.model.base import default_checkpoint
    from search.evaluation.runner import EvalPlan, run_evaluation
    from search.model.checkpoint import load_recipe, save_evaluation
    from search.model.newsmodel import NewsModel
    from search.training.recipe import Recipe

    overrides = [f"--{name}" for name in ("squad", "conll", "stsb", "time", "topics") if getattr(args, name)]
    if args.into_model and (args.limit or overrides):
        raise ValueError("--into-model stores a release's figures, measured on the full validation splits: "
                         f"drop {' and '.join((['--limit'] if args.limit else []) + overrides)}, or drop --into-model")
    model = NewsModel.load(args.model, runtime=args.runtime)
    recipe = Recipe(**{k: v for k, v in load_recipe(model.name).items() if k in Recipe.__dataclass_fields__})
    plan = EvalPlan(data_dir=args.data, tasks=tuple(t.strip() for t in args.tasks.split(",") if t.strip()),
                    limit=args.limit, squad=args.squad, conll=args.conll, stsb=args.stsb, time=args.time,
                    topics=args.topics, base=model.config.base, recipe=recipe, rerank_queries=args.rerank_queries,
                    cache=args.cache or None)
    results = run_evaluation(model, plan)
    release_eval = default_checkpoint() / "eval.json"
    if release_eval.is_file():
        # figures this run did not measure come from the model's own stored eval.json, if it has one
        own = Path(model.name) / "eval.json"
        known = {**(json.loads(own.read_text()) if own.is_file() else {}), **results}
        results["release_gate"] = release_gate(known, json.loads(release_eval.read_text()))
    text = markdown_report(results)
    Console().print(Markdown(text))
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.out} ({results['seconds']} s)")
    if args.into_model:
        print(f"and stored in the checkpoint: {save_evaluation(model.name, results)}")
    return 0
