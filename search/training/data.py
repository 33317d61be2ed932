"""Readers for the real training and evaluation sets in `../shared/data/` (see its README).

Each reader returns plain records; splitting into train/validation is deterministic (hash of an id), so the
same examples are held out in every run.
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

# One topic taxonomy for the product: AG News's class ids (its classes.txt: World, Sports, Business, Sci/Tech)
# map onto BBC-style names; "world" stays its own.
AG_CLASSES = {"1": "world", "2": "sport", "3": "business", "4": "tech"}


@dataclass
class QA:
    qid: str
    question: str
    answers: list[tuple[str, int]]  # (text, answer_start) pairs; the first is the training target


@dataclass
class Paragraph:
    pid: str
    title: str  # the article: paragraphs of one article are never each other's negatives
    context: str
    qas: list[QA] = field(default_factory=list)


@dataclass
class TaggedSentence:
    words: list[str]
    tags: list[str]
    document: int = 0  # position of its -DOCSTART- document in the file


@dataclass
class ScoredPair:
    first: str
    second: str
    score: float  # 0..1 (STS-B 0..5 rescaled)


@dataclass
class LabelledText:
    uid: str
    title: str
    body: str
    label: str
    source: str  # "bbc" or "ag_news": the dataset, which fixes the label subset


def read_squad(path: str | Path) -> list[Paragraph]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    out: list[Paragraph] = []
    for a, article in enumerate(data):
        for p, para in enumerate(article["paragraphs"]):
            qas = [QA(str(qa["id"]), qa["question"], [(x["text"], int(x["answer_start"])) for x in qa["answers"]])
                   for qa in para["qas"] if qa.get("answers")]
            out.append(Paragraph(f"{a}-{p}", article["title"], para["context"], qas))
    return out


def read_conll(path: str | Path) -> list[TaggedSentence]:
    sentences: list[TaggedSentence] = []
    words: list[str] = []
    tags: list[str] = []
    document = 0
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("-DOCSTART-"):
            if words:
                sentences.append(TaggedSentence(words, tags, document))
            words, tags = [], []
            if line.startswith("-DOCSTART-") and sentences:
                document += 1
            continue
        parts = line.split()
        words.append(parts[0])
        tags.append(parts[-1])
    if words:
        sentences.append(TaggedSentence(words, tags, document))
    return sentences


def join_sentences(sentences: list[TaggedSentence], max_words: int) -> list[TaggedSentence]:
    """Runs of consecutive sentences of one document, each run at most `max_words` words (a longer sentence
    stays alone). Indexed passages hold several sentences; a tagger that only ever saw one sentence followed by
    [SEP] labels the words after the first full stop badly."""
    runs: list[TaggedSentence] = []
    for s in sentences:
        last = runs[-1] if runs else None
        if last and last.document == s.document and len(last.words) + len(s.words) <= max_words:
            runs[-1] = TaggedSentence(last.words + s.words, last.tags + s.tags, s.document)
        else:
            runs.append(TaggedSentence(list(s.words), list(s.tags), s.document))
    return runs


def read_stsb(path: str | Path) -> list[ScoredPair]:
    pairs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) >= 7:
            pairs.append(ScoredPair(cols[5], cols[6], float(cols[4]) / 5.0))
    return pairs


def read_labelled_jsonl(path: str | Path, source: str) -> list[LabelledText]:
    """Articles labelled with a topic, one JSON object per line: `category`, `title`, `body` (and `id`), the
    shape of BBC News here and of any user's own topic split (`news-search eval --topics`)."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc.msg}); write one JSON object per line") from None
        if not isinstance(r, dict) or {"category", "title", "body"} - set(r):
            raise ValueError(f"{path}:{n}: each line needs a JSON object with category, title and body")
        out.append(LabelledText(str(r.get("id", n)), str(r["title"]), str(r["body"]), str(r["category"]), source))
    if not out:
        raise ValueError(f"{path}: no articles in it; write one JSON object per line")
    return out


def read_ag_news(path: str | Path) -> list[LabelledText]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [LabelledText(f"ag-{i}", row[1], row[2].replace("\\", " "), AG_CLASSES[row[0]], "ag_news")
                for i, row in enumerate(csv.reader(fh)) if len(row) == 3]


@dataclass
class IRCollection:
    docs: dict[str, str]  # doc_id -> text
    queries: dict[str, str]  # query_id -> text
    qrels: dict[str, set[str]]  # query_id -> relevant doc ids


def read_time(folder: str | Path) -> IRCollection:
    folder = Path(folder)
    docs = {}
    for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            docs[r["doc_id"]] = r["text"]
    queries = {}
    for line in (folder / "queries_dev.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        qid, text = line.split("\t", 1)
        queries[qid] = text
    qrels: dict[str, set[str]] = {}
    for line in (folder / "qrels_dev.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 4 and int(parts[3]) > 0:
            qrels.setdefault(parts[0], set()).add(parts[2])
    return IRCollection(docs, queries, qrels)


def squad_collection(paragraphs: list[Paragraph]) -> IRCollection:
    """Question -> paragraph retrieval over all the given paragraphs (each question has one relevant one)."""
    docs = {p.pid: p.context for p in paragraphs}
    queries = {qa.qid: qa.question for p in paragraphs for qa in p.qas}
    qrels = {qa.qid: {p.pid} for p in paragraphs for qa in p.qas}
    return IRCollection(docs, queries, qrels)


def is_held_out(uid: str, fraction: float) -> bool:
    """Deterministic split: the same ids are validation in every run and on every machine."""
    bucket = int(hashlib.sha1(uid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < fraction
