"""`news-search eval` end to end with the real model: the retrieval part on a small slice of the real
collections, and the topic part on a file given by path."""
import json
from pathlib import Path

import pytest

from search.evaluation.ranking import BASE, BM25, DEFAULT, HYBRID, OURS, TXTAI
from search.evaluation.report import markdown_report
from search.evaluation.runner import EvalPlan, run_evaluation
from search.model.newsmodel import NewsModel
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
                    rerank_queries=2, cache=str(tmp_path / "cache"))
    results = run_evaluation(model, plan)["retrieval"]
    settings = results.pop("settings")
    assert settings["ranking"] == model.config.ranking.__dict__ and "SQuADShifts reddit" in settings["reporting only"]
    assert set(results) == {"TIME", "SQuAD", "SQuADShifts new_wiki", "SQuADShifts amazon_reviews",
                            "SQuADShifts reddit"}
    for tables in results.values():
        assert list(tables["all queries"]) == [BM25, BASE, TXTAI, OURS, HYBRID]
        assert list(tables["reranked queries"]) == [BM25, BASE, TXTAI, OURS, HYBRID, DEFAULT]
        assert {row["queries"] for row in tables["reranked queries"].values()} == {min(2, tables["all queries"][BM25]["queries"])}
        assert all(0.0 <= row["ndcg@10"] <= 1.0 for part in ("all queries", "reranked queries")
                   for row in tables[part].values())
        assert set(tables["ratios (ndcg@10)"]) == {"encoder / base", "hybrid / bm25", "default / bm25",
                                                   "default / txtai hybrid"}
    pairs = list((tmp_path / "cache").glob("*-pairs-*.pkl"))
    assert len(pairs) == 5 and len(list((tmp_path / "cache").glob("*.pkl"))) == 10  # for the next eval / tune
    text = markdown_report({"retrieval": {**results, "settings": settings}})
    assert "### retrieval: TIME (reranked queries)" in text and "### ratios (ndcg@10)" in text

    # a checkpoint with another fingerprint but the same pair pass (what `news-search distill` makes) gathers its
    # own evidence and scores no pair again
    other = NewsModel(model.net, model.tokenizer, name=model.name, model_id="same-pair-pass", device="cpu")
    scored: list[int] = []
    score = other.score_pair_list
    other.score_pair_list = lambda qs, ps, window=0: scored.append(len(ps)) or score(qs, ps, window)
    again = run_evaluation(other, plan)["retrieval"]
    assert len(list((tmp_path / "cache").glob("*.pkl"))) == 15 and sum(scored) == 0
    assert again["TIME"]["reranked queries"][DEFAULT] == results["TIME"]["reranked queries"][DEFAULT]

    # the same checkpoint with another pair-pass runtime scores its pairs itself, into files of its own
    int8 = NewsModel(model.net, model.tokenizer, name=model.name, model_id=model.model_id, device="cpu",
                     runtime="torch-int8", folder=model.name)
    score8 = int8.score_pair_list
    int8.score_pair_list = lambda qs, ps, window=0: scored.append(len(ps)) or score8(qs, ps, window)
    run_evaluation(int8, plan)
    assert sum(scored) > 0 and len(list((tmp_path / "cache").glob("*-pairs-*.pkl"))) == 10


def _topic_file(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("".join(json.dumps({"category": c, "title": t, "body": b}) + "\n" for c, t, b in rows))
    return path


def test_topics_on_a_file_given_by_path(model, tmp_path):
    rows = [("sport", "Arsenal beat Chelsea 2-0", "Arsenal won the London derby with two goals in the second half."),
            ("business", "Shares fall as oil prices rise", "Stock markets fell after crude oil rose to a record.")]
    plan = EvalPlan(tasks=("topics",), topics=str(_topic_file(tmp_path / "mine.jsonl", rows)))
    results = run_evaluation(model, plan)["topics"]
    assert list(results) == ["mine.jsonl"] and results["mine.jsonl"]["texts"] == 2
    assert results["mine.jsonl"]["accuracy"] == 1.0


def test_a_topics_file_named_like_a_data_set_is_scored_over_every_label(model, tmp_path):
    """A file called bbc.jsonl is the user's own: its argmax is not narrowed to BBC's labels (no "world")."""
    rows = [("world", "UN council meets on Syria", "Diplomats from the Security Council met in New York.")]
    plan = EvalPlan(tasks=("topics",), topics=str(_topic_file(tmp_path / "bbc.jsonl", rows)))
    results = run_evaluation(model, plan)["topics"]
    assert list(results) == ["bbc.jsonl"]
    assert results["bbc.jsonl"]["accuracy"] == 1.0


def test_topics_file_with_labels_the_model_lacks_is_refused(model, tmp_path):
    plan = EvalPlan(tasks=("topics",), topics=str(_topic_file(tmp_path / "x.jsonl", [("weather", "Rain", "Rain.")])))
    with pytest.raises(ValueError, match="weather"):
        run_evaluation(model, plan)
