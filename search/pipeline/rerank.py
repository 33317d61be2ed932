"""Stage 3: rerank and read in one pass — `score_pairs` gives both the relevance and the answer span.

The model runs `[CLS] query [SEP] passage [SEP]` once for each candidate it reads among the first `depth` fused
ones: the pair head's output is the rerank score and the span head's best span is the answer, so reading costs no
extra pass. With a pair window, the pass reads only the passage's best-matching sentences
(search/model/windows.py).

An adaptive depth: of the first `depth` fused candidates the pass reads only those whose fused score is within
`margin` of the first one's. Where retrieval is sure (a first candidate far above the rest), the pair pass would
not lift a distant one above it, so reading it costs time for nothing; where the fused scores lie close together,
the pass reads down to `depth`. (A score-based cut-off of the candidate list, as in ranked-list truncation, e.g.
Arampatzis et al. 2009, "Where to stop reading a ranked list?"; the margin is a model setting `news-search tune`
chooses; measured: docs/speed.md.)

Of one article, the pass reads only the passages its score counts — the best fused one (MaxP), or the best two
with a second-passage share (`RankingSettings.read_per_article`): a lower passage of an article already read
would rarely lift it further, and on news, where one article often has several of the fused candidates, not
reading them saves about a third of the pairs at the default depth (measured: docs/speed.md).

A rerank that cannot make the order much worse: a reranked passage's relevance is
`weight * pair score + (1 - weight) * fused score`, both on 0..1, so the fused evidence of both retrievers is
kept rather than thrown away (score interpolation, as in Lin et al. 2021, "Pretrained Transformers for Text
Ranking", §3.2.3; `weight` is a model setting chosen on validation data). The candidates the pass did not read,
past `depth` or lower passages of an article it read, keep their fused order below the reranked ones (passage
by passage: an article's score may still gain from a second passage, see grouping). With rerank off, relevance
is the fused score; with both rerank and answers off, the model is not called at all. An answer is returned
only when the span head's confidence reaches the model's `min_answer_confidence`: a passage that does not
answer the question shows no highlighted "answer".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from search.model import NewsModel
from search.model.records import PairScore
from search.pipeline.records import Answer, Candidate, ScoredPassage
from search.store import PassageRow


@dataclass(frozen=True)
class RerankPlan:
    """What the pair pass does for one search."""

    rerank: bool = True  # order the passages the pass read by the blended relevance, above the rest
    answers: bool = True  # return the answer span of each passage the pair pass read
    depth: int = 20  # fused candidates the pair pass considers
    per_article: int = 1  # of which it reads each article's first this many
    margin: float = 1.0  # and only those whose fused score is at most this far below the first one's
    weight: float = 0.5  # share of the pair score in a reranked passage's relevance
    min_confidence: float = 0.5  # answers the span head is less sure of are not returned
    window: int = 0  # word pieces of each passage the pair pass reads (0 = the whole passage)

    @property
    def pair_pass(self) -> bool:
        """Whether the plan calls the model at all."""
        return (self.rerank or self.answers) and self.depth > 0


def blend(pair: float, fused: float, weight: float) -> float:
    """weight * pair + (1 - weight) * fused with the pair score clipped to 0..1 (the head's raw output can
    stray slightly outside the 0/1 targets it was trained on)."""
    return weight * min(max(pair, 0.0), 1.0) + (1.0 - weight) * fused


def order_relevance(fused: Sequence[float], pair: Sequence[float | None], weight: float) -> list[float]:
    """Relevance of each candidate (given in fused order, returned in it): blended for those with a pair score,
    the fused score for the rest, scaled so that they keep their fused order strictly below every reranked one
    with a positive relevance (a floor of 1e-6 keeps their order when the lowest reranked one scored 0)."""
    scored = [blend(p, f, weight) for f, p in zip(fused, pair) if p is not None]
    rest = [f for f, p in zip(fused, pair) if p is None]
    scale = 1.0
    if scored and rest and max(rest) > 0:
        scale = min(1.0, max(min(scored), 1e-6) * (1.0 - 1e-6) / max(rest))
    return [f * scale if p is None else blend(p, f, weight) for f, p in zip(fused, pair)]


def pair_positions(articles: Sequence[str], fused: Sequence[float], depth: int, per_article: int,
                   margin: float = 1.0) -> list[int]:
    """Positions of the candidates the pair pass reads, given the candidates' article ids and fused scores in
    fused order (best first): among the first `depth` whose fused score is at least the first one's minus
    `margin`, each article's first `per_article`. Raises ValueError when `per_article` < 1 or the two lists
    differ in length."""
    if per_article < 1:
        raise ValueError(f"per_article must be >= 1, got {per_article}")
    if len(articles) != len(fused):
        raise ValueError(f"{len(articles)} article ids for {len(fused)} fused scores")
    read: dict[str, int] = {}
    positions = []
    for i, article in enumerate(articles[:depth]):
        if fused[i] < fused[0] - margin:
            break  # fused order: every later candidate is further below
        if read.get(article, 0) < per_article:
            read[article] = read.get(article, 0) + 1
            positions.append(i)
    return positions


def rerank_and_read(model: NewsModel, query: str, hits: Sequence[tuple[Candidate, PassageRow]],
                    plan: RerankPlan) -> list[ScoredPassage]:
    """Score the (candidate, passage) pairs `pair_positions` picks from the first `plan.depth` in one
    `score_pairs` call; best first when `plan.rerank`, else in the given order."""
    if not hits:
        return []
    fused = [cand.fused for cand, _ in hits]
    positions = pair_positions([row.article_id for _, row in hits], fused, plan.depth, plan.per_article,
                               plan.margin) if plan.pair_pass else []
    read = model.score_pairs(query, [hits[i][1].text for i in positions], plan.window) if positions else []
    pairs: list[PairScore | None] = [None] * len(hits)
    for i, pair in zip(positions, read):
        pairs[i] = pair
    if plan.rerank:
        relevance = order_relevance(fused, [p.relevance if p is not None else None for p in pairs], plan.weight)
    else:
        relevance = fused
    scored = []
    for (cand, row), pair, rel in zip(hits, pairs, relevance):
        answer = None
        if plan.answers and pair is not None and pair.answer_start is not None \
                and pair.answer_confidence >= plan.min_confidence:
            answer = Answer(pair.answer_start, pair.answer_end, row.text[pair.answer_start:pair.answer_end],
                            pair.answer_confidence)
        scored.append(ScoredPassage(cand, row, rel, answer,
                                    None if pair is None else min(max(pair.relevance, 0.0), 1.0)))
    return sorted(scored, key=lambda s: -s.relevance) if plan.rerank else scored
