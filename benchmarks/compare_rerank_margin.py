"""The rerank margin side by side on the release, from `news-search tune`'s cached evidence: for each collection
and margin (the pair pass reads a candidate only if its fused score is at most that far below the first one's;
1 reads every candidate down to the depth), at the release's rerank depth, nDCG@10 on the rerank sample as a share
of the depth-30 rerank of every candidate (the reference `tune` holds its choice to), what the pair pass reads per
query (pairs and word pieces), and how many of the relevant documents in the top 10 the margin left unread (/search
shows those as weak matches). The reporting-only collection (SQuADShifts reddit) took no part in choosing the
margin.

    python benchmarks/compare_rerank_margin.py [--model PATH] [--data ../shared/data] [--cache runs/evidence]

Prints a markdown table and writes benchmarks/results/compare-rerank-margin.json. Without a cache from the same
model it gathers the evidence first (about 20 minutes on a 2-core CPU).
"""
from __future__ import annotations

from dataclasses import replace

from evidence_io import evidence_setup
from results_io import write_results

MARGINS = (1.0, 0.7, 0.6, 0.5, 0.45, 0.4, 0.3)


def main() -> None:
    from search.evaluation.collections import CHOOSING, REPORTING, evidence_for, save_evidence
    from search.evaluation.ranking import margin_skipped, product_run, read_passages, subset
    from search.evaluation.retrieval_metrics import ranking_metrics
    from search.evaluation.tuning import REFERENCE_DEPTH, pieces_read

    model, base, plan = evidence_setup(__doc__)
    own = model.config.ranking
    rows = []
    for name in CHOOSING + REPORTING:
        ev = evidence_for(plan, name, model, base)
        sample = ev.rerank_sample()

        def measured(settings) -> dict[str, float]:
            run = product_run(ev, settings, sample=True)
            pairs = [len(read_passages(ev, q, settings)) for q in sample]
            shown = {q.qid: [d for d in run[q.qid][:10] if d in ev.qrels[q.qid]] for q in sample}
            skipped = sum(len(margin_skipped(ev, q, settings).intersection(shown[q.qid])) for q in sample)
            return {"ndcg@10": ranking_metrics(run, subset(ev.qrels, run))["ndcg@10"],
                    "pairs per query": sum(pairs) / len(pairs), "pieces per query": pieces_read([ev], settings),
                    "relevant in top 10": sum(map(len, shown.values())), "of which skipped by the margin": skipped}

        reference = measured(replace(own, rerank_depth=REFERENCE_DEPTH, rerank_margin=1.0))
        for margin in MARGINS:
            row = {"collection": name, "rerank_depth": own.rerank_depth, "rerank_margin": margin,
                   **measured(replace(own, rerank_margin=margin))}
            row["ndcg@10 / reference"] = row["ndcg@10"] / reference["ndcg@10"] if reference["ndcg@10"] else 1.0
            rows.append(row)
        save_evidence(ev)
    print(f"| collection | margin (depth {own.rerank_depth}) | nDCG@10 | / depth {REFERENCE_DEPTH}, no margin "
          "| pairs per query | word pieces per query | relevant in top 10: skipped by the margin / all |\n"
          "|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['collection']} | {r['rerank_margin']:g} | {r['ndcg@10']:.4f} | {r['ndcg@10 / reference']:.4f} "
              f"| {r['pairs per query']:.1f} | {r['pieces per query']:.0f} "
              f"| {r['of which skipped by the margin']} / {r['relevant in top 10']} |")
    write_results("compare-rerank-margin", {"model": model.name, "ranking": own.__dict__,
                                            "reference_depth": REFERENCE_DEPTH, "rows": rows})


if __name__ == "__main__":
    main()
