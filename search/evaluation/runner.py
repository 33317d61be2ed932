"""Run the evaluations on the validation splits (or on files given by path) and collect one result dict."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from search.evaluation.collections import (CHOOSING, REPORTING, SHIFTS, CollectionPlan, evidence_for,
                                           read_collection, save_evidence, shift_paragraphs)
from search.evaluation.qa import evaluate_qa
from search.evaluation.ranking import collection_table
from search.evaluation.retrieval import bm25_run
from search.evaluation.similarity import evaluate_sts
from search.evaluation.tagging import evaluate_tagging
from search.evaluation.topics import evaluate_topics
from search.model.newsmodel import NewsModel
from search.training import data as D
from search.training.materials import SQUAD_VALID, data_path, load_topics
from search.training.recipe import Recipe

TASKS = ("squad", "conll", "stsb", "topics", "retrieval", "squadshifts")


@dataclass
class EvalPlan:
    data_dir: str = "../shared/data"
    tasks: tuple[str, ...] = TASKS
    limit: int = 0  # cap per data set (quick looks); 0 = the whole split
    squad: str | None = None  # SQuAD-format JSON to use instead of the validation split
    conll: str | None = None
    stsb: str | None = None
    time: str | None = None  # a folder with corpus.jsonl, queries_dev.tsv, qrels_dev.txt
    topics: str | None = None  # JSONL of {category, title, body} to use instead of the BBC / AG News held-out parts
    base: str = ""  # the untouched encoder shown beside ours in retrieval tables
    rerank_queries: int = 100  # queries per collection that get the pair pass (0 = no rerank rows)
    shift_paragraphs: int = 1000  # paragraphs drawn from each SQuADShifts file for its retrieval collection
    shift_questions: int = 1000  # questions per SQuADShifts file for QA EM / F1
    cache: str | None = "runs/evidence"  # cached retrieval evidence (see search.evaluation.collections)
    recipe: Recipe = field(default_factory=Recipe)  # for the validation fractions of BBC / AG News


def _cap(items: list, limit: int) -> list:
    return items[:limit] if limit else items


def _squad_file(plan: EvalPlan) -> str | Path:
    """Looked up only by the tasks that read it, so `--tasks stsb` runs on a data folder without SQuAD."""
    return plan.squad or data_path(plan.data_dir, SQUAD_VALID)


def run_evaluation(model: NewsModel, plan: EvalPlan) -> dict[str, Any]:
    # the pair pass's runtime: its scores (rerank rows, answers) depend on it, and `auto` differs between CPUs
    results: dict[str, Any] = {"model": model.name, "runtime": model.runtime}
    began = time.time()
    steps = tqdm(plan.tasks, desc="eval", unit="task")
    for task in steps:
        steps.set_postfix_str(task)
        if task == "squad":
            results["squad"] = evaluate_qa(model, _cap(D.read_squad(_squad_file(plan)), plan.limit))
        elif task == "conll":
            path = plan.conll or data_path(plan.data_dir, "conll2003/valid.txt")
            results["conll"] = evaluate_tagging(model, _cap(D.read_conll(path), plan.limit))
        elif task == "stsb":
            path = plan.stsb or data_path(plan.data_dir, "stsb/sts-dev.csv")
            results["stsb"] = evaluate_sts(model, _cap(D.read_stsb(path), plan.limit))
        elif task == "topics":
            results["topics"] = evaluate_topics(model, _cap(_topic_texts(model, plan), plan.limit))
        elif task == "retrieval":
            results["retrieval"] = _retrieval(model, plan)
        elif task == "squadshifts":
            results["squadshifts"] = {name: evaluate_qa(model, _first_questions(shift_paragraphs(
                collection_plan(plan), name), plan.shift_questions)) for name in SHIFTS}
        else:
            raise ValueError(f"unknown eval task {task!r}; choose from {', '.join(TASKS)}")
    results["seconds"] = round(time.time() - began, 1)
    return results


def _topic_texts(model: NewsModel, plan: EvalPlan) -> list[D.LabelledText]:
    """The held-out BBC / AG News texts, or a file of the user's own, whose labels must be the model's."""
    if not plan.topics:
        return load_topics(plan.data_dir, plan.recipe.val_fraction_bbc, plan.recipe.val_fraction_ag, True)
    # reported under the file's name; with the extension it can never be taken for a data set's label group
    # (`bbc`, `ag_news`), which would narrow the argmax to that group's labels
    texts = D.read_labelled_jsonl(plan.topics, Path(plan.topics).name)
    unknown = sorted({t.label for t in texts} - set(model.config.topic_labels))
    if unknown:
        raise ValueError(f"{plan.topics}: categories {unknown} are not among the model's topics "
                         f"{model.config.topic_labels}; rename them to those")
    return texts


def collection_plan(plan: EvalPlan) -> CollectionPlan:
    """The retrieval side of an eval plan."""
    return CollectionPlan(data_dir=plan.data_dir, time=plan.time, squad=plan.squad, squad_limit=plan.limit,
                          shift_paragraphs=plan.limit or plan.shift_paragraphs, pair_queries=plan.rerank_queries,
                          cache=plan.cache)


def _first_questions(paragraphs: list[D.Paragraph], n: int) -> list[D.Paragraph]:
    """Paragraphs in order, their questions cut off after the first `n` in all."""
    out, left = [], n
    for p in paragraphs:
        if left <= 0:
            break
        out.append(D.Paragraph(p.pid, p.title, p.context, p.qas[:left]))
        left -= len(out[-1].qas)
    return out


def _retrieval(model: NewsModel, plan: EvalPlan) -> dict[str, Any]:
    """Every collection's table (search.evaluation.ranking.collection_table) with the model's own settings."""
    base = NewsModel.from_base(plan.base, device=str(model.device))
    cplan = collection_plan(plan)
    tables = {}
    for name in CHOOSING + REPORTING:
        ev = evidence_for(cplan, name, model, base)
        tables[name] = collection_table(ev, bm25_run(read_collection(cplan, name)), model.config.ranking)
        save_evidence(ev)
    tables["settings"] = {"ranking": model.config.ranking.__dict__, "choosing": list(CHOOSING),
                          "reporting only": list(REPORTING)}
    return tables
