"""`news-search eval`'s retrieval part end to end on a small slice of the real collections, with the real model."""
import json
from pathlib import Path

from search.evaluation.report import markdown_report
from search.evaluation.runner import EvalPlan, run_evaluation
from tests.shared_data import SHARED_DATA, needs_shared_data


def tiny_time(folder: Path, queries: int = 3, extra_docs: int = 6) -> Path:
    """The first judged TIME queries with their relevant documents and a few others."""
    source = Path(SHARED_DATA) / "time_news_ir"
    qrels = [line.split() for line in (source / "qrels_dev.txt").read_text().splitlines() if line.strip()]
    keep_q = list(dict.fromkeys(q for q, *_ in qrels))[:queries]
    keep_docs = {d for q, _, d, _ in qrels if q in keep_q}
    docs = [json.loads(line) for line in (source / "corpus.jsonl").read_text().splitlines() if line.strip()]
    keep_docs |= {d["doc_id"] for d in docs[:extra_docs]}
    folder.mkdir()
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs if d["doc_id"] in keep_docs))
    head, *rows = (source / "queries_dev.tsv").read_text().splitlines()
    (folder / "queries_dev.tsv").write_text("\n".join([head] + [r for r in rows if r.split("\t")[0] in keep_q]))
    (folder / "qrels_dev.txt").write_text("\n".join(" ".join(r) for r in qrels if r[0] in keep_q))
    return folder


@needs_shared_data
def test_retrieval_tables_have_every_system(model, tmp_path):
    plan = EvalPlan(data_dir=SHARED_DATA, tasks=("retrieval",), limit=3, time=str(tiny_time(tmp_path / "time")),
                    rerank_queries=2)
    results = run_evaluation(model, plan)
    for table in results["retrieval"].values():
        assert list(table)[:4] == ["bm25", "base model", "newsearch", "hybrid (bm25 + ours, RRF)"]
        first, reranked = list(table)[4:]
        assert first.startswith("hybrid, first ") and reranked.startswith("hybrid + rerank top 20")
        assert table[first]["queries"] == table[reranked]["queries"] <= 2
        assert all(0.0 <= row["mrr@10"] <= 1.0 for row in table.values())
    assert "### retrieval: TIME" in markdown_report(results)
