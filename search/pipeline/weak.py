"""Weak matches and "no good match": results unlikely to answer the query.

Two kinds of evidence judge a result:
- The pair head's score, which is absolute (the fused score is normalised per query: its best candidate
  scores 1 whatever the query, so it cannot say that nothing matches). A result whose best passage went through
  the pair pass with a score below the model's `min_relevance` is *weak*; results without a pair score are weak
  when no judged result reached the floor, and when the pair pass skipped them for the rerank margin (their
  fused score is more than `rerank_margin` below the first candidate's: retrieval itself puts them far below;
  counting them as good would make a smaller margin report more good matches); those past the rerank depth but
  within the margin stay good when something judged is. `news-search tune` chooses `min_relevance` on
  validation data (search/evaluation/floor.py).
- Lexical support: when no word of the query occurs in any passage the filters allow (the lexical retriever
  found nothing), every result came from the dense side alone, which always returns its nearest vectors —
  for "qwzxv plorbt" as for a real question. Such a query has no good match, whatever the pair head says: the
  fine-tuned pair head scores nonsense up to 0.26 and the floor, pinned by the keyword queries of TIME, is 0.08.
  On the validation collections 0–5 queries in 5,000 have no lexical hit (`benchmarks/no_lexical_queries.py`).

Without a pair pass (rerank and answers off) only lexical support judges.
"""
from __future__ import annotations

from typing import Sequence

from search.pipeline.records import Result


def beyond_margin(articles: Sequence[str], fused: Sequence[float], read: Sequence[bool], margin: float) -> set[str]:
    """Ids of the articles none of whose passages the pair pass read and whose best fused score is more than
    `margin` below the first candidate's, given each candidate's article id, fused score and whether the pass read
    it (the pipeline's and the evaluation's candidates alike); empty when the pass read nothing."""
    if not any(read):
        return set()
    first = max(fused)
    best: dict[str, float] = {}
    was_read: set[str] = set()
    for article, score, done in zip(articles, fused, read):
        best[article] = max(best.get(article, 0.0), score)
        if done:
            was_read.add(article)
    return {article for article, score in best.items() if article not in was_read and score < first - margin}


def split_weak(results: Sequence[Result], floor: float, lexical_support: bool = True,
               skipped: set[str] | frozenset[str] = frozenset()) -> tuple[list[Result], list[Result]]:
    """(good, weak) results, each in the given order; `lexical_support`: some query word occurs in an
    allowed passage; `skipped`: ids of the articles the pair pass left unread for the rerank margin
    (`beyond_margin`)."""
    if not lexical_support:
        return [], list(results)
    judged = [r for r in results if r.pair_score is not None]
    if not judged:
        return list(results), []
    any_good = any(r.pair_score >= floor for r in judged)
    good = [r for r in results if (r.pair_score is None and any_good and r.article_id not in skipped) or
            (r.pair_score is not None and r.pair_score >= floor)]
    keep = {id(r) for r in good}
    return good, [r for r in results if id(r) not in keep]
