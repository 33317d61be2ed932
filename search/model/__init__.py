"""The shared encoder, its five heads and the two inference calls (`annotate`, `score_pairs`)."""
from search.model.config import ModelConfig
from search.model.errors import ModelLoadError
from search.model.records import EntitySpan, PassageAnnotation, PairScore
from search.model.newsmodel import NewsModel

__all__ = ["ModelConfig", "ModelLoadError", "EntitySpan", "PassageAnnotation", "PairScore", "NewsModel"]
