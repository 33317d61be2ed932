"""Span QA on SQuAD-format data through `score_pair_list`, scored with the official metric."""
from __future__ import annotations

import hashlib

from transformers import PreTrainedTokenizerBase

from search.evaluation.squad_metric import squad_scores
from search.model.newsmodel import NewsModel
from search.training.data import QA, Paragraph


def evaluate_qa(model: NewsModel, paragraphs: list[Paragraph], window: int = 0) -> dict[str, float]:
    """The answer is the best span of (question, paragraph): SQuAD v1.1 always has one, so [CLS] is not an option.
    With `window` > 0 the pair pass reads the paragraph's best `window` word pieces, as search does."""
    qids, questions, contexts, golds = [], [], [], {}
    for para in paragraphs:
        for qa in para.qas:
            qids.append(qa.qid)
            questions.append(qa.question)
            contexts.append(para.context)
            golds[qa.qid] = [text for text, _ in qa.answers]
    scores = model.score_pair_list(questions, contexts, window)
    predictions = {qid: ctx[s.answer_start:s.answer_end] if s.answer_start is not None else ""
                   for qid, ctx, s in zip(qids, contexts, scores)}
    return squad_scores(predictions, golds)


def passage_sized(paragraphs: list[Paragraph], tokenizer: PreTrainedTokenizerBase, max_tokens: int
                  ) -> list[Paragraph]:
    """Consecutive paragraphs of one article joined (blank line between) while they fit `max_tokens` word pieces,
    with their questions and answer offsets carried over: contexts as long as the passages search reads, where a
    SQuAD paragraph alone (about 150 pieces) is often shorter than a pair window."""
    lengths = [len(t) for t in tokenizer([p.context for p in paragraphs], add_special_tokens=False)["input_ids"]]
    out: list[Paragraph] = []
    used = 0
    for para, n in zip(paragraphs, lengths):
        last = out[-1] if out else None
        if last is not None and last.title == para.title and used + n <= max_tokens:
            shift = len(last.context) + 2
            last.context += "\n\n" + para.context
            last.qas += [QA(q.qid, q.question, [(t, s + shift) for t, s in q.answers]) for q in para.qas]
            used += n
        else:
            out.append(Paragraph(para.pid, para.title, para.context, list(para.qas)))
            used = n
    return out


def sample_questions(paragraphs: list[Paragraph], n: int) -> list[Paragraph]:
    """The paragraphs with only the `n` questions of smallest id hash (a fixed sample spread over every article;
    the first questions of a file all ask about its first article); paragraphs left without one are dropped."""
    qids = sorted((qa.qid for p in paragraphs for qa in p.qas), key=lambda q: hashlib.sha1(q.encode()).hexdigest())
    keep = set(qids[:n])
    kept = [Paragraph(p.pid, p.title, p.context, [qa for qa in p.qas if qa.qid in keep]) for p in paragraphs]
    return [p for p in kept if p.qas]
