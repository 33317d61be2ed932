"""The manifest: which store and which model the vector file belongs to, written next to it."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

FORMAT = 1


@dataclass
class Manifest:
    """Ties the vector index to one store (store_id) and one checkpoint (model_id); rewritten by every sync."""

    store_id: str
    model_id: str
    model_name: str
    schema_version: int
    dim: int
    index_kind: str  # what was asked for: auto, flat, hnsw or ivf
    index_type: str  # what the index holds: flat, hnsw, ivf or ivfpq
    vectors: int
    vector_file: str  # "" for flat: built from SQLite in memory (search/store/vector_sync.py)
    updated_at: str
    format: int = FORMAT

    @classmethod
    def read(cls, path: Path) -> "Manifest | None":
        """The manifest at `path`, or None when missing or unreadable (the store then rebuilds the vector file)."""
        try:
            data = json.loads(path.read_text())
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return None

    def write(self, path: Path) -> None:
        """Write atomically (temporary file, then rename)."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(tmp, path)
