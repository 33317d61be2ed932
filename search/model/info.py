"""What a checkpoint folder says about itself, read without loading its weights (no torch import).

A command that only needs a model's identity and settings — `news-index add --engine ray`, whose actors load the
model themselves — reads this in milliseconds instead of importing torch and loading the weights (about 5 s on
a 2-core laptop, before any other work could start).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.model.base import default_checkpoint
from search.model.config import ModelConfig
from search.model.errors import ModelLoadError

CONFIG_FILE = "newsearch.json"


@dataclass(frozen=True)
class ModelInfo:
    """A checkpoint's `name` (its folder), `model_id` (the weights' fingerprint, what stores record), `config`
    (newsearch.json's model section) and `dim` (the embedding width)."""

    name: str
    model_id: str
    config: ModelConfig
    dim: int

    @classmethod
    def read(cls, path: str | Path | None = None) -> ModelInfo:
        """The checkpoint at `path` (default: the released one); raises ModelLoadError when it is not one."""
        folder = Path(path) if path else default_checkpoint()
        meta = read_meta(folder)
        try:
            config = ModelConfig.from_dict(meta["model"])
            dim = int(json.loads((folder / "config.json").read_text())["hidden_size"])
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise ModelLoadError(f"checkpoint at {folder} is corrupt or incomplete ({type(exc).__name__}: "
                                 f"{str(exc)[:200]}); re-copy it or re-run `news-search train`") from exc
        return cls(name=str(folder), model_id=fingerprint(folder), config=config, dim=dim)


def read_meta(folder: Path) -> dict[str, Any]:
    """The checkpoint's newsearch.json; raises ModelLoadError saying what to do when the folder is not one."""
    if not folder.is_dir():
        raise ModelLoadError(f"no checkpoint folder at {folder}: pass --model PATH to a folder written by "
                             "`news-search train`, or set NEWSEARCH_MODEL")
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise ModelLoadError(f"{folder} is not a newsearch checkpoint (no {CONFIG_FILE}); "
                             "train one with `news-search train` or point --model at data/models/newsearch-minilm")
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise ModelLoadError(f"checkpoint at {folder} is corrupt or incomplete (unreadable {CONFIG_FILE}: "
                             f"{exc}); re-copy it or re-run `news-search train`") from exc


def fingerprint(folder: str | Path) -> str:
    """A short hash of the weight files: the index manifest records it to refuse a mismatched model."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.safetensors")):
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]
