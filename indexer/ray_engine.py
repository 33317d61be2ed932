"""`news-index add --engine ray`: annotate on a Ray cluster (or a local Ray sized to the machine), merge locally.

1. The inputs are read by the same readers with the same bad-record rules; unchanged articles are skipped as
   the local engine skips them. The rest are cut into *shards* of `shard_articles` articles; a shard's name is a
   hash of its articles' ids and content hashes, the model and the settings the rows depend on (passage length,
   overlap, entity score floor, alias table), so the same work always has the same name.
2. Ray Data runs the shards that have no Parquet file yet through an actor pool (`map_batches` with a class:
   one loaded model per actor, GPU actors when `gpus_per_worker` > 0). Each actor splits its articles into
   passages, makes the one encoder pass per passage (`indexer.derive.annotate_articles`, as the local engine)
   and writes the shard's rows — articles with their passages (float16 vectors), topics and entity mentions — as
   `<store>/shards/<model>/<shard>.parquet` (pyarrow; written to a temporary name, then renamed). When the run
   keeps the store's IVF or IVF-PQ index, the actor also encodes the shard's vectors with that index's trained
   centroids and codebooks into a *part* (`<shard>.<template hash>.part`, written before the Parquet file).
3. The merge takes the shards in input order, each as soon as it is written (Ray Data streams the actors'
   results back), into SQLite + FTS5 with story clustering; appends the parts' codes to the index under the
   passage ids SQLite gave (FAISS `merge_from`: "trained once, filled shard by shard"); then syncs the vector
   file, which adds any vector no part brought: the same rows, clusters and manifest the local engine writes.

Crash-safe by shard: a shard with a Parquet file is never annotated again, and the merge skips articles already
stored with the same content and model, so re-running the command finishes the job. Shards are deleted once
merged. Ray is an optional extra: `pip install -e ".[cpu,ray]"`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import numpy as np

from indexer.clusters import StoryClusters, recheck
from indexer.pipeline import IndexerConfig, OnProgress, RunReport, _note, finish_watches
from indexer.readers import InputError, Item
from indexer.records import Article, BadRecord
from indexer.shard_files import drop_spent_parts, read_shard, write_atomic, write_shard
from search.pipeline.watch_match import WatchMatcher
from search.store import Store, article_text
from search.store.ray_cluster import connect
from search.store.vectors import fill_part, part_key

if TYPE_CHECKING:
    from search.model.info import ModelInfo

SHARD_ARTICLES = 64
WORKER_MEMORY = 1.5 * 2**30  # bytes an annotating actor may use (the model, torch and a shard), for the default


@dataclass
class RaySettings:
    """Where and how wide the annotation runs."""

    address: str | None = None  # None: a local Ray sized to this machine; "auto" or HOST:PORT: an existing cluster
    workers: int | None = None  # actors, each with its own loaded model; None: `default_workers`
    gpus_per_worker: float = 0.0
    shard_articles: int = SHARD_ARTICLES


class ShardAnnotator:
    """A Ray actor: loads the model once, then annotates whole shards and writes each as Parquet."""

    def __init__(self, model_path: str, config: IndexerConfig, aliases: dict[str, str], folder: str,
                 template: str | None, key: str) -> None:
        from search.model import NewsModel
        from search.store.names import Names

        self.model = NewsModel.load(model_path)
        self.config = config
        self.names = Names(aliases)
        self.folder = Path(folder)
        self.template = Path(template).read_bytes() if template else None  # the store's IVF index, empty
        self.key = key  # the template's `part_key`, which names the parts

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        from indexer.derive import annotate_articles, article_spans

        passages = []
        for name, records in zip(batch["shard"], batch["articles"]):
            articles = [Article(**r) for r in json.loads(records)]
            split = [(a, article_spans(self.model, a, self.config.passage_tokens, self.config.overlap_tokens))
                     for a in articles]
            writes = annotate_articles(self.model, split, self.config.min_entity_score, self.names)
            if self.template is not None:  # before the Parquet file, whose presence means "shard done"
                # the float16 values the shard keeps and SQLite stores, so the part holds what a sync would add
                vectors = np.array([p.vector for w in writes for p in w.passages], np.float16).astype(np.float32)
                write_atomic(self.folder / f"{name}.{self.key}.part",
                              fill_part(self.template, vectors.reshape(-1, self.model.dim)))
            write_shard(self.folder / f"{name}.parquet", writes)
            passages.append(sum(len(w.passages) for w in writes))
        return {"shard": list(batch["shard"]), "passages": passages}


def add_with_ray(store: Store, model: ModelInfo, items: Iterable[Item], settings: RaySettings,
                 config: IndexerConfig, strict: bool = False, index_kind: str | None = None,
                 on_progress: OnProgress | None = None) -> RunReport:
    """Index new and changed articles with Ray (see the module docstring); returns the same report as
    `Indexer.add`. `model` describes the checkpoint the actors load (the command itself never loads weights)."""
    report, start = RunReport(), time.perf_counter()
    progress = on_progress or (lambda articles, passages: None)
    model_id = model.model_id
    store.check_model(model_id)
    if store.model_id is None:
        store.set_model(model_id, model.name)
    todo = _new_or_changed(store, model_id, items, strict, report, progress)
    folder = store.folder / "shards" / model_id
    # what the rows depend on besides the articles: a shard made under other settings is not reused
    made_with = json.dumps([model_id, config.passage_tokens, config.overlap_tokens, config.min_entity_score,
                            store.names.extra], sort_keys=True)
    shards = _shards(todo, made_with, settings.shard_articles)
    missing = [(name, batch) for name, batch in shards if not (folder / f"{name}.parquet").exists()]
    # a store whose IVF index this run keeps: the actors encode their shards' vectors with its trained centroids
    # and codebooks, and the merge appends the codes (`merge_from`) instead of the driver encoding every vector
    template = store.vector_part_template(index_kind) if shards else None
    key = part_key(template) if template else ""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        template_path = folder / f"template.{key}.faiss" if template else None
        if template_path is not None and missing and not template_path.exists():
            write_atomic(template_path, template)
        written = (_annotate(missing, folder, model.name, config, store.names.extra, settings,
                             str(template_path) if template_path else None, key) if missing else None)
        matcher = WatchMatcher(store, model.config.ranking.alpha, model_id)
        parts = _merge(store, model, [name for name, _ in shards], written, folder, config, report, progress,
                       matcher, key)
        report.vectors_merged = store.merge_vector_parts((path.read_bytes(), ids) for path, ids in parts)
        report.watch_matches += matcher.match_pending()  # articles a crashed run wrote and did not match
        recheck(store, config.duplicate_threshold, config.copy_jaccard)
    finally:
        store.sync_vectors(index_kind)  # adds from SQLite whatever no part brought
        drop_spent_parts(folder)
        report.seconds = time.perf_counter() - start
    report.shards_annotated = len(missing)
    finish_watches(store, report, config)
    return report


def _new_or_changed(store: Store, model_id: str, items: Iterable[Item], strict: bool, report: RunReport,
                    progress: OnProgress) -> list[Article]:
    """The articles this run must index, the later record winning for a repeated id; the rest is reported."""
    todo: dict[str, Article] = {}
    seen: dict[str, str] = {}
    for item in items:
        if isinstance(item, BadRecord):
            if strict:
                raise InputError(f"{item} (--strict)")
            report.skipped.append(item)
            progress(1, 0)
            continue
        _note(report, item, seen)
        if store.article_states([item.id]).get(item.id) == (item.content_hash, model_id):
            report.unchanged += 1
            progress(1, 0)
            continue
        if item.id in todo:
            progress(1, 0)
        todo[item.id] = item
    return list(todo.values())


def _shards(articles: list[Article], made_with: str, size: int) -> list[tuple[str, list[Article]]]:
    """Runs of `size` articles, each named by what it holds and `made_with` (model and settings)."""
    shards = []
    for i in range(0, len(articles), size):
        batch = articles[i:i + size]
        digest = hashlib.sha1(made_with.encode())
        for a in batch:
            digest.update(f"{a.id}\0{a.content_hash}\0".encode())
        shards.append((digest.hexdigest()[:20], batch))
    return shards


def _annotate(shards: list[tuple[str, list[Article]]], folder: Path, model_path: str, config: IndexerConfig,
              aliases: dict[str, str], settings: RaySettings, template: str | None, key: str) -> Iterator[str]:
    """Start the actor pool on `shards`; yields each shard's name once its Parquet file is written."""
    import ray
    import ray.data

    # news-index prints its own bar and summary; after the import, which sets the level of Ray Data's loggers
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    workers, cpus = pool_size(join_cluster(settings), settings, len(shards))
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    rows = [{"shard": name, "articles": json.dumps([_record(a) for a in batch])} for name, batch in shards]
    ds = ray.data.from_items(rows, override_num_blocks=len(rows))
    with warnings.catch_warnings():
        # max_restarts=0 (an actor that crashes fails the run, whose re-run resumes by shard, instead of crashing
        # again for ever) is one of the `ray_remote_args` Ray 2.60 warns will go in 2.64; the extra pins ray < 2.64
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*")
        annotated = ds.map_batches(ShardAnnotator, batch_size=1, compute=ray.data.ActorPoolStrategy(size=workers),
                                   num_cpus=cpus, num_gpus=settings.gpus_per_worker, max_restarts=0,
                                   fn_constructor_kwargs={"model_path": model_path, "config": config,
                                                          "aliases": aliases, "folder": str(folder),
                                                          "template": template, "key": key})
    for row in annotated.iter_rows():
        yield row["shard"]


def join_cluster(settings: RaySettings) -> dict[str, float]:
    """Join (or start) the Ray cluster `settings` name and check that it holds the GPUs the actors ask for;
    returns the cluster's Ray resources ("CPU", "GPU", "memory"...). Raises NewsearchError for a malformed
    address, StoreError when the cluster cannot be joined (`search.store.ray_cluster.connect`) and InputError
    when `gpus_per_worker` × the workers asked for is more GPUs than the cluster has: an actor asking for a GPU
    that is not there waits for one for ever."""
    import ray

    connect(settings.address)
    resources = ray.cluster_resources()
    if settings.gpus_per_worker > 0:
        gpus, workers = float(resources.get("GPU", 0.0)), settings.workers or 1
        if gpus == 0:
            raise InputError(f"--gpus-per-worker {settings.gpus_per_worker:g}: the Ray cluster has no GPU; "
                             "leave it out to annotate on CPUs")
        if workers * settings.gpus_per_worker > gpus:
            raise InputError(f"{workers} worker(s) x --gpus-per-worker {settings.gpus_per_worker:g} ask for "
                             f"{workers * settings.gpus_per_worker:g} GPUs and the Ray cluster has {gpus:g}; "
                             "lower --workers or --gpus-per-worker")
    return resources


def pool_size(resources: dict[str, float], settings: RaySettings, shards: int) -> tuple[int, float]:
    """The actor pool for `shards` shards on a cluster with these Ray `resources`: (actors, CPUs per actor).
    Each actor gets a whole share of the cluster's CPUs: Ray sets an actor's OMP_NUM_THREADS (which torch follows)
    to its num_cpus, so the default of 1 left one worker on a 2-core machine at half the local engine's speed. When
    more actors than CPUs are asked for, each gets a fraction: an actor asking for a whole CPU the cluster does not
    have would wait for one for ever."""
    workers = min(settings.workers or default_workers(resources, settings.gpus_per_worker), shards)
    cpus = float(resources.get("CPU", 1.0))
    return workers, (cpus // workers if workers <= cpus else cpus / workers)


def default_workers(resources: dict[str, float], gpus_per_worker: float) -> int:
    """Actors for a cluster with these Ray `resources`: as many as its GPUs hold at `gpus_per_worker`, else one
    per CPU, as far as its memory allows `WORKER_MEMORY` each. One single-threaded actor per core beat one
    actor with every core (measured on 2 cores: 97.9 s against 120.2 s for 1,000 articles, `docs/scale.md`):
    torch's threads share one batch less well than processes share the shards."""
    if gpus_per_worker > 0:
        return max(1, int(resources.get("GPU", 0) / gpus_per_worker))
    by_memory = int(resources.get("memory", WORKER_MEMORY) // WORKER_MEMORY)
    return max(1, min(int(resources.get("CPU", 1)), by_memory))


def _merge(store: Store, model: ModelInfo, names: list[str], written: Iterator[str] | None, folder: Path,
           config: IndexerConfig, report: RunReport, progress: OnProgress, matcher: WatchMatcher,
           key: str) -> list[tuple[Path, np.ndarray]]:
    """Write each shard into the store in input order — one written by an earlier run at once, one being
    annotated when `written` yields it — skipping articles already stored alike; a merged shard's file goes.
    Returns the vector parts to merge (made from template `key`) with their passages' new ids: those of shards
    written whole (a part holds every passage of its shard)."""
    parts = []
    clusters = StoryClusters.from_store(store, model.model_id, model.dim, config.duplicate_threshold,
                                        config.copy_jaccard)
    for name in names:
        path = folder / f"{name}.parquet"
        while not path.exists():  # wait for the actors: shards finished out of turn wait on disk for theirs
            if written is None or next(written, None) is None:
                raise RuntimeError(f"shard {name} was not written: run the same command again")
        shard = read_shard(path)
        states = store.article_states([w.id for w in shard])
        writes = [w for w in shard if states.get(w.id) != (w.content_hash, model.model_id)]
        replaced = {w.id for w in writes if w.id in states}
        for w in writes:
            w.cluster_id = clusters.assign(w.id, w.vector, article_text(w.title, w.body))
        store.replace_articles(writes, match_watches=True)
        part = folder / f"{name}.{key}.part"
        if key and len(writes) == len(shard) and part.exists():
            parts.append((part, store.article_passage_ids([w.id for w in writes])))
        report.watch_matches += matcher.match_pending()
        passages = sum(len(w.passages) for w in writes)
        report.passages += passages
        report.updated += sum(w.id in replaced for w in writes)
        report.added += sum(w.id not in replaced for w in writes)
        progress(len(writes), passages)
        path.unlink()
    return parts


def _record(a: Article) -> dict[str, Any]:
    return {k: v for k, v in asdict(a).items() if k not in ("origin", "notes")}
