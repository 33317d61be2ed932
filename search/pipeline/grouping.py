"""Stage 4: from scored passages to the result list.

1. group passages into articles — an article's best passage (highest relevance) represents it, and its relevance
   is (best + w * second best) / (1 + w) of its passages (w = the model's `second_passage_weight`; 0 = MaxP,
   Dai & Callan 2019; w > 0 credits an article that several passages match);
2. blend in the recency preference (`search.pipeline.recency`; age counts from the newest candidate);
3. collapse near-duplicate stories: articles that the indexer put in the same cluster fold into the
   best-scoring one, which reports "N similar" and their ids;
4. order by the final score (ties: article id, for a stable order across pages).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Sequence

from search.pipeline.recency import blend, freshness, reference_time
from search.pipeline.records import PassageHit, Result, ScoredPassage
from search.store import Mention

TOP_ENTITIES = 5


def best_per_article(scored: Sequence[ScoredPassage], second_weight: float = 0.0) -> list[ScoredPassage]:
    """The highest-relevance passage of each article, in first-seen order, carrying the article's relevance
    (best + second_weight * second best) / (1 + second_weight); still on 0..1."""
    ranked: dict[str, list[ScoredPassage]] = {}
    for sp in scored:
        ranked.setdefault(sp.row.article_id, []).append(sp)
    out = []
    for passages in ranked.values():
        top = sorted(passages, key=lambda sp: -sp.relevance)
        out.append(replace(top[0], relevance=article_relevance([sp.relevance for sp in top], second_weight)))
    return out


def article_relevance(relevances: Sequence[float], second_weight: float) -> float:
    """(best + second_weight * second best) / (1 + second_weight) of an article's passage relevances."""
    top = sorted(relevances, reverse=True)[:2]
    second = top[1] if len(top) > 1 else 0.0
    return (top[0] + second_weight * second) / (1.0 + second_weight)


def to_result(sp: ScoredPassage, recency: float, reference: datetime) -> Result:
    """A result for an article from its best passage, scored with the recency blend."""
    row = sp.row
    fresh = freshness(row.published_at, reference)
    return Result(
        article_id=row.article_id, title=row.title, source=row.source, published_at=row.published_at,
        url=row.url, topic=row.topic, entities=top_entities(row.entities), score=blend(sp.relevance, fresh, recency),
        relevance=sp.relevance, freshness=fresh, matched=sp.candidate.matched, pair_score=sp.pair,
        passage=PassageHit(row.id, row.position, row.text, row.start, row.end, sp.answer), cluster_id=row.cluster_id,
    )


def collapse_clusters(results: Sequence[Result]) -> list[Result]:
    """Fold results of the same cluster into its best one; unclustered results stand alone. Best first."""
    ordered = sorted(results, key=lambda r: (-r.score, r.article_id))
    leaders: dict[str, Result] = {}
    out: list[Result] = []
    for result in ordered:
        leader = leaders.get(result.cluster_id) if result.cluster_id is not None else None
        if leader is None:
            out.append(result)
            if result.cluster_id is not None:
                leaders[result.cluster_id] = result
        else:
            leader.similar += 1
            leader.similar_ids.append(result.article_id)
    return out


def group_results(scored: Sequence[ScoredPassage], recency: float, now: datetime,
                  second_weight: float = 0.0) -> list[Result]:
    """Steps 1–4 of the module docstring; freshness is measured from the newest candidate (capped at `now`)."""
    best = best_per_article(scored, second_weight)
    reference = reference_time((sp.row.published_at for sp in best), now)
    return collapse_clusters([to_result(sp, recency, reference) for sp in best])


def top_entities(mentions: Sequence[Mention], limit: int = TOP_ENTITIES) -> list[str]:
    """Distinct entity names mentioned in the passage, most mentioned first (ties: alphabetical)."""
    counts: dict[str, int] = {}
    for mention in mentions:
        counts[mention.name] = counts.get(mention.name, 0) + 1
    return [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:limit]
