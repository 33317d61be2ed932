"""How often a real query shares no word with its collection — the queries the "no lexical support" rule
(search/pipeline/weak.py) turns into "no good match" — and what that costs: of those queries, how many had a
relevant document in the product's top 10 (moved under "weaker matches").

    python benchmarks/no_lexical_queries.py [--model PATH] [--data ../shared/data] [--cache runs/evidence]

Reads `news-search tune`'s cached evidence (gathers it first without a cache: about 20 minutes on 2 cores).
Prints a table and writes benchmarks/results/no-lexical-queries.json.
"""
from __future__ import annotations

from evidence_io import evidence_setup
from results_io import write_results


def main() -> None:
    from search.evaluation.collections import CHOOSING, REPORTING, evidence_for, save_evidence
    from search.evaluation.ranking import product_run

    model, base, plan = evidence_setup(__doc__)
    rows = {}
    print("| collection | queries | no lexical hit | of those, relevant in top 10 | examples |\n|---|---|---|---|---|")
    for name in CHOOSING + REPORTING:
        ev = evidence_for(plan, name, model, base)
        run = product_run(ev, model.config.ranking, rerank=False)
        alone = [q for q in ev.queries if not q.lexical]
        lost = [q for q in alone if set(run.get(q.qid, [])[:10]) & ev.qrels[q.qid]]
        rows[name] = {"queries": len(ev.queries), "no_lexical_hit": len(alone), "relevant_in_top10": len(lost),
                      "examples": [q.text for q in alone[:5]]}
        print(f"| {name} | {len(ev.queries)} | {len(alone)} ({len(alone) / len(ev.queries):.2%}) | {len(lost)} | "
              + "; ".join(repr(q.text) for q in alone[:3]) + " |")
        save_evidence(ev)
    write_results("no-lexical-queries", {"model": model.name, "collections": rows})


if __name__ == "__main__":
    main()
