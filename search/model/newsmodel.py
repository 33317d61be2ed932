"""The model as the product uses it: tokenizer + network, and the only two encoder passes it makes.

`annotate(passages)` runs each passage once and gives its vector, topic distribution and entities;
`score_pairs(query, passages)` runs each (query, passage) pair once and gives its relevance and answer span.
`embed_queries` is the short pass that embeds a query for retrieval.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from search.model.base import default_checkpoint, resolve_base
from search.model.checkpoint import fingerprint, load_checkpoint
from search.model.config import ModelConfig
from search.model.encoder import MultiTaskEncoder
from search.model.entities import decode_entities
from search.model.records import PairScore, PassageAnnotation
from search.model.spans import best_spans


class NewsModel:
    """A loaded model ready for inference (eval mode, no gradients)."""

    def __init__(self, net: MultiTaskEncoder, tokenizer: PreTrainedTokenizerBase, name: str = "",
                 model_id: str = "", device: str | None = None, batch_size: int = 32) -> None:
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.net = net.to(self.device).eval()
        self.tokenizer = tokenizer
        self.config: ModelConfig = net.config
        self.name = name  # where it was loaded from, for /health and stats
        self.model_id = model_id  # fingerprint of the weights; the index manifest stores it
        self.batch_size = batch_size

    @classmethod
    def load(cls, path: str | Path | None = None, device: str | None = None) -> "NewsModel":
        """Load a checkpoint folder (default: the released one under data/models/)."""
        folder = Path(path) if path else default_checkpoint()
        net, tokenizer, _ = load_checkpoint(folder)
        return cls(net, tokenizer, name=str(folder), model_id=fingerprint(folder), device=device)

    @classmethod
    def from_base(cls, base: str = "", config: ModelConfig | None = None, device: str | None = None) -> "NewsModel":
        """Any BERT-family encoder (path or name) with freshly initialised heads: for training and baselines."""
        config = config or ModelConfig()
        base_path = resolve_base(base or config.base)
        config.base = base or config.base
        net = MultiTaskEncoder.from_base(base_path, config)
        tokenizer = AutoTokenizer.from_pretrained(base_path)
        return cls(net, tokenizer, name=base_path, model_id="base:" + base_path, device=device)

    # ---- the three passes -------------------------------------------------------------------------------
    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        """(N, H) float32 unit vectors for queries: the short pass made once per search."""
        return self._embed(queries, self.config.max_query_tokens)

    def embed_passages(self, passages: Sequence[str]) -> np.ndarray:
        """Vectors only, for training-time mining and baselines; the product indexes through `annotate`."""
        return self._embed(passages, self.config.max_passage_tokens)

    @torch.inference_mode()
    def _embed(self, texts: Sequence[str], max_len: int) -> np.ndarray:
        texts = list(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), np.float32)
        for chunk in _chunks(order, self.batch_size):
            enc = self.tokenizer([texts[i] for i in chunk], truncation=True, max_length=max_len, padding=True,
                                 return_tensors="pt").to(self.device)
            out[chunk] = self.net.embed(enc["input_ids"], enc["attention_mask"]).float().cpu().numpy()
        return out

    @torch.inference_mode()
    def annotate(self, passages: Sequence[str]) -> list[PassageAnnotation]:
        """Vector, topics and entities of each passage from one encoder pass (batched, sorted by length)."""
        passages = list(passages)
        order = sorted(range(len(passages)), key=lambda i: len(passages[i]))
        results: list[PassageAnnotation | None] = [None] * len(passages)
        labels = self.config.entity_labels
        for chunk in _chunks(order, self.batch_size):
            texts = [passages[i] for i in chunk]
            enc = self.tokenizer(texts, truncation=True, max_length=self.config.max_passage_tokens, padding=True,
                                 return_offsets_mapping=True, return_tensors="pt")
            out = self.net.single(enc["input_ids"].to(self.device), enc["attention_mask"].to(self.device))
            topic_probs = out.topic_logits.softmax(-1).cpu().numpy()
            tag_probs, tag_ids = out.tag_logits.softmax(-1).max(-1)
            vectors = out.embedding.cpu().numpy().astype(np.float32)
            for row, i in enumerate(chunk):
                offsets = [tuple(o) for o in enc["offset_mapping"][row].tolist()]
                entities = decode_entities(texts[row], [labels[t] for t in tag_ids[row].tolist()],
                                           tag_probs[row].tolist(), enc.word_ids(row), offsets)
                topics = {label: float(p) for label, p in zip(self.config.topic_labels, topic_probs[row])}
                results[i] = PassageAnnotation(vector=vectors[row], topics=topics, entities=entities)
        return [r for r in results if r is not None]

    def score_pairs(self, query: str, passages: Sequence[str]) -> list[PairScore]:
        """Relevance and best answer span of each (query, passage) from one encoder pass per batch."""
        passages = list(passages)
        return self.score_pair_list([query] * len(passages), passages)

    @torch.inference_mode()
    def score_pair_list(self, queries: Sequence[str], passages: Sequence[str]) -> list[PairScore]:
        """`score_pairs` for many queries at once (evaluation); the same single pass per pair."""
        pairs = list(zip(queries, passages))
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        results: list[PairScore | None] = [None] * len(pairs)
        for chunk_ids in _chunks(order, self.batch_size):  # similar lengths together: little padding
            chunk_pairs = [pairs[i] for i in chunk_ids]
            chunk = [p for _, p in chunk_pairs]
            enc = self.tokenizer([q for q, _ in chunk_pairs], chunk, truncation="only_second",
                                 max_length=self.config.max_pair_tokens, padding=True,
                                 return_offsets_mapping=True, return_tensors="pt")
            out = self.net.pair(enc["input_ids"].to(self.device), enc["attention_mask"].to(self.device),
                                enc["token_type_ids"].to(self.device))
            passage_mask = torch.tensor([[s == 1 for s in enc.sequence_ids(r)] for r in range(len(chunk))],
                                        device=self.device)
            choice = best_spans(out.start_logits, out.end_logits, passage_mask, self.config.max_answer_tokens)
            for row in range(len(chunk)):
                # the best span is returned even when [CLS] wins: the snippet is still the passage's most
                # answer-like text, and `answer_score` / `answer_confidence` say how sure the head is
                i, j = int(choice.best_start[row]), int(choice.best_end[row])
                offsets = enc["offset_mapping"][row]
                start, end = (int(offsets[i][0]), int(offsets[j][1])) if passage_mask[row, i] else (None, None)
                results[chunk_ids[row]] = PairScore(relevance=float(out.relevance[row]), answer_start=start,
                                                    answer_end=end, answer_score=float(choice.margin[row]))
        return [r for r in results if r is not None]

    @property
    def dim(self) -> int:
        return int(self.net.encoder.config.hidden_size)


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]
