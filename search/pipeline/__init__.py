"""The query pipeline: one module per stage (encode, retrieve, rerank+read, group, paginate, facets)."""
from search.pipeline.pipeline import SearchPipeline
from search.pipeline.records import Answer, Result, SearchRequest, SearchResponse
from search.pipeline.validate import LIMITS, InvalidRequest, Limits

__all__ = ["SearchPipeline", "SearchRequest", "SearchResponse", "Result", "Answer", "InvalidRequest", "Limits",
           "LIMITS"]
