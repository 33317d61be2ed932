"""Run the evaluations on the validation splits (or on files given by path) and collect one result dict."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from search.evaluation.qa import evaluate_qa
from search.evaluation.retrieval import Reranker, compare_retrieval
from search.evaluation.similarity import evaluate_sts
from search.evaluation.tagging import evaluate_tagging
from search.evaluation.topics import evaluate_topics
from search.model.newsmodel import NewsModel
from search.training import data as D
from search.training.materials import SQUAD_VALID, data_path, load_topics
from search.training.recipe import Recipe

TASKS = ("squad", "conll", "stsb", "topics", "retrieval")


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
    rerank_queries: int = 200  # queries per collection whose top 20 the pair head reranks (0 = no rerank rows)
    recipe: Recipe = field(default_factory=Recipe)  # for the validation fractions of BBC / AG News


def _cap(items: list, limit: int) -> list:
    return items[:limit] if limit else items


def _squad_file(plan: EvalPlan) -> str | Path:
    """Looked up only by the tasks that read it, so `--tasks stsb` runs on a data folder without SQuAD."""
    return plan.squad or data_path(plan.data_dir, SQUAD_VALID)


def run_evaluation(model: NewsModel, plan: EvalPlan) -> dict[str, Any]:
    results: dict[str, Any] = {"model": model.name}
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
            results["retrieval"] = _retrieval(model, plan, _squad_file(plan))
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


def _retrieval(model: NewsModel, plan: EvalPlan, squad_file: str | Path) -> dict[str, Any]:
    base = NewsModel.from_base(plan.base, device=str(model.device))
    systems = {"base model": (base.embed_queries, base.embed_passages),
               "newsearch": (model.embed_queries, model.embed_passages)}
    squad = D.squad_collection(_cap(D.read_squad(squad_file), plan.limit))
    time_col = D.read_time(plan.time or data_path(plan.data_dir, "time_news_ir"))
    reranker = None
    if plan.rerank_queries:
        reranker = Reranker(lambda qs, ps: [p.relevance for p in model.score_pair_list(qs, ps)],
                            queries=plan.rerank_queries)
    return {"squad question->paragraph": compare_retrieval(squad, systems, reranker),
            "TIME": compare_retrieval(time_col, systems, reranker)}
