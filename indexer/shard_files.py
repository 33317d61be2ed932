"""The files `--engine ray` keeps under `<store>/shards/<model>/` between annotating and merging: a shard's rows
as Parquet (`<shard>.parquet`, its presence meaning "annotated"), its vectors encoded for the store's IVF index
(`<shard>.<template hash>.part`) and that index's empty trained template (`template.<hash>.faiss`)."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from search.store import ArticleWrite, Mention, PassageWrite


def drop_spent_parts(folder: Path) -> None:
    """Delete the part templates (a run writes its own) and the vector parts of shards no longer waiting in
    `folder`: merged, or superseded by the sync adding those passages' vectors from SQLite. Then `folder` itself
    and the `shards/` folder above it, when nothing is left in them (no shard waits to be merged)."""
    if not folder.is_dir():
        return
    waiting = {p.stem for p in folder.glob("*.parquet")}
    for path in [*folder.glob("*.part"), *folder.glob("template.*.faiss")]:
        if path.name.split(".")[0] not in waiting:
            path.unlink(missing_ok=True)
    for empty in (folder, folder.parent):
        if any(empty.iterdir()):
            break
        empty.rmdir()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary name beside `path`, then rename: a crash never leaves half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.rename(path)


def write_shard(path: Path, writes: list[ArticleWrite]) -> None:
    """A shard's rows as one Parquet file (vectors as float16 bytes), written atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{**{k: v for k, v in asdict(w).items() if k not in ("vector", "passages", "mentions", "categories",
                                                                 "extra", "topics")},
             "categories": json.dumps(w.categories), "extra": json.dumps(w.extra), "topics": json.dumps(w.topics),
             "vector": np.asarray(w.vector, np.float16).tobytes(),
             "passages": [{**{k: v for k, v in asdict(p).items() if k != "vector"},
                           "vector": np.asarray(p.vector, np.float16).tobytes()} for p in w.passages],
             "mentions": [asdict(m) for m in w.mentions]} for w in writes]
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    write_atomic(path, sink.getvalue().to_pybytes())


def read_shard(path: Path) -> list[ArticleWrite]:
    """The rows `write_shard` wrote, vectors back as float32."""
    import pyarrow.parquet as pq

    writes = []
    for r in pq.read_table(path).to_pylist():
        passages = [PassageWrite(**{**p, "vector": np.frombuffer(p["vector"], np.float16).astype(np.float32)})
                    for p in r.pop("passages")]
        mentions = [Mention(**m) for m in r.pop("mentions")]
        writes.append(ArticleWrite(**{**r, "categories": json.loads(r["categories"]), "extra": json.loads(r["extra"]),
                                      "topics": json.loads(r["topics"]),
                                      "vector": np.frombuffer(r["vector"], np.float16).astype(np.float32),
                                      "passages": passages, "mentions": mentions}))
    return writes
