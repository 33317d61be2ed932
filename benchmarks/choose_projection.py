"""Choose how `news-search distill` fits the embedding head's projection, with one rule across collections:
encoder-alone nDCG@10 (MaxP over the product's passages, as `news-search eval` ranks it) divided by the base
encoder's, for every (teacher share, ridge) on a grid; the setting with the largest smallest ratio over the
choosing collections (TIME dev, SQuAD validation, SQuADShifts new_wiki and amazon_reviews) wins, and SQuADShifts
reddit, which chooses nothing, is reported beside it.

    python benchmarks/choose_projection.py [--model PATH] [--data ../shared/data]

Prints a table and writes benchmarks/results/choose-projection.json (about 15 minutes on a 2-core CPU: each text
is encoded once by each encoder; every fit then takes a second).
"""
from __future__ import annotations

import argparse
import time

from results_io import write_results

SHARES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
RIDGES = (0.1, 1.0, 10.0, 100.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="checkpoint to fit (default: the released one)")
    parser.add_argument("--data", default="../shared/data")
    args = parser.parse_args()

    import numpy as np

    from search.evaluation.collections import CHOOSING, REPORTING, CollectionPlan, read_collection
    from search.evaluation.evidence import maxp_run
    from search.evaluation.retrieval_metrics import ranking_metrics
    from search.model.newsmodel import NewsModel
    from search.passages import split_passages
    from search.training.embedding_distillation import (distillation_targets, distillation_texts, fit_projection,
                                                        pooled_vectors, unit)
    from search.training.recipe import ProjectionFit

    started = time.perf_counter()
    model = NewsModel.load(args.model)
    base = NewsModel.from_base(model.config.base)
    texts = distillation_texts(args.data, ProjectionFit())
    train_ours, train_base = pooled_vectors(model, texts, "training texts"), pooled_vectors(base, texts, "base")

    plan = CollectionPlan(data_dir=args.data)
    collections = {}
    for name in CHOOSING + REPORTING:
        col = read_collection(plan, name)
        passages, owners = [], []
        for d, (doc, text) in enumerate(col.docs.items()):
            for span in split_passages(text, model.tokenizer, model.config.max_passage_tokens):
                passages.append(text[span.start:span.end])
                owners.append(d)
        qids = [q for q in col.queries if col.qrels.get(q)]
        queries = [col.queries[q] for q in qids]
        q_len = model.config.max_query_tokens
        collections[name] = {
            "ours": (pooled_vectors(model, queries, f"{name} queries", q_len), pooled_vectors(model, passages, name)),
            "base": (unit(pooled_vectors(base, queries, f"{name} queries, base", q_len)),
                     unit(pooled_vectors(base, passages, f"{name}, base"))),
            "owners": np.array(owners), "docs": list(col.docs), "qids": qids,
            "qrels": {q: col.qrels[q] for q in qids}}

    def ndcg(c: dict, queries: np.ndarray, passages: np.ndarray) -> float:
        run = maxp_run(queries @ passages.T, c["owners"], c["docs"], c["qids"], 100)
        return ranking_metrics(run, c["qrels"])["ndcg@10"]

    base_ndcg = {n: ndcg(c, *c["base"]) for n, c in collections.items()}
    rows = [{"setting": "no projection (mean pooling alone)",
             "ratio": {n: ndcg(c, unit(c["ours"][0]), unit(c["ours"][1])) / base_ndcg[n]
                       for n, c in collections.items()}}]
    for share in SHARES:
        targets = distillation_targets(train_base, train_ours, share)
        for ridge in RIDGES:
            weight, bias = fit_projection(train_ours, targets, ridge)
            ratio = {n: ndcg(c, unit(c["ours"][0] @ weight.T + bias), unit(c["ours"][1] @ weight.T + bias))
                     / base_ndcg[n] for n, c in collections.items()}
            rows.append({"setting": f"teacher share {share}, ridge {ridge}", "teacher_share": share,
                         "ridge": ridge, "ratio": ratio})
    for row in rows:
        row["smallest choosing ratio"] = min(row["ratio"][n] for n in CHOOSING)
    chosen = max(rows[1:], key=lambda row: row["smallest choosing ratio"])
    names = CHOOSING + REPORTING
    print("| setting | " + " | ".join(names) + " | smallest choosing |")
    print("|---|" + "---|" * (len(names) + 1))
    for row in rows:
        mark = " **(chosen)**" if row is chosen else ""
        print(f"| {row['setting']}{mark} | " + " | ".join(f"{row['ratio'][n]:.3f}" for n in names)
              + f" | {row['smallest choosing ratio']:.3f} |")
    write_results("choose-projection", {
        "command": "python benchmarks/choose_projection.py", "model": model.name, "model_id": model.model_id,
        "metric": "encoder-alone nDCG@10 / base encoder's (MaxP, depth 100)", "base_ndcg@10": base_ndcg,
        "training_texts": len(texts), "choosing": list(CHOOSING), "reporting": list(REPORTING),
        "rule": "largest smallest ratio over the choosing collections", "rows": rows,
        "chosen": {"teacher_share": chosen["teacher_share"], "ridge": chosen["ridge"]},
        "seconds": round(time.perf_counter() - started, 1)})


if __name__ == "__main__":
    main()
