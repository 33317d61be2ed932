"""Fusion methods, rerank blend and article scoring side by side on the release, from `news-search tune`'s cached
evidence: nDCG@10 on each collection's rerank sample (default pipeline) and on all queries (no rerank).

    python benchmarks/compare_fusion.py [--model PATH] [--data ../shared/data] [--cache runs/evidence]

Prints a markdown table and writes benchmarks/results/compare-fusion.json. Without a cache from the same model it
gathers the evidence first (about 20 minutes on a 2-core CPU).
"""
from __future__ import annotations

from dataclasses import replace

from evidence_io import evidence_setup
from results_io import write_results


def main() -> None:
    from search.evaluation.collections import CHOOSING, REPORTING, evidence_for, save_evidence
    from search.evaluation.ranking import product_run, subset
    from search.evaluation.retrieval_metrics import ranking_metrics
    from search.model.config import RankingSettings

    model, base, plan = evidence_setup(__doc__)
    chosen = model.config.ranking
    rows = {"wave 1: RRF, pair head alone reranks the top 20, best passage": RankingSettings("rrf", 0.5, 30, 20, 1.0, 0.0),
            "RRF, rest as chosen": replace(chosen, fusion="rrf"),
            "DBSF, rest as chosen": replace(chosen, fusion="dbsf"),
            "chosen": chosen,
            "chosen, best passage only": replace(chosen, second_passage_weight=0.0),
            "chosen, rerank depth 10": replace(chosen, rerank_depth=10)}
    names = CHOOSING + REPORTING
    table: dict[str, dict[str, float]] = {}
    for name in names:
        ev = evidence_for(plan, name, model, base)
        for row, settings in rows.items():
            run = product_run(ev, settings, sample=True)
            table.setdefault(row, {})[name] = ranking_metrics(run, subset(ev.qrels, run))["ndcg@10"]
            table.setdefault(row + ", no rerank (all queries)", {})[name] = ranking_metrics(
                product_run(ev, settings, rerank=False), ev.qrels)["ndcg@10"]
        save_evidence(ev)
    print("| settings | " + " | ".join(names) + " |\n" + "|---" * (len(names) + 1) + "|")
    for row, values in table.items():
        print(f"| {row} | " + " | ".join(f"{values[n]:.3f}" for n in names) + " |")
    write_results("compare-fusion", {"model": model.name, "chosen": chosen.__dict__, "ndcg@10": table})


if __name__ == "__main__":
    main()
