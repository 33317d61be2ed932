"""`news-search tune`: choose a checkpoint's ranking settings (fusion, weights, depths) with one rule across the
choosing collections, show how the choice does on the reporting-only ones, and store it in the checkpoint."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from search.commands import DefaultsHelpFormatter


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tune", help="choose the ranking settings on validation collections (max-min ratio to BM25)",
                       description="Choose the ranking settings (fusion, alpha, rerank depth and weight, "
                                   "second-passage share) and the answer confidence threshold with one rule across "
                                   "the choosing collections, report the held-out one, and optionally store the "
                                   "choice in the checkpoint.", formatter_class=DefaultsHelpFormatter)
    p.add_argument("--model", help="checkpoint folder (default: the released one)")
    p.add_argument("--data", default="../shared/data", help="data folder with the validation collections")
    p.add_argument("--queries", type=int, default=100, help="queries per collection that get the pair pass")
    p.add_argument("--paragraphs", type=int, default=1000, help="paragraphs drawn from each SQuADShifts file")
    p.add_argument("--limit", type=int, default=0, help="cap SQuAD and SQuADShifts paragraphs (quick looks)")
    p.add_argument("--time", help="TIME-format folder instead of the shared one")
    p.add_argument("--cache", default="runs/evidence", help="folder for cached retrieval evidence (\"\" = none)")
    p.add_argument("--out", default="tune.json", help="where to write the choice and its ratios as JSON")
    p.add_argument("--into-model", action="store_true",
                   help="store the chosen settings in the checkpoint's newsearch.json (what search then uses)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from search.evaluation.answers import choose_answer_threshold
    from search.evaluation.collections import CHOOSING, REPORTING, CollectionPlan, evidence_for, read_collection, \
        save_evidence
    from search.evaluation.retrieval import bm25_run
    from search.evaluation.tuning import choose_settings, ratios_to_bm25
    from search.model.checkpoint import save_model_settings
    from search.model.newsmodel import NewsModel

    if args.queries < 1:
        raise ValueError(f"--queries must be at least 1 (got {args.queries}): the rule compares reranked queries")
    if args.into_model and (args.limit or args.time):
        raise ValueError("--into-model stores a release's settings, chosen on the full validation collections: "
                         "drop --limit / --time, or drop --into-model")
    model = NewsModel.load(args.model)
    base = NewsModel.from_base(model.config.base, device=str(model.device))
    plan = CollectionPlan(data_dir=args.data, time=args.time, squad_limit=args.limit,
                          shift_paragraphs=args.limit or args.paragraphs, pair_queries=args.queries,
                          cache=args.cache or None)
    evidence = {name: evidence_for(plan, name, model, base) for name in CHOOSING + REPORTING}
    bm25 = {name: bm25_run(read_collection(plan, name)) for name in evidence}
    choosing = [evidence[n] for n in CHOOSING]
    try:
        tuned = choose_settings(choosing, bm25, candidates=plan.candidates)
        held_out = ratios_to_bm25([evidence[n] for n in REPORTING], bm25, tuned.settings)
        answers = choose_answer_threshold(evidence["SQuAD"], model, tuned.settings)
    finally:
        for ev in evidence.values():
            save_evidence(ev)
    report = {"model": model.name, "rule": "max over settings of min over choosing collections of "
                                           "nDCG@10(default pipeline) / nDCG@10(BM25), on a "
                                           f"sample of {args.queries} queries each",
              "chosen": asdict(tuned.settings), "worst_ratio": tuned.worst_ratio, "choosing": tuned.ratios,
              "reporting_only": held_out, "settings_tried": tuned.tried,
              "runners_up": [{"settings": asdict(s), "worst_ratio": v} for s, v in tuned.runners_up],
              "min_answer_confidence": asdict(answers)}
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"chosen from {tuned.tried} settings: {json.dumps(asdict(tuned.settings))}")
    for name, ratio in tuned.ratios.items():
        print(f"  {name:<28} default / BM25 nDCG@10 {ratio:.3f}  (choosing)")
    for name, ratio in held_out.items():
        print(f"  {name:<28} default / BM25 nDCG@10 {ratio:.3f}  (reporting only)")
    print(f"answers shown from confidence {answers.threshold:g} (SQuAD validation, {answers.pairs} pairs: F1 "
          f"{answers.f1:.3f} of showing an answer where the paragraph holds one; P {answers.precision:.3f}, "
          f"R {answers.recall:.3f})")
    print(f"written to {args.out}")
    if args.into_model:
        path = save_model_settings(model.name, {"ranking": asdict(tuned.settings),
                                                "min_answer_confidence": answers.threshold})
        print(f"stored in the checkpoint: {path}")
    return 0
