"""Stage 3: rerank and read in one pass — `score_pairs` gives both the relevance and the answer span.

The model runs `[CLS] query [SEP] passage [SEP]` once per candidate (batches of 32): the pair head's
output is the rerank score and the span head's best span is the answer, so reading costs no extra pass.
With rerank off, the order stays the fused retrieval order and the relevance is the fused score scaled
to 0..1 (divided by the best one), so that the recency blend works on the same scale either way.
With both rerank and answers off, the model is not called at all.
"""
from __future__ import annotations

from typing import Sequence

from search.model import NewsModel
from search.pipeline.records import Answer, Candidate, ScoredPassage
from search.store import PassageRow


def rerank_and_read(model: NewsModel, query: str, hits: Sequence[tuple[Candidate, PassageRow]],
                    rerank: bool, answers: bool) -> list[ScoredPassage]:
    """Score (candidate, passage) pairs in one `score_pairs` call; best first."""
    if not hits:
        return []
    top = max(cand.fused for cand, _ in hits)
    pairs = model.score_pairs(query, [row.text for _, row in hits]) if (rerank or answers) else [None] * len(hits)
    scored = []
    for (cand, row), pair in zip(hits, pairs):
        relevance = pair.relevance if (rerank and pair is not None) else cand.fused / top
        answer = None
        if answers and pair is not None and pair.answer_start is not None:
            answer = Answer(pair.answer_start, pair.answer_end, row.text[pair.answer_start:pair.answer_end],
                            pair.answer_confidence)
        scored.append(ScoredPassage(cand, row, relevance, answer))
    return sorted(scored, key=lambda s: -s.relevance) if rerank else scored
