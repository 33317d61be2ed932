"""Shards served by Ray actors (`news-search serve --shards ray`): each shard of a sharded store is opened by an
actor of its own — on any node of a Ray cluster that reaches the store's folder at the same path (a shared file
system) — so a store can be searched past one machine's memory. `ShardedStore` calls each shard through a
`RemoteShard`, which answers as a `Store` does: the same reads, merged the same way, so the results equal those
of the threads of one process (tested).

Ray is an optional extra (`pip install -e ".[cpu,ray]"`); it is imported only here.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from search.store.errors import StoreError
from search.store.ray_cluster import connect
from search.store.sharded import LAYOUT_FILE, ShardedStore, is_sharded
from search.store.store import Store

ACTOR_CPUS = 1.0  # a shard's reads are SQLite and batch-1 FAISS searches: one core each, where there are enough
OPEN_TIMEOUT_S = 120.0  # for every shard's actor to start and open its store


class ShardServer:
    """A Ray actor holding one shard, opened read-only with its vector index loaded."""

    def __init__(self, folder: str) -> None:
        self.store = Store.open(folder, readonly=True)
        self.store.load_vectors()

    def read(self, name: str, args: tuple, kwargs: dict) -> Any:
        """`Store.<name>(*args, **kwargs)`, or the property `name` when it is one."""
        value = getattr(self.store, name)
        return value(*args, **kwargs) if callable(value) else value


class RemoteShard:
    """A shard's `Store` read through its `ShardServer` actor: a method call or a property read becomes one
    actor call (its result pickled back). Read-only: writes go to the shard folders with `news-index`."""

    readonly = True
    upgraded_from = None  # opened read-only: never converted

    def __init__(self, actor: Any, folder: Path) -> None:
        self.actor = actor
        self.folder = folder

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not hasattr(Store, name):
            raise AttributeError(name)
        if isinstance(getattr(Store, name), property):
            return self._read(name, (), {})
        call: Callable[..., Any] = lambda *args, **kwargs: self._read(name, args, kwargs)
        return call

    def _read(self, name: str, args: tuple, kwargs: dict) -> Any:
        """One actor call; the shard's own error (a StoreError, a bad value) is raised here as itself, not in
        Ray's wrapping with the actor's traceback; a shard whose actor is gone is a busy StoreError."""
        import ray

        try:
            return ray.get(self.actor.read.remote(name, args, kwargs))
        except ray.exceptions.RayTaskError as exc:
            raise (exc.cause if isinstance(exc.cause, Exception) else exc) from None
        except ray.exceptions.RayActorError as exc:
            raise StoreError(f"the shard {self.folder} is not answering ({_cause(exc)}); try again when its actor "
                             "has restarted", busy=True) from exc


def open_on_ray(folder: str | Path, address: str | None = None, timeout_s: float = OPEN_TIMEOUT_S) -> ShardedStore:
    """The sharded store in `folder` with one `ShardServer` actor per shard, on the Ray cluster at `address`
    ("auto", HOST:PORT, or None: a local Ray started here); each actor asks for one CPU, or an equal share of
    the cluster's when it has fewer CPUs than shards. StoreError when `folder` holds no sharded store, a shard
    cannot be opened (the actor's error, e.g. no store, a damaged vector file), or the actors do not all start
    within `timeout_s` seconds (the cluster's CPUs are held by other work)."""
    import ray

    folder = Path(folder).resolve()
    if not is_sharded(folder):
        raise StoreError(f"{folder} is not a sharded store: shards on Ray need one made by "
                         f"`news-index add PATH --store {folder} --shards N`")
    count = int(json.loads((folder / LAYOUT_FILE).read_text(encoding="utf-8"))["shards"])
    connect(address)
    # a share of the cluster's CPUs when it has fewer than shards: an actor asking for a whole CPU that is not there
    # waits for one forever (a 4-shard store on a 2-core laptop never started)
    cpus = min(ACTOR_CPUS, float(ray.cluster_resources().get("CPU", 1.0)) / count)
    # a lost actor reopens its shard and a read it was answering runs again (reads change nothing); a few reads
    # at once per shard, as API threads share one Store
    server = ray.remote(num_cpus=cpus, max_restarts=-1, max_task_retries=2, max_concurrency=4)(ShardServer)
    actors = [server.remote(str(folder / f"shard-{i:03d}")) for i in range(count)]
    shards = [RemoteShard(actor, folder / f"shard-{i:03d}") for i, actor in enumerate(actors)]
    try:  # every shard opened, or why not
        ray.get([actor.read.remote("model_id", (), {}) for actor in actors], timeout=timeout_s)
    except ray.exceptions.RayActorError as exc:
        raise StoreError(f"a shard of {folder} could not be opened on Ray: {_cause(exc)}") from exc
    except ray.exceptions.GetTimeoutError as exc:
        for actor in actors:
            ray.kill(actor)
        raise StoreError(f"the {count} shard actors of {folder} did not all start within {timeout_s:g} s; each "
                         f"asks for {cpus:g} CPU and the cluster has {ray.available_resources().get('CPU', 0):g} "
                         "free (`ray status` shows what holds the rest)", busy=True) from exc
    return ShardedStore(folder, shards)  # type: ignore[arg-type]  # RemoteShard answers as a Store


def _cause(exc: Exception) -> str:
    """The last line of the actor's own error (Ray wraps it in its traceback)."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
