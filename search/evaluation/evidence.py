"""What the product's ranking stages see for each query of a collection, computed once and reused by every
setting evaluated on it (the table's rows and `news-search tune`'s grid).

A collection is indexed the way `news-index` indexes articles: each document is split into passages by
`search.passages.split_passages`, the passages go into a real `Store` (SQLite + FTS5) in a temporary folder, and
for each query we keep
- the lexical list: the store's own `lexical_search` (FTS5 BM25, stopwords out), top `candidates` passages;
- the dense lists of our encoder and of the untouched base encoder: exact top `candidates` by inner product
  (what the store's flat FAISS index returns), plus each encoder's top `depth` passages for the encoder-alone rows;
- pair scores of (query, passage, pair window), computed on demand for a sample of `pair_queries` queries
  (`rerank_sample`: spread over the whole collection, not its first article) and cached, so a grid over settings
  scores each pair once (a passage no longer than the window is scored once, as a whole).
"""
from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from search.model.newsmodel import NewsModel
from search.passages import split_passages
from search.store import Store
from search.store.records import ArticleWrite, PassageWrite
from search.training.data import IRCollection

Scored = list[tuple[int, float]]
PairScorer = Callable[[list[str], list[str], int], list[float]]  # (queries, passages, window) -> pair relevance


@dataclass
class QueryEvidence:
    qid: str
    text: str
    lexical: Scored  # FTS5 top `candidates` (passage id, BM25)
    dense: dict[str, Scored]  # encoder name -> top `candidates` (passage id, cosine)


@dataclass
class CollectionEvidence:
    """One collection's passages and per-query retrieval lists; `pair_scores` fills in lazily."""

    name: str
    qrels: dict[str, set[str]]
    passage_doc: dict[int, str]  # passage id -> document id
    passage_text: dict[int, str]
    passage_tokens: dict[int, int]  # passage id -> word pieces (special tokens left out)
    queries: list[QueryEvidence]
    encoder_runs: dict[str, dict[str, list[str]]]  # encoder name -> MaxP document run (top `depth` passages)
    pair_queries: int  # this many queries, `rerank_sample`, can be reranked
    candidates: int = 30  # passages each retriever's list holds
    scorer: PairScorer | None = None
    pairs: dict[tuple[str, int, int], float] = field(default_factory=dict)  # (qid, passage id, window) -> score
    cache_path: Path | None = None  # where `search.evaluation.collections` keeps it
    pairs_path: Path | None = None  # where it keeps the pair scores, shared by checkpoints with one pair pass

    def rerank_sample(self) -> list[QueryEvidence]:
        """The `pair_queries` queries with the smallest hash of their id: a fixed sample spread over the whole
        collection (the first queries of a SQuAD file all ask about its first article)."""
        ranked = sorted(self.queries, key=lambda q: hashlib.sha1(q.qid.encode()).hexdigest())
        return ranked[:self.pair_queries]

    def pair_scores(self, query: QueryEvidence, passage_ids: list[int], window: int = 0) -> list[float]:
        """Pair relevance of (query, passage) read through a `window`-piece window (0 = whole) for each id,
        scoring only the pairs not seen before."""
        keys = {pid: (query.qid, pid, window if 0 < window < self.passage_tokens[pid] else 0)
                for pid in passage_ids}
        missing = [pid for pid, key in keys.items() if key not in self.pairs]
        if missing:
            if self.scorer is None:
                raise ValueError(f"{self.name}: no pair scorer to rerank with")
            scores = self.scorer([query.text] * len(missing), [self.passage_text[p] for p in missing], window)
            self.pairs.update({keys[pid]: s for pid, s in zip(missing, scores)})
        return [self.pairs[keys[pid]] for pid in passage_ids]


def maxp_run(scores: np.ndarray, owners: np.ndarray, doc_ids: list[str], qids: list[str], depth: int
             ) -> dict[str, list[str]]:
    """Documents ranked by their best passage among each query's top `depth` passages (MaxP)."""
    run = {}
    top = np.argsort(-scores, axis=1)[:, :depth]
    for q, row in zip(qids, top):
        run[q] = list(dict.fromkeys(doc_ids[owners[i]] for i in row))
    return run


def _embed(embed: Callable[[list[str]], np.ndarray], texts: list[str], desc: str, chunk: int = 256) -> np.ndarray:
    """`embed` over `texts` in chunks, with a progress bar (thousands of passages take minutes on a CPU)."""
    parts = [embed(texts[i:i + chunk]) for i in tqdm(range(0, len(texts), chunk), desc=desc, unit="chunk",
                                                     leave=False)]
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def _store_articles(col: IRCollection, model: NewsModel) -> tuple[list[ArticleWrite], list[str]]:
    """Each document as an untitled article split into the product's passages (vectors filled in later)."""
    articles, texts = [], []
    for doc_id, text in col.docs.items():
        spans = split_passages(text, model.tokenizer, model.config.max_passage_tokens)
        passages = [PassageWrite(i, s.start, s.end, text[s.start:s.end], "", np.zeros(0, np.float32))
                    for i, s in enumerate(spans)]
        texts += [p.text for p in passages]
        digest = hashlib.sha1(text.encode()).hexdigest()
        articles.append(ArticleWrite(doc_id, "", text, None, None, None, [], {}, digest, model.model_id, "", {},
                                     "", np.zeros(0, np.float32), passages, []))
    return articles, texts


def collect_evidence(name: str, col: IRCollection, model: NewsModel, base: NewsModel, candidates: int = 30,
                     depth: int = 100, pair_queries: int = 100, folder: str | Path | None = None
                     ) -> CollectionEvidence:
    """Index `col` into a temporary store and gather every query's retrieval lists (see the module docstring)."""
    articles, texts = _store_articles(col, model)
    vectors = {"newsearch": _embed(model.embed_passages, texts, f"{name}: passages, newsearch"),
               "base model": _embed(base.embed_passages, texts, f"{name}: passages, base model")}
    k = 0
    for article in articles:
        for p in article.passages:
            p.vector = vectors["newsearch"][k]
            k += 1
        dim = vectors["newsearch"].shape[1]
        article.vector = np.mean([p.vector for p in article.passages], axis=0) if article.passages else np.zeros(dim)
    qids = [q for q in col.queries if col.qrels.get(q)]
    qtexts = [col.queries[q] for q in qids]
    qvecs = {"newsearch": _embed(model.embed_queries, qtexts, f"{name}: queries, newsearch"),
             "base model": _embed(base.embed_queries, qtexts, f"{name}: queries, base model")}
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        store = Store.open(Path(tmp) / "store", create=True)
        try:
            store.replace_articles(articles)
            # ids grow in insertion order: articles as given, passages by position, the order of `texts`
            stored = store.passage_texts()
            if len(stored) != len(texts):
                raise RuntimeError(f"{name}: {len(stored)} passages stored for {len(texts)} vectors")
            ids = np.array([r[0] for r in stored])
            passage_doc = {int(r[0]): r[1] for r in stored}
            passage_text = {int(r[0]): r[2] for r in stored}
            lengths = model.tokenizer([r[2] for r in stored], add_special_tokens=False)["input_ids"]
            passage_tokens = {int(r[0]): len(t) for r, t in zip(stored, lengths)}
            lexical = [store.lexical_search(t, candidates) for t in tqdm(qtexts, desc=f"{name}: FTS5", leave=False)]
        finally:
            store.close()
    doc_ids = list(col.docs)
    doc_index = {d: i for i, d in enumerate(doc_ids)}
    owners = np.array([doc_index[passage_doc[int(i)]] for i in ids])
    dense: dict[str, list[Scored]] = {}
    runs: dict[str, dict[str, list[str]]] = {}
    for enc, pv in vectors.items():
        scores = qvecs[enc] @ pv.T  # (Q, P)
        top = np.argsort(-scores, axis=1)[:, :candidates]
        dense[enc] = [[(int(ids[j]), float(scores[r, j])) for j in row] for r, row in enumerate(top)]
        runs[enc] = maxp_run(scores, owners, doc_ids, qids, depth)
    queries = [QueryEvidence(q, t, lexical[i], {enc: dense[enc][i] for enc in dense})
               for i, (q, t) in enumerate(zip(qids, qtexts))]
    return CollectionEvidence(name, {q: col.qrels[q] for q in qids}, passage_doc, passage_text, passage_tokens,
                              queries, runs, pair_queries, candidates)
