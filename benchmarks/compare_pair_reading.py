"""Which passages the pair pass reads, side by side on the release, from `news-search tune`'s cached evidence: every
fused passage down to the rerank depth (the pipeline before), each article's best two, or only the passages each
article's score counts (its best fused one with MaxP, the best two with a second-passage share; the pipeline now,
search/pipeline/rerank.py). For each collection and depth: nDCG@10 on the rerank sample, and the pairs read per
query (what the pair pass costs), with the release's other settings but the rerank margin: 1, every candidate
down to the depth (the margin is compared by benchmarks/compare_rerank_margin.py).

    python benchmarks/compare_pair_reading.py [--model PATH] [--data ../shared/data] [--cache runs/evidence]

Prints a markdown table and writes benchmarks/results/compare-pair-reading.json. Without a cache from the same
model it gathers the evidence first (about 20 minutes on a 2-core CPU).
"""
from __future__ import annotations

from dataclasses import replace

from evidence_io import evidence_setup
from results_io import write_results

DEPTHS = (5, 10, 15, 20, 25, 30)
EVERY = 10_000  # passages per article: more than any candidate list holds, so every one is read


def main() -> None:
    from search.evaluation.collections import CHOOSING, REPORTING, evidence_for, save_evidence
    from search.evaluation.ranking import rank_query, read_passages, subset
    from search.evaluation.retrieval_metrics import ranking_metrics

    model, base, plan = evidence_setup(__doc__)
    own = model.config.ranking
    readings = {"every passage": EVERY, "best two": 2, "counted passages": None}
    rows = []
    for name in CHOOSING + REPORTING:
        ev = evidence_for(plan, name, model, base)
        sample = ev.rerank_sample()
        for depth in DEPTHS:
            settings = replace(own, rerank_depth=depth, rerank_margin=1.0)
            row = {"collection": name, "rerank_depth": depth}
            for reading, per_article in readings.items():
                run = {q.qid: rank_query(ev, q, settings, read_per_article=per_article) for q in sample}
                pairs = [len(read_passages(ev, q, settings, per_article)) for q in sample]
                row[reading] = {"ndcg@10": ranking_metrics(run, subset(ev.qrels, run))["ndcg@10"],
                                "pairs per query": sum(pairs) / len(pairs)}
            rows.append(row)
        save_evidence(ev)
    print("| collection | depth | nDCG@10: " + " / ".join(readings) + " | pairs per query: " + " / ".join(readings)
          + " |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['collection']} | {r['rerank_depth']} | "
              + " / ".join(f"{r[reading]['ndcg@10']:.4f}" for reading in readings) + " | "
              + " / ".join(f"{r[reading]['pairs per query']:.1f}" for reading in readings) + " |")
    write_results("compare-pair-reading", {"model": model.name, "ranking": own.__dict__,
                                           "read_per_article": own.read_per_article, "rows": rows})


if __name__ == "__main__":
    main()
