"""The shared encoder, its five heads and the two inference calls (`annotate`, `score_pairs`).

`NewsModel` (which imports torch and transformers, seconds on a laptop) is loaded on first use, so a command
that only parses its arguments, or reads a config, starts at once (PEP 562 module `__getattr__`).
"""
from typing import TYPE_CHECKING, Any

from search.model.config import ModelConfig
from search.model.errors import ModelLoadError
from search.model.records import EntitySpan, PairScore, PassageAnnotation

if TYPE_CHECKING:
    from search.model.newsmodel import NewsModel

__all__ = ["ModelConfig", "ModelLoadError", "EntitySpan", "PassageAnnotation", "PairScore", "NewsModel"]


def __getattr__(name: str) -> Any:
    if name == "NewsModel":
        from search.model.newsmodel import NewsModel

        return NewsModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
