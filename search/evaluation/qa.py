"""Span QA on SQuAD-format data through `score_pair_list`, scored with the official metric."""
from __future__ import annotations

from search.evaluation.squad_metric import squad_scores
from search.model.newsmodel import NewsModel
from search.training.data import Paragraph


def evaluate_qa(model: NewsModel, paragraphs: list[Paragraph]) -> dict[str, float]:
    """The answer is the best span of (question, paragraph): SQuAD v1.1 always has one, so [CLS] is not an option."""
    qids, questions, contexts, golds = [], [], [], {}
    for para in paragraphs:
        for qa in para.qas:
            qids.append(qa.qid)
            questions.append(qa.question)
            contexts.append(para.context)
            golds[qa.qid] = [text for text, _ in qa.answers]
    scores = model.score_pair_list(questions, contexts)
    predictions = {qid: ctx[s.answer_start:s.answer_end] if s.answer_start is not None else ""
                   for qid, ctx, s in zip(qids, contexts, scores)}
    return squad_scores(predictions, golds)
