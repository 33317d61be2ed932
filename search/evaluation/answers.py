"""When to show an answer: the span head's confidence threshold, chosen on SQuAD validation (`news-search tune`).

For each query of the SQuAD rerank sample, the pair pass reads its gold paragraph (an answer is there) and the
other paragraphs the default pipeline ranks in its top `negatives` (SQuAD marks one paragraph per question,
though a paragraph of the same article may answer too). The threshold is the strictest one that still shows the
answer in `min_recall` (95%) of the gold paragraphs: it hides what the head is unsure of ("Steele" for "Who won
the Nobel Peace Prize?") while a user still sees nearly every real answer. (Maximising F1 instead chose 0.9999
on the release, P 0.815 / R 0.824: one real answer in six hidden, the Nobel answer at 0.96 among them.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from search.evaluation.evidence import CollectionEvidence
from search.evaluation.ranking import rank_query
from search.model.config import RankingSettings
from search.model.newsmodel import NewsModel

# 0.05 ... 0.95, then finer near 1: the confidence is a sigmoid of the span's margin over "no answer", and a head
# trained on SQuAD is often near-certain about a plausible span in a paragraph of the right article
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20)) + (0.97, 0.98, 0.99, 0.995, 0.999, 0.9999, 0.99999,
                                                                  0.999999)


@dataclass
class AnswerThreshold:
    threshold: float
    f1: float  # of "show the answer" against "the paragraph holds the answer"; with precision and recall
    precision: float
    recall: float
    pairs: int


def best_threshold(confidences: Sequence[float], labels: Sequence[bool], min_recall: float = 0.95,
                   candidates: Sequence[float] = THRESHOLDS) -> AnswerThreshold:
    """The highest candidate threshold t whose recall (share of the `labels`-true pairs with confidence >= t) is
    at least `min_recall`; the lowest candidate when none reaches it. Raises ValueError without candidates."""
    if not candidates:
        raise ValueError("no candidate thresholds")
    best: AnswerThreshold | None = None
    for t in sorted(candidates):
        shown = [c >= t for c in confidences]
        tp = sum(s and l for s, l in zip(shown, labels))
        precision = tp / max(sum(shown), 1)
        recall = tp / max(sum(labels), 1)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if best is None or recall >= min_recall:
            best = AnswerThreshold(t, f1, precision, recall, len(labels))
    return best


def choose_answer_threshold(ev: CollectionEvidence, model: NewsModel, settings: RankingSettings,
                            negatives: int = 5) -> AnswerThreshold:
    """Score each sampled question with its gold paragraph and its top non-gold results, read through the
    settings' pair window as search reads them; apply `best_threshold`.
    Only documents that are one passage take part (the label is per document; a SQuAD paragraph rarely spans two)."""
    doc_passages: dict[str, list[int]] = {}
    for pid, doc in ev.passage_doc.items():
        doc_passages.setdefault(doc, []).append(pid)
    queries, texts, labels = [], [], []
    for query in ev.rerank_sample():
        gold = next(iter(ev.qrels[query.qid]))
        if len(doc_passages[gold]) != 1:
            continue
        others = [d for d in rank_query(ev, query, settings) if d != gold and len(doc_passages[d]) == 1][:negatives]
        for doc, label in [(gold, True)] + [(d, False) for d in others]:
            queries.append(query.text)
            texts.append(ev.passage_text[doc_passages[doc][0]])
            labels.append(label)
    confidences = [p.answer_confidence for p in model.score_pair_list(queries, texts, settings.pair_window)]
    return best_threshold(confidences, labels)
