"""What the app loads once per process and shares between requests."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from search.api.metrics import Metrics
from search.api.settings import ServeSettings
from search.model import NewsModel
from search.model.config import RankingSettings
from search.pipeline import SearchPipeline
from search.pipeline.admission import Admission
from search.pipeline.priority import PairThreads
from search.store import ShardedStore, Store, open_store

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"


@dataclass
class AppState:
    """The loaded model, the read-only store and the pipeline over both, shared by every request."""

    model: NewsModel
    store: Store | ShardedStore
    store_dir: Path
    pipeline: SearchPipeline
    settings: ServeSettings
    checkpoint_ranking: RankingSettings  # the model's own, before serve's --rerank-depth/--rerank-margin/--pair-window
    metrics: Metrics = field(default_factory=Metrics)
    static_dir: Path = STATIC_DIR

    @classmethod
    def load(cls, store_dir: str | Path, model_path: str | Path | None = None,
             settings: ServeSettings | None = None) -> "AppState":
        """Open the store read-only, load the model (its pair pass on the settings' runtime), and refuse a model
        the index was not built with."""
        settings = settings or ServeSettings()
        if settings.shards == "ray":  # one actor per shard, anywhere on the cluster (search/store/ray_shards.py)
            from search.store.ray_shards import open_on_ray
            store: Store | ShardedStore = open_on_ray(store_dir, settings.ray_address)
        else:  # one store or a sharded one, its shards read by threads (search/store/sharded.py)
            store = open_store(store_dir, readonly=True)
        model = NewsModel.load(model_path, runtime=settings.runtime)
        checkpoint_ranking = model.config.ranking
        # the server's defaults, which /health shows and a request may override
        model.config.ranking = model.config.ranking.overridden(rerank_depth=settings.rerank_depth,
                                                               pair_window=settings.pair_window,
                                                               rerank_margin=settings.rerank_margin)
        store.check_model(model.model_id)
        store.load_vectors()  # the first search should not pay for it; a damaged file stops the server here
        admission = Admission(settings.passes, settings.max_waiting, settings.deadline_s)
        state = cls(model=model, store=store, store_dir=Path(store_dir),
                    pipeline=SearchPipeline(model, store, admission=admission,
                                            pair_threads=PairThreads(settings.passes, settings.pair_nice)),
                    settings=settings,
                    checkpoint_ranking=checkpoint_ranking)
        state.metrics.watch(admission, store, model.model_id, model.name)
        return state
