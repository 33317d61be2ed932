"""`news-search watch add|list|rm|matches`: saved searches from the terminal, the same as POST/GET/DELETE /watches.

`news-index add` matches each new article against them and records the matches (search/pipeline/watch_match.py).
Only `add` loads the model (one short query pass for the saved vector); the others read the store.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from datetime import datetime, timezone

from search.commands.query import CLI_NAMES

WATCH_NAMES = replace(CLI_NAMES, fields={**CLI_NAMES.fields, "name": "--name", "webhook": "--webhook",
                                         "min_score": "--min-score", "page": "--page", "size": "--size"})


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `watch` subcommand (and its own subcommands) to the `news-search` parser."""
    from search.pipeline.watches import DEFAULT_MIN_SCORE  # the pipeline's records: no torch

    watch = sub.add_parser("watch", help="saved searches: new articles matching them are recorded by news-index add")
    actions = watch.add_subparsers(dest="action", required=True)
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--store", default="store", help="index folder (default: ./store)")

    add = actions.add_parser("add", parents=[store], help="save a search")
    add.add_argument("query", help="the query, with the query syntax of news-search query")
    add.add_argument("--name", help="a name for lists and the feed (default: the query)")
    add.add_argument("--topic", action="append", default=[], help="keep this topic (repeatable)")
    add.add_argument("--entity", action="append", default=[], help="keep articles mentioning this entity (repeatable; "
                                                                     "names not in the store yet are accepted)")
    add.add_argument("--source", action="append", default=[], help="keep this source (repeatable)")
    add.add_argument("--from", dest="date_from", help="earliest date, YYYY-MM-DD")
    add.add_argument("--to", dest="date_to", help="latest date, YYYY-MM-DD")
    add.add_argument("--webhook", help="http(s) URL that gets each news-index add run's new matches (JSON POST)")
    add.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE,
                     help="score (0..1) a new article needs to match (default: %(default)s)")
    add.add_argument("--model", help="checkpoint folder (default: $NEWSEARCH_MODEL or data/models/newsearch-minilm)")
    add.set_defaults(func=run_add)

    listing = actions.add_parser("list", parents=[store], help="the saved searches and their match counts")
    listing.add_argument("--json", action="store_true", help="print JSON, as GET /watches")
    listing.set_defaults(func=run_list)

    rm = actions.add_parser("rm", parents=[store], help="delete a saved search and its matches")
    rm.add_argument("id", type=int, help="the watch's id (news-search watch list)")
    rm.set_defaults(func=run_rm)

    matches = actions.add_parser("matches", parents=[store], help="the articles a saved search matched, newest first")
    matches.add_argument("id", type=int, help="the watch's id (news-search watch list)")
    matches.add_argument("--page", type=int, default=1)
    matches.add_argument("--size", type=int, default=10, help="matches per page (default: %(default)s)")
    matches.add_argument("--json", action="store_true", help="print JSON")
    matches.set_defaults(func=run_matches)


def run_add(args: argparse.Namespace) -> int:
    """Check the input before the model loads (a bad flag answers at once), then encode and save."""
    from search.pipeline.watches import WatchRequest, save_watch, validate_watch
    from search.store import Filters

    request = WatchRequest(query=args.query, name=args.name, webhook=args.webhook, min_score=args.min_score,
                           filters=Filters(topics=args.topic, entities=args.entity, sources=args.source,
                                           date_from=args.date_from, date_to=args.date_to))
    store = _watch_store(args.store)
    validate_watch(request, store, topics=None, names=WATCH_NAMES)  # all but the model's topic labels
    from search.model import NewsModel  # torch and transformers: seconds to import

    model = NewsModel.load(args.model)
    store.check_model(model.model_id)
    watch = save_watch(store, model, request, datetime.now(timezone.utc), names=WATCH_NAMES)
    print(f"watch {watch.id} saved: {watch.name!r}; `news-index add --store {args.store}` records the new "
          f"articles that match (news-search watch matches {watch.id}, or GET /watches/{watch.id}/feed.xml)")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """A table of the saved watches (or JSON)."""
    from rich.console import Console
    from rich.table import Table

    watches = _watch_store(args.store).watches()
    if args.json:
        print(json.dumps([asdict(w) for w in watches], ensure_ascii=False, indent=2))
        return 0
    if not watches:
        print(f'no watches in {args.store}; save one with `news-search watch add "query" --store {args.store}`')
        return 0
    table = Table(title=f"watches in {args.store}", title_justify="left")
    for column in ("id", "name", "query", "filters", "matches", "webhook", "created"):
        table.add_column(column, justify="right" if column in ("id", "matches") else "left")
    for w in watches:
        filters = {k: v for k, v in asdict(w.filters).items() if v}
        hook = "-" if not w.webhook else w.webhook + (f" (failing: {w.undelivered} waiting)" if w.webhook_error else "")
        table.add_row(str(w.id), w.name, w.query, json.dumps(filters, ensure_ascii=False) if filters else "-",
                      str(w.matches), hook, w.created_at[:16].replace("T", " "))
    Console().print(table)
    return 0


def run_rm(args: argparse.Namespace) -> int:
    """Delete a watch; an unknown id is bad input (exit 2)."""
    from search.pipeline.validate import unknown_watch

    if not _watch_store(args.store).delete_watch(args.id):
        raise unknown_watch(args.id, "`news-search watch list`")
    print(f"watch {args.id} deleted, with its matches")
    return 0


def run_matches(args: argparse.Namespace) -> int:
    """One page of a watch's matches, newest first."""
    from search.pipeline.validate import unknown_watch, validate_paging

    validate_paging(args.page, args.size, names=WATCH_NAMES)
    store = _watch_store(args.store)
    watch = store.watch(args.id)
    if watch is None:
        raise unknown_watch(args.id, "`news-search watch list`")
    total, matches = store.watch_matches(args.id, (args.page - 1) * args.size, args.size)
    if args.json:
        print(json.dumps({"total": total, "matches": [asdict(m) for m in matches]}, ensure_ascii=False, indent=2))
        return 0
    print(f"{total} article{'' if total == 1 else 's'} matched watch {watch.id} ({watch.name})")
    for m in matches:
        print(f"  {m.matched_at[:16].replace('T', ' ')}  {m.score:.3f}  {m.title}  "
              f"[{m.article_id}{', ' + m.published_at[:10] if m.published_at else ''}]")
    return 0


def _watch_store(folder: str):
    """The store in `folder`, sharded or not, opened read-only (watch writes take their own short connection)."""
    from search.store import open_store

    return open_store(folder, readonly=True)
