"""Quality against latency for each rerank depth x rerank margin x pair window: the trade-off a user picks from.

For every configuration (the model's ranking settings with another `rerank_depth`, `rerank_margin` and
`pair_window`; depth 0 is retrieval only) this measures, in one run:
* quality on validation data, from the evidence `news-search tune` gathers (same cache): MRR@10 and nDCG@10 of
  the default pipeline on the rerank samples of SQuAD validation and TIME dev, and EM / F1 of the top result's
  answer (the best span of its best passage, read through the window) on the SQuAD sample;
* latency on a store: p50 / p95 of the whole search (`SearchPipeline.search`, no response cache) over fixed
  queries, configurations taking turns on each query, and the pairs the pair pass read per search.
Prints a table, writes benchmarks/results/quality-latency-<store>.json and draws quality against p50 latency as
a PNG next to it, with the previous default (depth 25, no margin, whole passages) and the model's current one
marked.

    python benchmarks/quality_latency.py --store runs/sample-store
"""
from __future__ import annotations

import argparse
import itertools
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from bench_search import fixed_queries
from results_io import RESULTS, results_name, write_results

ROOT = Path(__file__).resolve().parents[1]
PREVIOUS_DEFAULT = (25, 1.0, 0)  # rerank depth, margin, pair window of the release before the rerank margin


def answer_scores(ev, model, settings, golds: dict[str, list[str]]) -> dict[str, float]:
    """EM / F1 of the best span of the top-ranked document's best passage (the one its result shows), over the
    SQuAD rerank sample."""
    from search.evaluation.ranking import best_passages, rank_query
    from search.evaluation.squad_metric import squad_scores

    queries, texts, qids = [], [], []
    for query in ev.rerank_sample():
        top = rank_query(ev, query, settings)[0]
        queries.append(query.text)
        texts.append(ev.passage_text[best_passages(ev, query, settings)[top][0]])
        qids.append(query.qid)
    spans = model.score_pair_list(queries, texts, settings.pair_window)
    predictions = {q: t[s.answer_start:s.answer_end] if s.answer_start is not None else ""
                   for q, t, s in zip(qids, texts, spans)}
    return squad_scores(predictions, {q: golds[q] for q in qids})


def draw(rows: list[dict], current: tuple[int, float, int], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, (key, label) in zip(axes, [("SQuAD ndcg@10", "SQuAD validation nDCG@10"),
                                       ("TIME ndcg@10", "TIME dev nDCG@10"),
                                       ("SQuAD answer f1", "SQuAD top-result answer F1")]):
        for window, margin in sorted({(r["pair_window"], r["rerank_margin"]) for r in rows if r["rerank_depth"]}):
            mine = sorted((r for r in rows if (r["pair_window"], r["rerank_margin"]) == (window, margin)
                           or not r["rerank_depth"]), key=lambda r: r["p50_ms"])
            ax.plot([r["p50_ms"] for r in mine], [r[key] for r in mine], "o-",
                    label=f"window {window or 'whole'}, margin {margin:g}")
            for r in mine:
                ax.annotate(str(r["rerank_depth"]), (r["p50_ms"], r[key]), fontsize=7, xytext=(3, 3),
                            textcoords="offset points")
        for config, marker, name in [(PREVIOUS_DEFAULT, "s", "previous default"), (current, "*", "current default")]:
            hit = [r for r in rows if (r["rerank_depth"], r["rerank_margin"], r["pair_window"]) == config]
            if hit:
                ax.plot(hit[0]["p50_ms"], hit[0][key], marker, markersize=14, fillstyle="none", color="black",
                        label=name)
        ax.set_xlabel("p50 search latency, ms (labels: rerank depth)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default=str(ROOT / "store"), help="store folder for the latency")
    parser.add_argument("--data", default="../shared/data", help="data folder with the validation collections")
    parser.add_argument("--cache", default="runs/evidence", help="evidence cache (the one news-search tune uses)")
    parser.add_argument("--queries", type=int, default=12, help="timed queries per configuration")
    parser.add_argument("--depths", default="0,5,10,15,20,25,30")
    parser.add_argument("--margins", default="1,0.5", help="rerank margins (1: every candidate to the depth)")
    parser.add_argument("--windows", default="0,192,128,96")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()

    import torch
    from rich.console import Console
    from rich.table import Table

    from search.evaluation.collections import CollectionPlan, evidence_for, save_evidence
    from search.evaluation.ranking import product_run, subset
    from search.evaluation.retrieval_metrics import ranking_metrics
    from search.model import NewsModel
    from search.pipeline import SearchPipeline, SearchRequest
    from search.store import Store
    from search.training.data import read_squad
    from search.training.materials import SQUAD_VALID, data_path

    if args.threads:
        torch.set_num_threads(args.threads)
    model = NewsModel.load(runtime="auto")
    base = NewsModel.from_base(model.config.base, device=str(model.device))
    plan = CollectionPlan(data_dir=args.data, cache=args.cache or None)
    evidence = {name: evidence_for(plan, name, model, base) for name in ("SQuAD", "TIME")}
    golds = {qa.qid: [t for t, _ in qa.answers] for p in read_squad(data_path(args.data, SQUAD_VALID)) for qa in p.qas}
    own = model.config.ranking
    configs = list(itertools.product([int(d) for d in args.depths.split(",")],
                                     [float(m) for m in args.margins.split(",")],
                                     [int(w) for w in args.windows.split(",")]))
    # depth 0 reads nothing: one margin and window are enough
    configs = [(d, m, w) for d, m, w in configs if d or (m, w) == (1.0, 0)]
    rows = []
    try:
        for depth, margin, window in configs:
            settings = replace(own, rerank_depth=depth, rerank_margin=margin, pair_window=window)
            row = {"rerank_depth": depth, "rerank_margin": margin, "pair_window": window}
            for name, ev in evidence.items():
                run = product_run(ev, settings, rerank=depth > 0, sample=True)
                metrics = ranking_metrics(run, subset(ev.qrels, run))
                row |= {f"{name} mrr@10": metrics["mrr@10"], f"{name} ndcg@10": metrics["ndcg@10"]}
            answers = answer_scores(evidence["SQuAD"], model, settings if depth else replace(settings, rerank_depth=0),
                                    golds)
            row |= {"SQuAD answer em": answers["exact_match"], "SQuAD answer f1": answers["f1"]}
            rows.append(row)
    finally:
        for ev in evidence.values():
            save_evidence(ev)
    store = Store.open(args.store, readonly=True)
    store.check_model(model.model_id)
    # one pipeline per configuration, each with its own query-vector cache, so each search pays its query pass;
    # the model's ranking settings are set to the configuration's before each search
    pipelines = {config: SearchPipeline(model, store, responses_cached=0) for config in configs}
    queries = fixed_queries(store, args.queries + 2)
    times: dict[tuple[int, float, int], list[float]] = {c: [] for c in configs}
    pairs: dict[tuple[int, float, int], list[int]] = {c: [] for c in configs}
    for i, query in enumerate(queries):
        for (depth, margin, window), pipeline in pipelines.items():
            model.config.ranking = replace(own, rerank_depth=depth, rerank_margin=margin, pair_window=window)
            response = pipeline.search(SearchRequest(query, rerank=depth > 0, answers=depth > 0))
            if i >= 2:  # the first two warm up
                times[(depth, margin, window)].append(response.timings_ms["total"])
                pairs[(depth, margin, window)].append(response.pairs_read)
    model.config.ranking = own
    for row in rows:
        config = (row["rerank_depth"], row["rerank_margin"], row["pair_window"])
        row |= {"p50_ms": float(np.percentile(times[config], 50)), "p95_ms": float(np.percentile(times[config], 95)),
                "pairs_read_mean": float(np.mean(pairs[config]))}
    table = Table(title="quality (validation samples) against latency (ms)")
    columns = ["rerank_depth", "rerank_margin", "pair_window", "p50_ms", "pairs_read_mean", "SQuAD ndcg@10", "SQuAD mrr@10", "TIME ndcg@10",
               "TIME mrr@10", "SQuAD answer em", "SQuAD answer f1"]
    for c in columns:
        table.add_column(c, justify="right")
    for r in rows:
        table.add_row(*(f"{r[c]:.3f}" if isinstance(r[c], float) and c.endswith("@10") else
                        f"{r[c]:.1f}" if isinstance(r[c], float) else str(r[c]) for c in columns))
    Console().print(table)
    name = f"quality-latency-{Path(args.store).resolve().name}"
    current = (own.rerank_depth, own.rerank_margin, own.pair_window)
    write_results(name, {"store": str(Path(args.store).resolve()), "model": model.name, "ranking": asdict(own),
                         "threads": torch.get_num_threads(), "timed_queries": args.queries,
                         "previous_default": PREVIOUS_DEFAULT, "current_default": current, "rows": rows})
    draw(rows, current, RESULTS / f"{results_name(name)}.png")


if __name__ == "__main__":
    main()
