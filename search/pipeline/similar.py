"""More like this: other articles ranked by the stored vectors of one article, with the usual filters and paging.

No encoder pass: the article's own vector (the normalised mean of its passage vectors, stored at index time)
queries the vector index, as Elasticsearch's `more_like_this` queries with a document's own terms. Its passages
are grouped into articles as a search groups them (an article's best passage represents it, the cosine is its
relevance), and the article itself and the copies in its story cluster are left out of the ranking: they come
back apart, as `same_story`, since "more like this" is for what else was written, not for the same text again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from search.pipeline.facets import candidate_facets
from search.pipeline.grouping import group_results
from search.pipeline.paging import paginate
from search.pipeline.records import Candidate, FacetValue, Result, ScoredPassage
from search.pipeline.retrieve import fetch_passages
from search.pipeline.validate import unknown_article
from search.store import Filters, Store

NEIGHBOURS = 200  # passages the article's vector retrieves before grouping


@dataclass
class SimilarResponse:
    """A page of articles like `article_id`, best first, and the articles of its own story."""

    article_id: str
    title: str
    total: int  # results across all pages (the article and its story left out)
    page: int
    size: int
    pages: int
    results: list[Result]
    same_story: list[str] = field(default_factory=list)  # ids of the other articles in its story cluster
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)  # over the results


def similar_articles(store: Store, article_id: str, filters: Filters, page: int, size: int,
                     now: datetime) -> SimilarResponse:
    """Rank the store's other articles by their best passage's cosine to `article_id`'s vector. Raises
    InvalidRequest (404) for an unknown article."""
    found = store.article_vector(article_id)
    if found is None:
        raise unknown_article(article_id)
    vector, cluster_id, title = found
    story = set(store.cluster_members(cluster_id)) if cluster_id else {article_id}
    allowed = store.allowed_passage_ids(filters)
    hits = store.dense_search(vector, NEIGHBOURS, allowed)[0]
    candidates = [Candidate(pid, fused=max(0.0, min(1.0, score)), dense_rank=rank + 1)
                  for rank, (pid, score) in enumerate(hits)]
    rows = [(c, row) for c, row in fetch_passages(store, candidates) if row.article_id not in story]
    scored = [ScoredPassage(candidate=c, row=row, relevance=c.fused, answer=None) for c, row in rows]
    results = group_results(scored, recency=0.0, now=now)
    shown, pages = paginate(results, page, size)
    return SimilarResponse(article_id=article_id, title=title, total=len(results), page=page, size=size,
                           pages=pages, results=shown, same_story=sorted(story - {article_id}),
                           facets=candidate_facets(store, [c.passage_id for c, _ in rows]))
