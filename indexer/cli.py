"""`news-index`: build and maintain a newsearch store from article files.

Exit codes: 0 done; 1 done, but some records were skipped or some ids were not found; 2 bad arguments or
input (including a bad record under --strict); 3 store or model problem (no store, a store built by another
model: run rebuild; an unwritable folder; a full disk); 4 `check` found a problem (`repair` fixes what SQLite
can rebuild); 130 interrupted (what was committed stays, and running the same command again finishes the job).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from rich.console import Console
from tqdm import tqdm

from indexer.pipeline import Indexer, IndexerConfig, OnProgress, RunReport, delete
from indexer.readers import InputError, count_records, read_aliases, read_inputs
from indexer.repair import repair
from indexer.sharded import add_sharded, delete_sharded
from indexer.summary import print_checks, print_pairs, print_report, print_stats, print_tuning
from search.commands import ArgumentParser, reader_gone
from search.errors import NewsearchError
from search.model import ModelConfig, ModelLoadError
from search.store import ShardedStore, Store, StoreError, open_store
from search.store.backup import backup
from search.store.check import check_store
from search.store.ray_cluster import check_address
from search.store.schema import SCHEMA_VERSION
from search.store.sharded import LAYOUT_FILE, is_sharded

if TYPE_CHECKING:
    from search.model import NewsModel

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_STORE, EXIT_DAMAGED, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
INDEX_KINDS = ["auto", "flat", "hnsw", "ivf", "ivfpq"]
MIN_PASSAGE_TOKENS = 16  # below this a passage is a few words: no room for a sentence and its overlap


def build_parser() -> argparse.ArgumentParser:
    """The `news-index` argument parser (add, delete, rebuild, stats)."""
    parser = ArgumentParser(prog="news-index", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--store", default="store", help="store folder (default: ./store)")
    index = argparse.ArgumentParser(add_help=False)
    index.add_argument("--index", choices=INDEX_KINDS, default=None,
                       help="vector index type (default: keep the store's; a new store uses auto, by corpus size)")
    model = argparse.ArgumentParser(add_help=False)
    model.add_argument("--model", default=None, help="checkpoint folder (default: $NEWSEARCH_MODEL or the "
                                                     "released one)")
    model.add_argument("--batch-passages", type=_positive, default=IndexerConfig.batch_passages,
                       help="passages annotated and committed together")
    model.add_argument("--passage-tokens", type=_positive, default=None,
                       help="passage length in word pieces, 16 up to the model's limit (default: the limit, 256): "
                            "shorter passages give finer answers and more rows; applies to the articles this run "
                            "indexes (`rebuild --passage-tokens N` re-cuts them all)")

    add = sub.add_parser("add", parents=[store, index, model], help="index new and changed articles")
    add.add_argument("paths", nargs="+", metavar="PATH", help=".jsonl, .csv, .txt, .md files, folders, or - (stdin)")
    add.add_argument("--strict", action="store_true", help="stop at the first bad record instead of skipping it")
    add.add_argument("--engine", choices=["local", "ray"], default="local",
                     help="local: this process (default); ray: annotate on Ray actors, then merge here "
                          "(needs `pip install -e \".[cpu,ray]\"`)")
    add.add_argument("--ray-address", default=None, metavar="auto|HOST:PORT",
                     help="an existing Ray cluster (default: start a local Ray sized to this machine)")
    add.add_argument("--workers", type=_positive, default=None,
                     help="--engine ray: actors, each with its own model (default: one per CPU of the cluster, "
                          "as its memory allows, or per GPU share with --gpus-per-worker)")
    add.add_argument("--gpus-per-worker", type=_gpus, default=0.0,
                     help="--engine ray: GPUs per actor (e.g. 0.5; default 0: CPU actors)")
    add.add_argument("--shards", type=_positive, default=None,
                     help="split a new store into N shards (each its own SQLite and vector file), searched in "
                          "parallel and merged; later runs keep the store's shards")
    add.add_argument("--aliases", metavar="FILE", default=None,
                     help='JSON object of entity aliases, {"alias": "canonical name", ...}, added to the store\'s '
                          "table (kept for later runs; applies to the articles indexed from now on and to filters)")
    add.set_defaults(func=cmd_add)
    rm = sub.add_parser("delete", parents=[store, index], help="remove articles by id")
    rm.add_argument("ids", nargs="+", metavar="ID")
    rm.set_defaults(func=cmd_delete)
    rebuild = sub.add_parser("rebuild", parents=[store, index, model], help="annotate every article again")
    rebuild.set_defaults(func=cmd_rebuild)
    stats = sub.add_parser("stats", parents=[store], help="what the store holds")
    stats.add_argument("--json", action="store_true", help="print JSON instead of a table")
    stats.set_defaults(func=cmd_stats)
    check = sub.add_parser("check", parents=[store], help="check that SQLite, FTS5 and the vector file agree")
    check.set_defaults(func=cmd_check)
    repair = sub.add_parser("repair", parents=[store], help="rebuild the FTS5 index and the vector file from SQLite")
    repair.set_defaults(func=cmd_repair)
    tune = sub.add_parser("tune-index", parents=[store], help="choose the vector index's search settings for a "
                          "recall target, measured on the store's passages (or set them with the flags below)")
    tune.add_argument("--recall", type=_fraction, default=0.95,
                      help="recall@10 against exact search to reach at the lowest latency (default 0.95)")
    tune.add_argument("--queries", type=_positive, default=200, help="stored passages used as queries (default 200)")
    tune.add_argument("--nprobe", type=_positive, default=None, help="set: IVF lists visited per query")
    tune.add_argument("--ef-search", type=_positive, default=None, help="set: HNSW candidate list length")
    tune.add_argument("--refine", type=_positive, default=None,
                      help="set: ivfpq candidates re-scored exactly per result")
    tune.set_defaults(func=cmd_tune_index)
    backup = sub.add_parser("backup", parents=[store], help="copy the store consistently, even while it is used")
    backup.add_argument("dest", metavar="DEST", help="a new or empty folder for the copy")
    backup.set_defaults(func=cmd_backup)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `news-index` with `argv`; returns the exit code (see the module docstring)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except BrokenPipeError:  # before OSError: the reader of the output went away, nothing failed
        return reader_gone()
    except (StoreError, ModelLoadError, OSError) as exc:
        return _fail(str(exc), EXIT_STORE)
    except NewsearchError as exc:  # the rest of newsearch's own errors are the user's input (a --ray-address...)
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail("interrupted; committed work is kept, run the same command again to finish", EXIT_INTERRUPTED)


def cmd_add(args: argparse.Namespace) -> int:
    """`news-index add`: index new and changed articles."""
    ray_only = [flag for flag, value in (("--ray-address", args.ray_address), ("--workers", args.workers),
                                         ("--gpus-per-worker", args.gpus_per_worker)) if value]
    if ray_only and args.engine != "ray":  # indexing here instead would hide that the cluster was never used
        one = len(ray_only) == 1
        raise InputError(f"{', '.join(ray_only)} {'applies' if one else 'apply'} to --engine ray; add --engine ray "
                         f"or leave {'it' if one else 'them'} out")
    check_address(args.ray_address)  # before the inputs are read and Ray starts
    aliases = read_aliases(args.aliases) if args.aliases else {}
    total = count_records(args.paths)  # a first, cheap pass (no model), so the bar has a total and an ETA
    items = read_inputs(args.paths)
    if args.engine == "ray":
        return _add_with_ray(args, aliases, items, total)
    model, config = _model(args)  # a bad --passage-tokens must not leave an empty store behind
    store = _store_for_add(args, model.model_id, aliases)
    if isinstance(store, ShardedStore):
        bar, on_progress = _progress("indexing", total)
        with bar:
            report = add_sharded(store, model, config, items, args.strict, args.index, on_progress)
        return _finish(store, "news-index add", report)
    indexer = Indexer(store, model, config)
    bar, indexer.on_progress = _progress("indexing", total)
    with bar:
        report = indexer.add(items, strict=args.strict, index_kind=args.index)
    return _finish(store, "news-index add", report)


def _add_with_ray(args: argparse.Namespace, aliases: dict[str, str], items, total: int | None) -> int:
    """`news-index add --engine ray` (indexer/ray_engine.py). The command reads the model's identity only
    (`ModelInfo`): the actors load the weights, so it starts Ray without first spending seconds on torch."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise InputError('--engine ray needs Ray: pip install -e ".[cpu,ray]"')
    import ray

    from indexer.ray_engine import RaySettings, add_with_ray, join_cluster
    from search.model.info import ModelInfo

    if args.shards:  # before the folder is made
        raise InputError("--engine ray indexes into one unsharded store, not one split by --shards; leave out "
                         "--engine or --shards")
    info = ModelInfo.read(args.model)
    config = _indexer_config(args, info.config)
    if is_sharded(args.store):  # before Ray starts
        raise InputError(f"--engine ray indexes into one unsharded store and {args.store} has shards; leave out "
                         "--engine")
    settings = RaySettings(address=args.ray_address, workers=args.workers, gpus_per_worker=args.gpus_per_worker)
    start, ours = time.perf_counter(), not ray.is_initialized()  # a caller's own Ray (tests) stays up
    try:
        join_cluster(settings)  # a wrong address or missing GPUs: one line before the store is made
        store = _store_for_add(args, info.model_id, aliases)
        bar, on_progress = _progress("indexing (ray)", total)
        with bar:
            report = add_with_ray(store, info, items, settings, config, strict=args.strict, index_kind=args.index,
                                  on_progress=on_progress)
    finally:
        if ours:
            ray.shutdown()
    report.seconds = time.perf_counter() - start  # the summary's time and rate count Ray's start and stop too
    return _finish(store, "news-index add --engine ray", report)


def _store_for_add(args: argparse.Namespace, model_id: str, aliases: dict[str, str]) -> Store | ShardedStore:
    """The store `add` writes to, created if new, with the alias table; refuses one indexed by another model
    before the progress bar, so a refusal is one clean line."""
    store = open_store(args.store, create=True, shards=args.shards)
    if aliases:
        store.add_aliases(aliases)
    store.check_model(model_id)
    return store


def cmd_rebuild(args: argparse.Namespace) -> int:
    """`news-index rebuild`: annotate every article again with the current model (shard by shard)."""
    model, config = _model(args)
    code = EXIT_OK
    for label, store in _stores(args.store):
        indexer = Indexer(store, model, config)
        bar, indexer.on_progress = _progress(f"re-annotating{label}", len(indexer.rebuild_ids()))
        with bar:
            report = indexer.rebuild(args.index)
        code = max(code, _finish(store, f"news-index rebuild{label}", report))
    return code


def cmd_delete(args: argparse.Namespace) -> int:
    """`news-index delete`: remove articles by id."""
    store = open_store(args.store)
    report = (delete_sharded(store, args.ids, args.index) if isinstance(store, ShardedStore)
              else delete(store, args.ids, args.index))
    return _finish(store, "news-index delete", report, always=("deleted", "time"))


def cmd_stats(args: argparse.Namespace) -> int:
    """`news-index stats`: what the store holds, as a table or JSON."""
    stats = open_store(args.store, readonly=True).stats()
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        print_stats(Console(), args.store, stats)
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """`news-index check`: every part of the store against SQLite; exit 4 when something is wrong."""
    checks = []
    for label, store in _stores(args.store, readonly=True):
        found = check_store(store)
        print_checks(Console(), f"news-index check {args.store}{label}", found)
        checks += found
    if all(c.ok for c in checks):
        return EXIT_OK
    fix = (f"`news-index repair --store {args.store}` rebuilds it from SQLite" if all(c.ok or c.repairable for c in checks)
           else "SQLite itself is damaged: restore a backup (`news-index backup`) or index the articles again")
    return _fail(f"the store has problems; {fix}", EXIT_DAMAGED)


def cmd_repair(args: argparse.Namespace) -> int:
    """`news-index repair`: rebuild what SQLite can rebuild, then check again."""
    console, checks = Console(), []
    for label, store in _stores(args.store):
        print_pairs(console, f"news-index repair {args.store}{label}", repair(store))
        found = check_store(store)
        print_checks(console, "then check", found)
        if all(c.ok for c in found):  # FTS5's rebuild frees the old index's pages
            store.release_free_pages()
        checks += found
    return EXIT_OK if all(c.ok for c in checks) else _fail(
        "SQLite itself is damaged: restore a backup (`news-index backup`) or index the articles again", EXIT_DAMAGED)


def cmd_tune_index(args: argparse.Namespace) -> int:
    """`news-index tune-index`: measure and keep the cheapest search settings reaching --recall, or set them
    (each shard of a sharded store on its own vectors)."""
    given = {name: value for name, value in (("nprobe", args.nprobe), ("ef_search", args.ef_search),
                                              ("refine", args.refine)) if value is not None}
    missed = []
    for label, store in _stores(args.store):
        if not store.count("passages"):
            print(f"news-index tune-index {args.store}{label}: no passages yet, nothing to measure")
            continue
        if given:
            store.set_search_settings(replace(store.search_settings, **given))
            print_pairs(Console(), f"news-index tune-index {args.store}{label}",
                        [(name, str(value)) for name, value in asdict(store.search_settings).items()])
            continue
        with tqdm(desc=f"measuring settings{label}", unit=" settings", file=sys.stderr) as bar:
            tuning = store.tune_vector_search(args.recall, args.queries, on_trial=lambda _: bar.update(1))
        print_tuning(Console(), f"news-index tune-index {args.store}{label}", tuning)
        if not tuning.reached:
            missed.append(f"{label.strip() or 'the store'} reached {tuning.chosen.recall_low:.3f}")
    if not missed:
        return EXIT_OK
    return _fail(f"no setting reached recall@10 {args.recall} ({'; '.join(missed)}); the best found is kept; "
                 "try `--index hnsw` or `--index ivf`", EXIT_PARTIAL)


def cmd_backup(args: argparse.Namespace) -> int:
    """`news-index backup DEST`: a consistent copy, taken while the store is read or written (shard by shard,
    each consistent in itself, for a sharded store)."""
    store = open_store(args.store, readonly=True)
    if isinstance(store, ShardedStore):
        dest = Path(args.dest)
        if dest.exists() and any(dest.iterdir()):
            raise StoreError(f"{dest} is not empty: give a new folder for the backup")
        for i, shard in enumerate(store.shards):
            backup(shard, dest / f"shard-{i:03d}")
        shutil.copyfile(store.folder / LAYOUT_FILE, dest / LAYOUT_FILE)
        copy = open_store(dest, readonly=True)
    else:
        copy = backup(store, args.dest)
    stats = copy.stats()
    print_pairs(Console(), f"news-index backup {args.store} → {args.dest}",
                [("articles / passages", f"{stats['articles']} / {stats['passages']}"),
                 ("vectors", str(stats["vectors"])), ("size", f"{copy.disk_bytes() / 2**20:.1f} MiB")])
    return EXIT_OK


def _model(args: argparse.Namespace) -> tuple[NewsModel, IndexerConfig]:
    """The model of `--model` and the indexer settings of the command line, checked against that model."""
    from search.model import NewsModel  # torch and transformers: only for the commands that encode

    model = NewsModel.load(args.model)
    return model, _indexer_config(args, model.config)


def _indexer_config(args: argparse.Namespace, model: ModelConfig) -> IndexerConfig:
    """The indexer settings of the command line; raises InputError on a passage length the model cannot read."""
    limit = model.max_passage_tokens
    tokens = args.passage_tokens or limit
    if not MIN_PASSAGE_TOKENS <= tokens <= limit:
        raise InputError(f"--passage-tokens must be between {MIN_PASSAGE_TOKENS} and {limit} (this model's limit), "
                         f"got {tokens}")
    return IndexerConfig(batch_passages=args.batch_passages, passage_tokens=tokens)


def _stores(folder: str, readonly: bool = False) -> list[tuple[str, Store]]:
    """(" shard-00i" or "", store) for each store part a command works on: the shards of a sharded store, or
    the store itself."""
    store = open_store(folder, readonly=readonly)
    if isinstance(store, ShardedStore):
        return [(f" shard-{i:03d}", shard) for i, shard in enumerate(store.shards)]
    return [("", store)]


def _progress(what: str, total: int | None) -> tuple[tqdm, OnProgress]:
    """A bar of articles done out of `total` (with its ETA), and the passages annotated so far, and the
    callback that moves it as an indexer commits a batch or passes over an unchanged or bad record."""
    bar = tqdm(desc=what, total=total, unit=" articles", file=sys.stderr, dynamic_ncols=True)
    passages_done = 0

    def on_progress(articles: int, passages: int) -> None:
        nonlocal passages_done
        passages_done += passages
        bar.set_postfix(passages=passages_done, refresh=False)
        bar.update(articles)

    return bar, on_progress


def _finish(store: Store | ShardedStore, title: str, report: RunReport,
            always: tuple[str, ...] = ("added", "passages/s", "time")) -> int:
    store.release_free_pages()  # what the run freed goes back to the disk before the summary counts the bytes
    if store.upgraded_from is not None:
        report.notes.append(f"the store was converted from schema {store.upgraded_from} to {SCHEMA_VERSION} and "
                            "compacted: the text kept once, no file for a flat index (docs/scale.md)")
    print_report(Console(), title, report, store.stats(), always)
    return EXIT_PARTIAL if report.skipped or report.not_found else EXIT_OK


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _number(low: float, high: float, low_included: bool, wanted: str) -> Callable[[str], float]:
    """An argparse type: a float in [low, high] (low excluded unless `low_included`), else `wanted` in the error."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not ((low <= value if low_included else low < value) and value <= high):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value
    return parse


_gpus = _number(0.0, 1e6, True, "a number of GPUs of 0 or more (e.g. 0.5)")
_fraction = _number(0.0, 1.0, False, "a number above 0 and at most 1")


def _fail(message: str, code: int) -> int:
    print(f"news-index: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
