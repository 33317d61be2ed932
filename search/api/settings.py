"""How one `news-search serve` process serves: model runtime, pair-pass admission, and who may call it."""
from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_MAX_WAITING = 32  # searches waiting for the pair pass before new ones get 503 (about 15 s of work here)
DEFAULT_DEADLINE_S = 30.0  # longest a search may wait for its pair pass before it gets 503
DEFAULT_PAIR_NICE = 10  # the pair pass's threads run this much below normal CPU priority (search/pipeline/priority.py)


@dataclass
class ServeSettings:
    """Settings of the app `create_app` builds (the `serve` flags of the same names)."""

    passes: int = 1  # pair passes run at once (search/pipeline/admission.py)
    pair_nice: int = DEFAULT_PAIR_NICE  # their threads' nice value above normal; 0: the request's own thread
    runtime: str = "auto"  # the pair pass's runtime (search/model/runtime.py)
    max_waiting: int | None = DEFAULT_MAX_WAITING  # None: no bound
    deadline_s: float | None = DEFAULT_DEADLINE_S  # None: no bound
    api_key: str | None = None  # when set, every request but the page's own files needs `Authorization: Bearer <key>`
    cors_origins: list[str] = field(default_factory=list)  # origins allowed to call the API from a browser
    shards: str = "threads"  # a sharded store's shards: threads of this process, or "ray": an actor each
    ray_address: str | None = None  # shards "ray": the cluster ("auto", HOST:PORT; None: a local Ray)
    rerank_depth: int | None = None  # the searches' default rerank depth (None: the model's setting)
    pair_window: int | None = None  # the searches' default pair window (None: the model's setting)
    rerank_margin: float | None = None  # the searches' default rerank margin (None: the model's setting)
