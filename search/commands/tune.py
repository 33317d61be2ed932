"""`news-search tune`: choose a checkpoint's ranking settings (fusion, weights, then the cheapest rerank depth,
margin and pair window that keep the quality) with one rule across the choosing collections, show how the choice
does on the reporting-only ones, and store it in the checkpoint."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from search.commands import DefaultsHelpFormatter, add_runtime_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tune", help="choose the ranking settings, answer threshold and relevance floor on validation "
                                    "collections",
                       description="Choose the ranking settings (fusion, alpha, rerank weight, second-passage "
                                   "share) at a depth-30 whole-passage rerank, then the cheapest rerank depth, "
                                   "margin and pair window within 0.5%% of it (answers within 1%%), and the "
                                   "answer confidence threshold, with one rule across the choosing collections; "
                                   "report the held-out one, and optionally store the choice in the checkpoint.",
                       formatter_class=DefaultsHelpFormatter)
    p.add_argument("--model", help="checkpoint folder (default: the released one)")
    p.add_argument("--data", default="../shared/data", help="data folder with the validation collections")
    p.add_argument("--queries", type=int, default=100, help="queries per collection that get the pair pass")
    p.add_argument("--paragraphs", type=int, default=1000, help="paragraphs drawn from each SQuADShifts file")
    p.add_argument("--answer-questions", type=int, default=1000,
                   help="SQuAD validation questions whose answers (in passage-sized contexts) judge each pair window")
    p.add_argument("--limit", type=int, default=0, help="cap SQuAD and SQuADShifts paragraphs (quick looks)")
    p.add_argument("--time", help="TIME-format folder instead of the shared one")
    p.add_argument("--cache", default="runs/evidence", help="folder for cached retrieval evidence (\"\" = none)")
    p.add_argument("--out", default="tune.json", help="where to write the choice and its ratios as JSON")
    p.add_argument("--into-model", action="store_true",
                   help="store the chosen settings in the checkpoint's newsearch.json (what search then uses)")
    add_runtime_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from search.evaluation.answers import choose_answer_threshold
    from search.evaluation.collections import CHOOSING, REPORTING, CollectionPlan, evidence_for, read_collection, \
        save_evidence
    from search.evaluation.floor import choose_relevance_floor
    from search.evaluation.topic_floor import choose_topic_confidence
    from search.evaluation.qa import evaluate_qa, passage_sized, sample_questions
    from search.evaluation.retrieval import bm25_run
    from search.evaluation.tuning import CostGrid, choose_cost, choose_settings, ratios_to_bm25
    from search.model.checkpoint import save_model_settings
    from search.model.newsmodel import NewsModel
    from search.training.data import read_squad
    from search.training.materials import SQUAD_VALID, data_path, load_topics
    from search.training.recipe import Recipe

    if args.queries < 1 or args.answer_questions < 1:
        raise ValueError(f"--queries and --answer-questions must be at least 1 (got {args.queries}, "
                         f"{args.answer_questions}): the rule compares reranked queries and read answers")
    if args.into_model and (args.limit or args.time):
        raise ValueError("--into-model stores a release's settings, chosen on the full validation collections: "
                         "drop --limit / --time, or drop --into-model")
    model = NewsModel.load(args.model, runtime=args.runtime)
    base = NewsModel.from_base(model.config.base, device=str(model.device))
    plan = CollectionPlan(data_dir=args.data, time=args.time, squad_limit=args.limit,
                          shift_paragraphs=args.limit or args.paragraphs, pair_queries=args.queries,
                          cache=args.cache or None)
    evidence = {name: evidence_for(plan, name, model, base) for name in CHOOSING + REPORTING}
    bm25 = {name: bm25_run(read_collection(plan, name)) for name in evidence}
    choosing = [evidence[n] for n in CHOOSING]
    grid = CostGrid()
    squad = read_squad(data_path(args.data, SQUAD_VALID))
    passage_tokens = model.config.max_passage_tokens - 2  # word pieces of a whole passage ([CLS], [SEP] out)
    contexts = sample_questions(passage_sized(squad[:args.limit] if args.limit else squad, model.tokenizer,
                                              passage_tokens), args.answer_questions)
    try:
        tuned = choose_settings(choosing, bm25, candidates=plan.candidates)
        answer_f1 = {w: evaluate_qa(model, contexts, w)["f1"] for w in grid.pair_window}
        cost = choose_cost(choosing, bm25, tuned.settings, answer_f1, grid)
        chosen = cost.settings
        held_out = ratios_to_bm25([evidence[n] for n in REPORTING], bm25, chosen)
        answers = choose_answer_threshold(evidence["SQuAD"], model, chosen)
        floor = choose_relevance_floor(choosing, chosen)
        recipe = Recipe()  # its held-out fractions of BBC and AG News, as eval's topics task
        topics = choose_topic_confidence(model, load_topics(args.data, recipe.val_fraction_bbc,
                                                            recipe.val_fraction_ag, True)[:args.limit or None])
    finally:
        for ev in evidence.values():
            save_evidence(ev)
    report = {"model": model.name, "runtime": model.runtime,
              "rule": "max over settings of min over choosing collections of nDCG@10(default pipeline) / "
                      f"nDCG@10(BM25), on a sample of {args.queries} queries each",
              "chosen": asdict(chosen), "reference": asdict(tuned.settings), "worst_ratio": tuned.worst_ratio,
              "choosing": tuned.ratios, "chosen_choosing": ratios_to_bm25(choosing, bm25, chosen),
              "reporting_only": held_out, "settings_tried": tuned.tried,
              "runners_up": [{"settings": asdict(s), "worst_ratio": v} for s, v in tuned.runners_up],
              "cost_rule": f"fewest word pieces read per query (rerank_depth, rerank_margin, pair_window) whose "
                           f"nDCG@10 averaged over the choosing collections (each / the reference's) and worst "
                           f"ratio to BM25 are >= {1 - grid.ranking_tolerance:g} "
                           f"x the reference's, and SQuAD F1 >= {1 - grid.answer_tolerance:g} x whole passages",
              "answer_f1_by_window": {"questions": sum(len(p.qas) for p in contexts), **answer_f1},
              "cost": cost.rows, "min_answer_confidence": asdict(answers), "min_relevance": asdict(floor),
              "min_topic_confidence": asdict(topics)}
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"quality: chosen from {tuned.tried} settings at rerank depth {tuned.settings.rerank_depth}, whole passages")
    by_window = ", ".join(f"{w or 'whole'} {f:.1f}" for w, f in answer_f1.items())
    print(f"cost: rerank depth {chosen.rerank_depth}, rerank margin {chosen.rerank_margin:g}, pair window "
          f"{chosen.pair_window or 'whole passages'} (SQuAD F1 by window: {by_window})")
    print(f"chosen: {json.dumps(asdict(chosen))}")
    for name, ratio in report["chosen_choosing"].items():
        print(f"  {name:<28} default / BM25 nDCG@10 {ratio:.3f}  (choosing; reference {tuned.ratios[name]:.3f})")
    for name, ratio in held_out.items():
        print(f"  {name:<28} default / BM25 nDCG@10 {ratio:.3f}  (reporting only)")
    print(f"answers shown from confidence {answers.threshold:g} (SQuAD validation, {answers.pairs} pairs: F1 "
          f"{answers.f1:.3f} of showing an answer where the paragraph holds one; P {answers.precision:.3f}, "
          f"R {answers.recall:.3f})")
    print(f"weak matches below pair score {floor.floor:g} (keeps "
          f"{', '.join(f'{n} {v:.0%}' for n, v in floor.kept.items())} of the relevant results shown in a top 10)")
    print(f"topic \"other\" below confidence {topics.threshold:g} (held-out BBC / AG News: {topics.recall:.0%} of "
          f"the right labels kept, precision of a kept label {topics.precision:.3f})")
    print(f"written to {args.out}")
    if args.into_model:
        path = save_model_settings(model.name, {"ranking": asdict(chosen), "min_answer_confidence": answers.threshold,
                                                "min_relevance": floor.floor,
                                                "min_topic_confidence": topics.threshold})
        print(f"stored in the checkpoint: {path}")
    return 0
