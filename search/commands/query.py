"""`news-search query "..."`: the same search as the API, printed in the terminal (or as JSON)."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace

from search.commands import add_rerank_options, add_runtime_option
from search.pipeline import Naming, Result, SearchRequest, SearchResponse

# the terminal's words for the request's fields, in validation messages
CLI_NAMES = Naming({"q": "the query", "date_from": "--from", "date_to": "--to", "topic": "--topic",
                    "entity": "--entity", "source": "--source", "k": "--k", "page": "--page", "size": "--size",
                    "recency": "--recency", "fusion": "--fusion", "alpha": "--alpha",
                    "rerank_depth": "--rerank-depth", "pair_window": "--pair-window",
                    "rerank_margin": "--rerank-margin"},
                   "`news-index stats` (topics, top entities, sources)")

SNIPPET = 160  # characters of context around the answer


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `query` subcommand to the `news-search` parser."""
    p = sub.add_parser("query", help="search the index from the terminal")
    p.add_argument("query", help="the question or keywords")
    p.add_argument("--store", default="store", help="index folder (default: ./store)")
    p.add_argument("--model", help="checkpoint folder (default: $NEWSEARCH_MODEL or data/models/newsearch-minilm)")
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the whole response as JSON, as GET /search returns it")
    output.add_argument("--csv", action="store_true", help="print the results as CSV, as GET /search?format=csv")
    p.add_argument("--topic", action="append", default=[], help="keep this topic (repeatable)")
    p.add_argument("--entity", action="append", default=[], help="keep articles mentioning this entity (repeatable)")
    p.add_argument("--source", action="append", default=[], help="keep this source (repeatable)")
    p.add_argument("--from", dest="date_from", help="earliest date, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", help="latest date, YYYY-MM-DD")
    p.add_argument("--k", type=int, help="candidate passages each retriever gives and fusion keeps "
                                         "(default: the model's setting)")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--size", type=int, default=SearchRequest.size, help="results per page (default: %(default)s)")
    p.add_argument("--recency", type=float, default=0.0, help="0 = relevance only … 1 = newest first")
    p.add_argument("--no-rerank", dest="rerank", action="store_false",
                   help="keep the fused retrieval order instead of the pair head's relevance")
    p.add_argument("--no-answers", dest="answers", action="store_false", help="do not return answer spans")
    p.add_argument("--fusion", choices=("convex", "dbsf", "rrf"),
                   help="fusion of the dense and lexical lists (default: the model's setting)")
    p.add_argument("--alpha", type=float,
                   help="weight of the dense list in convex / dbsf fusion, 0..1 (default: the model's setting)")
    add_rerank_options(p, "the model's setting")
    add_runtime_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run one search and print it; InvalidRequest and StoreError propagate to the CLI, which prints them (exit 2)."""
    from search.pipeline.validate import validate_request
    from search.store import Filters, open_store

    request = SearchRequest(query=args.query, k=args.k, page=args.page, size=args.size, rerank=args.rerank,
                            answers=args.answers, recency=args.recency, fusion=args.fusion, alpha=args.alpha,
                            rerank_depth=args.rerank_depth, pair_window=args.pair_window,
                            rerank_margin=args.rerank_margin,
                            filters=Filters(topics=args.topic, entities=args.entity, sources=args.source,
                                            date_from=args.date_from, date_to=args.date_to))
    store = open_store(args.store, readonly=True)
    names = replace(CLI_NAMES, values_listed_by=f"`news-index stats --store {args.store}` (topics, top entities, "
                                                "sources)")
    validate_request(request, store, names=names)  # before the model loads: a bad flag answers at once
    store.close()
    from search.api.settings import ServeSettings
    from search.api.state import AppState  # the model: torch and transformers, seconds to import

    state = AppState.load(args.store, args.model, ServeSettings(runtime=args.runtime))
    response = state.pipeline.search(request)
    if args.csv:
        from search.pipeline.export import to_csv

        print(to_csv(response), end="")
    else:
        print(json.dumps(asdict(response), ensure_ascii=False, indent=2) if args.json else format_response(response))
    return 0


def format_response(response: SearchResponse) -> str:
    """A readable listing: one block per article, the answer in »…«, weaker matches after them, then the timings."""
    if not response.total and response.weak:
        lines = [f"No good match for {response.query!r}. Weaker matches:", ""]
        for number, result in enumerate(response.weak, start=1):
            lines += format_result(number, result) + [""]
        return "\n".join(lines)
    if not response.total:
        return f"No articles match {response.query!r}."
    if not response.results:
        return f"No results on page {response.page}: {response.total} articles for {response.query!r} fill " \
               f"{response.pages} page{'s' if response.pages != 1 else ''}."
    lines = [f"{response.total} articles for {response.query!r} (page {response.page} of {response.pages})", ""]
    first = (response.page - 1) * response.size + 1
    for number, result in enumerate(response.results, start=first):
        lines += format_result(number, result) + [""]
    if response.weak:
        count = f"{len(response.weak)} weaker {'match' if len(response.weak) == 1 else 'matches'}"
        lines += [f"{count}: " + "; ".join(r.title for r in response.weak), ""]
    read = f"{response.pairs_read} passage{'' if response.pairs_read == 1 else 's'} read of the first " \
           f"{response.ranking['rerank_depth']} (rerank margin {response.ranking['rerank_margin']:g})"
    lines.append("time: " + ", ".join(f"{stage} {ms:.0f} ms" for stage, ms in response.timings_ms.items())
                 + f"; {read}")
    return "\n".join(lines)


def format_result(number: int, r: Result) -> list[str]:
    """The lines of one result: title, metadata, the passage around its answer, entities, link."""
    meta = " · ".join(x for x in (r.source, (r.published_at or "")[:10], r.topic, f"matched {r.matched}",
                                  f"score {r.score:.3f}") if x)
    similar = f"  (+{r.similar} similar)" if r.similar else ""
    out = [f"{number:>2}. {r.title}{similar}", f"    {meta}"]
    text, answer = r.passage.text, r.passage.answer
    if answer:
        lo, hi = max(0, answer.start - SNIPPET), min(len(text), answer.end + SNIPPET)
        snippet = f"{text[lo:answer.start]}»{answer.text}«{text[answer.end:hi]}"
        out.append(f"    {'…' if lo else ''}{' '.join(snippet.split())}{'…' if hi < len(text) else ''}"
                   f"  [answer {answer.confidence:.0%}]")
    else:
        out.append(f"    {' '.join(text[:2 * SNIPPET].split())}{'…' if len(text) > 2 * SNIPPET else ''}")
    if r.entities:
        out.append(f"    entities: {', '.join(r.entities)}")
    if r.url:
        out.append(f"    {r.url}")
    return out
