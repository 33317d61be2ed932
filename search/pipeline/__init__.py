"""The query pipeline: one module per stage (encode, retrieve, rerank+read, group, paginate, facets).

`SearchPipeline` (which needs the model, hence torch) is imported on first use, so the records and the
validation load without it (PEP 562 module `__getattr__`).
"""
from typing import TYPE_CHECKING, Any

from search.pipeline.records import Answer, Result, SearchRequest, SearchResponse
from search.pipeline.validate import API_NAMES, LIMITS, InvalidRequest, Limits, Naming

if TYPE_CHECKING:
    from search.pipeline.pipeline import SearchPipeline

__all__ = ["SearchPipeline", "SearchRequest", "SearchResponse", "Result", "Answer", "InvalidRequest", "Limits",
           "LIMITS", "Naming", "API_NAMES"]


def __getattr__(name: str) -> Any:
    if name == "SearchPipeline":
        from search.pipeline.pipeline import SearchPipeline

        return SearchPipeline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
