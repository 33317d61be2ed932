"""Assemble the training and validation material from the data folder, with deterministic splits."""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from search.training.data import (LabelledText, Paragraph, ScoredPair, TaggedSentence,
                                  is_held_out, read_ag_news, read_conll, read_labelled_jsonl, read_squad, read_stsb)
from search.training.negatives import RetrievalExample
from search.training.tasks import RetrievalPool

SQUAD_TRAIN = "qa_extra/squad11_train_from_explorer/train-v1.1.from-explorer.json"
SQUAD_VALID = "squad/dev-v1.1.shared-60pct.json"
BBC_TRAIN = "bbc_news/train.jsonl"
AG_DEV = "ag_news/dev.csv"


@dataclass
class Materials:
    squad: list[Paragraph]
    conll: list[TaggedSentence]
    sts: list[ScoredPair]
    topics: list[LabelledText]


def data_path(data_dir: str | Path, rel: str) -> Path:
    path = Path(data_dir) / rel
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: pass --data pointing at the shared data folder "
                                "(the one whose README lists conll2003/, squad/, stsb/ ...)")
    return path


def topic_labels(data_dir: str | Path) -> tuple[list[str], dict[str, list[str]]]:
    """The product's topic taxonomy as the data has it: each data set's own label subset (BBC's categories; AG
    News's classes under the names `AG_CLASSES` gives them) and the sorted union of the subsets."""
    texts = read_labelled_jsonl(data_path(data_dir, BBC_TRAIN), "bbc") + read_ag_news(data_path(data_dir, AG_DEV))
    found: dict[str, set[str]] = {}
    for text in texts:
        found.setdefault(text.source, set()).add(text.label)
    groups = {source: sorted(labels) for source, labels in sorted(found.items())}
    return sorted({label for subset in groups.values() for label in subset}), groups


def _limit(items: list, limit: int) -> list:
    return items[:limit] if limit else items


def load_topics(data_dir: str | Path, val_bbc: float, val_ag: float, validation: bool) -> list[LabelledText]:
    bbc = [t for t in read_labelled_jsonl(data_path(data_dir, BBC_TRAIN), "bbc") if is_held_out(t.uid, val_bbc) == validation]
    ag = [t for t in read_ag_news(data_path(data_dir, AG_DEV)) if is_held_out(t.uid, val_ag) == validation]
    return bbc + ag


def load_training(data_dir: str | Path, limit: int, val_bbc: float, val_ag: float,
                  squad_paragraphs: int = 0) -> Materials:
    """Training splits; `limit` caps each data set, `squad_paragraphs` the SQuAD paragraph pool."""
    rng = random.Random(0)
    squad = read_squad(data_path(data_dir, SQUAD_TRAIN))
    rng.shuffle(squad)
    conll = read_conll(data_path(data_dir, "conll2003/train.txt"))
    sts = read_stsb(data_path(data_dir, "stsb/sts-train.csv"))
    topics = load_topics(data_dir, val_bbc, val_ag, validation=False)
    rng.shuffle(topics)
    squad = _limit(squad, squad_paragraphs)
    return Materials(_limit(squad, limit), _limit(conll, limit), _limit(sts, limit), _limit(topics, limit))


def load_validation(data_dir: str | Path, val_bbc: float, val_ag: float, limit: int = 0) -> Materials:
    return Materials(
        squad=_limit(read_squad(data_path(data_dir, SQUAD_VALID)), limit),
        conll=_limit(read_conll(data_path(data_dir, "conll2003/valid.txt")), limit),
        sts=_limit(read_stsb(data_path(data_dir, "stsb/sts-dev.csv")), limit),
        topics=_limit(load_topics(data_dir, val_bbc, val_ag, validation=True), limit),
    )


def retrieval_pool(squad: list[Paragraph], topics: list[LabelledText]) -> RetrievalPool:
    """(question -> paragraph) from SQuAD and (headline -> article body) from the topic corpora."""
    corpus: list[str] = []
    groups: list[str] = []
    examples: list[RetrievalExample] = []
    starts: dict[int, int] = {}
    for para in squad:
        corpus.append(para.context)
        groups.append("squad:" + para.title)
        for qa in para.qas:
            text, start = qa.answers[0]
            starts[len(examples)] = start
            examples.append(RetrievalExample(qa.question, len(corpus) - 1, groups[-1], text, []))
    for doc in topics:
        corpus.append(doc.body)
        groups.append(f"{doc.source}:{doc.uid}")
        examples.append(RetrievalExample(doc.title, len(corpus) - 1, groups[-1], None, []))
    return RetrievalPool(corpus, groups, examples, starts)


def anchor_texts(pool: RetrievalPool, n: int, seed: int, passage_share: float = 0.5) -> list[str]:
    """Up to `n` distinct unlabeled texts for the anchor task: a `passage_share` of them passages (SQuAD
    paragraphs, BBC and AG News bodies), the rest queries (questions, headlines), drawn at random with a fixed
    seed; when one kind runs short the other fills the gap."""
    rng = random.Random(seed)
    passages = list(dict.fromkeys(pool.corpus))
    queries = list(dict.fromkeys(ex.query for ex in pool.examples))
    rng.shuffle(passages)
    rng.shuffle(queries)
    take_p = min(len(passages), max(n - len(queries), round(n * passage_share)))
    return passages[:take_p] + queries[:n - take_p]
