"""The records that flow between pipeline stages and out of the pipeline.

Each stage takes and returns plain dataclasses so that stages can be tested on their own, and the API
and the terminal command can serialise a response with `dataclasses.asdict` without a second schema.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from search.store import Filters, PassageRow

Matched = Literal["dense", "lexical", "both"]


@dataclass
class SearchRequest:
    """One search, as a person or a client asks for it (validated by `search.pipeline.validate`)."""

    query: str
    k: int | None = None  # candidate passages each retriever gives and fusion keeps (None: the model's setting)
    page: int = 1  # 1-based
    size: int = 10  # articles per page
    # order by the pair head's relevance (else by the fused retrieval score). On by default: the answers need the
    # same pair pass anyway, and `news-search eval` measures the released pair head's rerank above the fused order
    rerank: bool = True
    answers: bool = True  # return the answer span found in each best passage
    filters: Filters = field(default_factory=Filters)
    recency: float = 0.0  # 0 = relevance only, 1 = newest first; see `search.pipeline.recency`
    fusion: str | None = None  # convex | dbsf | rrf (None: the model's setting); see `search.pipeline.fusion`
    alpha: float | None = None  # weight of the dense list in convex / dbsf fusion (None: the model's setting)
    # the speed / quality trade-off (docs/speed.md): fused candidates the pair pass considers, the word pieces
    # of each passage it reads (0 = whole), and how far below the first candidate's fused score it still reads
    # one (0..1); None: the model's setting (or the server's, `serve --rerank-depth`)
    rerank_depth: int | None = None
    pair_window: int | None = None
    rerank_margin: float | None = None


@dataclass
class Candidate:
    """A passage found by retrieval, with where it ranked in each list and its fused score."""

    passage_id: int
    fused: float  # fused retrieval score, 0..1 (search.pipeline.fusion)
    dense_rank: int | None = None  # 1-based rank in the FAISS list, None = not found there
    lexical_rank: int | None = None  # 1-based rank in the FTS5/BM25 list

    @property
    def matched(self) -> Matched:
        """Which retriever found the passage: dense, lexical or both."""
        if self.dense_rank is not None and self.lexical_rank is not None:
            return "both"
        return "dense" if self.dense_rank is not None else "lexical"


@dataclass
class Answer:
    """The answer span inside a passage: character offsets into the passage text it comes with."""

    start: int
    end: int
    text: str
    confidence: float  # 0..1


@dataclass
class ScoredPassage:
    """A candidate after rerank+read: its text and metadata, relevance (0..1) and answer span."""

    candidate: Candidate
    row: PassageRow  # text, article metadata, cluster id, entity mentions
    relevance: float
    answer: Answer | None
    pair: float | None = None  # the pair head's score (clipped to 0..1); None: no pair pass for this passage


@dataclass
class PassageHit:
    """The best passage of a result, as returned to clients."""

    passage_id: int
    position: int  # index of the passage within its article
    text: str
    start: int  # character offsets of the passage within the article text
    end: int
    answer: Answer | None
    terms: list[tuple[int, int]] = field(default_factory=list)  # where the query's words occur in `text`
    # (search/pipeline/highlight.py), (start, end) offsets like the answer's


@dataclass
class Result:
    """One article in the result list."""

    article_id: str
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    topic: str | None
    entities: list[str]  # most mentioned entities of the best passage, most first
    score: float  # what the list is ordered by: (1 - recency) * relevance + recency * freshness
    relevance: float
    freshness: float
    matched: Matched  # which retriever found the best passage: dense, lexical or both
    pair_score: float | None  # the pair head's 0..1 score of the best passage (None: it had no pair pass)
    passage: PassageHit
    cluster_id: str | None = None
    similar: int = 0  # near-duplicate articles of the same story folded into this result
    similar_ids: list[str] = field(default_factory=list)


@dataclass
class FacetValue:
    """One facet value and how many articles have it."""

    value: str
    count: int


@dataclass
class SearchResponse:
    """The page of results plus what a client needs to draw facets, paging and timings."""

    query: str
    total: int  # results (after grouping and collapsing) across all pages
    page: int
    size: int
    pages: int
    results: list[Result]
    facets: dict[str, list[FacetValue]]  # "topics" | "entities" | "sources" -> counts in the candidate set, most
    # first; "dates" -> articles per day / month / year (values YYYY-MM-DD, YYYY-MM or YYYY), oldest first
    timings_ms: dict[str, float]  # per stage, plus "total"
    candidates: int  # fused passages, of which the first `ranking["rerank_depth"]` the pair pass considers
    ranking: dict[str, float | int | str] = field(default_factory=dict)  # the settings this search ran with
    # (the model's RankingSettings with the server's and the request's overrides applied; alpha is unused by rrf)
    weak: list[Result] = field(default_factory=list)  # weaker matches (pair score below the model's
    # min_relevance), at most `size`, on page 1; not counted in `total`. total 0 with weak results: no good match
    stage: Literal["fused", "final"] = "final"  # "fused": the first results of a stream, in retrieval order,
    # without rerank or answers (GET /search/stream); "final": the complete response
    cached: bool = False  # served from the response cache (timings_ms then holds the lookup only)
    pairs_read: int = 0  # (query, passage) pairs the pair pass read for this response: 0 on a stream's fused line
    # and on a cache hit
