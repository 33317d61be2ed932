"""The four training tasks. Each builds batches from its data and computes its loss in one encoder pass.

- retrieval: (query, positive, hard negative) -> InBatchNegativesLoss on the embedding head
- pair: (query, passage) with a relevance target and an answer span (or [CLS])
        -> MSE on the pair regression head + SpanLoss on the span head
- sts: STS-B sentence pairs -> MSE on the pair regression head (graded scores, 0-1); a task of its own so
       these short pairs are batched with each other instead of being padded to passage length
- tagging: CoNLL-2003 sentences -> token cross-entropy on the tagging head
- topic: BBC / AG News texts -> GroupedTopicLoss on the classification head
- anchor: unlabeled news passages and queries -> EmbeddingDistillationLoss towards the frozen base's vectors
"""
from __future__ import annotations

import random
from dataclasses import dataclass
import torch
from torch.nn import functional as F
from tqdm import tqdm
from transformers import PreTrainedTokenizerBase

from search.model.batches import attention, pad
from search.model.encoder import MultiTaskEncoder
from search.training.batching import bucketed_batches
from search.training.data import LabelledText, ScoredPair, TaggedSentence
from search.training.features import IGNORE, PairFeature, align_tags, answer_windows
from search.training.losses import EmbeddingDistillationLoss, GroupedTopicLoss, InBatchNegativesLoss, SpanLoss
from search.training.negatives import RetrievalExample, may_be_negative


@dataclass
class RetrievalPool:
    """Queries with their positive and mined negatives over one passage corpus (shared by two tasks)."""

    corpus: list[str]
    groups: list[str]
    examples: list[RetrievalExample]
    answer_starts: dict[int, int]  # example index -> answer char start in its positive (SQuAD only)


class RetrievalTask:
    name = "retrieval"

    def __init__(self, pool: RetrievalPool, tokenizer: PreTrainedTokenizerBase, batch_size: int,
                 max_len: int, rng: random.Random) -> None:
        self.pool = pool
        # tokenized once: re-tokenizing ~130 passages per batch would keep a GPU waiting
        self.passage_ids = tokenizer(pool.corpus, truncation=True, max_length=max_len)["input_ids"]
        self.query_ids = tokenizer([ex.query for ex in pool.examples], truncation=True, max_length=64)["input_ids"]
        self.pad_id = tokenizer.pad_token_id
        self.corpus_lower = [c.lower() for c in pool.corpus]
        lengths = [len(self.passage_ids[ex.positive]) for ex in pool.examples]
        self.batches = bucketed_batches(lengths, batch_size, rng)
        self.loss_fn = InBatchNegativesLoss()

    def next_batch(self) -> dict[str, torch.Tensor]:
        """Queries, each distinct passage once (length bucketing puts questions on the same paragraph in one
        batch), each query's target row, and the candidates masked for it as possible false negatives."""
        rows = next(self.batches)
        exs = [self.pool.examples[i] for i in rows]
        cands = list(dict.fromkeys([ex.positive for ex in exs] + [n for ex in exs for n in ex.negatives]))
        targets = [cands.index(ex.positive) for ex in exs]
        exclude = [[c != ex.positive and not may_be_negative(ex, c, self.pool.groups, self.corpus_lower)
                    for c in cands] for ex in exs]
        queries = [self.query_ids[i] for i in rows]
        passages = [self.passage_ids[c] for c in cands]
        return {"q_ids": pad(queries, self.pad_id), "q_mask": attention(queries),
                "p_ids": pad(passages, self.pad_id), "p_mask": attention(passages),
                "targets": torch.tensor(targets), "exclude": torch.tensor(exclude)}

    def loss(self, net: MultiTaskEncoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        # queries and passages go through the encoder as one padded batch would waste compute on short
        # queries, so they are two calls of the same `embed` pass
        q = net.embed(batch["q_ids"], batch["q_mask"])  # (B, H)
        p = net.embed(batch["p_ids"], batch["p_mask"])  # (C, H) distinct positives + mined negatives
        return self.loss_fn(q, p, batch["targets"], batch["exclude"])


class PairTask:
    """Cross-encoder relevance (MSE) and answer spans (CE) from the same (query, passage) pairs."""

    name = "pair"

    def __init__(self, pool: RetrievalPool, tokenizer: PreTrainedTokenizerBase, batch_size: int, max_len: int,
                 stride: int, rng: random.Random) -> None:
        self.pool, self.tok = pool, tokenizer
        self.max_len, self.stride = max_len, stride
        self.n_q = max(1, batch_size // 2)  # each query brings its positive and one hard negative
        # bucketed by the positive's length in characters: a cheap stand-in for tokens (both are windowed)
        self.batches = bucketed_batches([len(pool.corpus[ex.positive]) for ex in pool.examples], self.n_q, rng)
        self.span_loss = SpanLoss()

    def _qa_features(self, idx: int) -> list[PairFeature]:
        ex = self.pool.examples[idx]
        start = self.pool.answer_starts.get(idx)
        answer = (ex.answer, start) if ex.answer is not None and start is not None else None
        pos = answer_windows(self.tok, ex.query, self.pool.corpus[ex.positive], answer, self.max_len, self.stride, 1.0)
        if answer is None:  # headline -> body: relevant, but no span to point at
            pos = [PairFeature(f.input_ids, f.token_type_ids, IGNORE, IGNORE, 1.0) for f in pos[:1]]
        feats = pos[:1]
        for n in ex.negatives[:1]:
            neg = answer_windows(self.tok, ex.query, self.pool.corpus[n], None, self.max_len, self.stride, 0.0)
            feats += neg[:1]
        return feats

    def next_batch(self) -> dict[str, torch.Tensor]:
        feats: list[PairFeature] = []
        for idx in next(self.batches):
            feats += self._qa_features(idx)
        ids = [f.input_ids for f in feats]
        return {"ids": pad(ids, self.tok.pad_token_id), "mask": attention(ids),
                "types": pad([f.token_type_ids for f in feats], 0),
                "start": torch.tensor([f.start for f in feats]), "end": torch.tensor([f.end for f in feats]),
                "relevance": torch.tensor([f.relevance for f in feats], dtype=torch.float)}

    def loss(self, net: MultiTaskEncoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        out = net.pair(batch["ids"], batch["mask"], batch["types"])
        mse = F.mse_loss(out.relevance, batch["relevance"])
        return mse + self.span_loss(out.start_logits, out.end_logits, batch["start"], batch["end"])


class StsTask:
    """Graded sentence-pair similarity (STS-B, scores rescaled to 0-1) on the pair regression head."""

    name = "sts"

    def __init__(self, pairs: list[ScoredPair], tokenizer: PreTrainedTokenizerBase, batch_size: int,
                 max_len: int, rng: random.Random) -> None:
        enc = tokenizer([p.first for p in pairs], [p.second for p in pairs], truncation=True, max_length=max_len)
        self.ids, self.types = enc["input_ids"], enc["token_type_ids"]
        self.scores = [p.score for p in pairs]
        self.pad_id = tokenizer.pad_token_id
        self.batches = bucketed_batches([len(r) for r in self.ids], batch_size, rng)

    def next_batch(self) -> dict[str, torch.Tensor]:
        rows = next(self.batches)
        ids = [self.ids[i] for i in rows]
        return {"ids": pad(ids, self.pad_id), "mask": attention(ids), "types": pad([self.types[i] for i in rows], 0),
                "relevance": torch.tensor([self.scores[i] for i in rows], dtype=torch.float)}

    def loss(self, net: MultiTaskEncoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return F.mse_loss(net.pair(batch["ids"], batch["mask"], batch["types"]).relevance, batch["relevance"])


class TaggingTask:
    name = "tagging"

    def __init__(self, sentences: list[TaggedSentence], labels: list[str], tokenizer: PreTrainedTokenizerBase,
                 batch_size: int, max_len: int, rng: random.Random) -> None:
        index = {label: i for i, label in enumerate(labels)}
        self.rows = [align_tags(tokenizer, s.words, s.tags, index, max_len) for s in sentences]
        self.pad_id = tokenizer.pad_token_id
        self.batches = bucketed_batches([len(r[0]) for r in self.rows], batch_size, rng)

    def next_batch(self) -> dict[str, torch.Tensor]:
        rows = [self.rows[i] for i in next(self.batches)]
        ids = [r[0] for r in rows]
        return {"ids": pad(ids, self.pad_id), "mask": attention(ids), "labels": pad([r[1] for r in rows], IGNORE)}

    def loss(self, net: MultiTaskEncoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = net.single(batch["ids"], batch["mask"]).tag_logits  # (B, T, L)
        return F.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten(), ignore_index=IGNORE)


class TopicTask:
    name = "topic"

    def __init__(self, texts: list[LabelledText], labels: list[str], groups: dict[str, list[str]],
                 tokenizer: PreTrainedTokenizerBase, batch_size: int, max_len: int, rng: random.Random) -> None:
        index = {label: i for i, label in enumerate(labels)}
        # title and body as one text, like an indexed article's first passage
        self.ids = tokenizer([f"{t.title}\n{t.body}" for t in texts], truncation=True, max_length=max_len)["input_ids"]
        self.targets = [index[t.label] for t in texts]
        self.allowed = [[label in groups[t.source] for label in labels] for t in texts]
        self.pad_id = tokenizer.pad_token_id
        self.batches = bucketed_batches([len(r) for r in self.ids], batch_size, rng)
        self.loss_fn = GroupedTopicLoss()

    def next_batch(self) -> dict[str, torch.Tensor]:
        rows = next(self.batches)
        ids = [self.ids[i] for i in rows]
        return {"ids": pad(ids, self.pad_id), "mask": attention(ids),
                "targets": torch.tensor([self.targets[i] for i in rows]),
                "allowed": torch.tensor([self.allowed[i] for i in rows])}

    def loss(self, net: MultiTaskEncoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = net.single(batch["ids"], batch["mask"]).topic_logits
        return self.loss_fn(logits, batch["targets"], batch["allowed"])


class AnchorTask:
    """Unlabeled texts with the frozen base encoder's vectors of them: the embedding stays near the base's.

    `ids` are the tokenized texts, `teacher` (N, H) the base's unit vectors of the same token ids (computed once,
    `teacher_vectors`). Passages and queries both: retrieval compares the two, and both drift.
    """

    name = "anchor"

    def __init__(self, ids: list[list[int]], teacher: torch.Tensor, pad_id: int, batch_size: int,
                 rng: random.Random, scale: float = 1.0) -> None:
        if len(ids) != teacher.shape[0]:
            raise ValueError(f"{len(ids)} texts but {teacher.shape[0]} teacher vectors")
        self.ids, self.teacher, self.pad_id, self.scale = ids, teacher, pad_id, scale
        self.batches = bucketed_batches([len(r) for r in ids], batch_size, rng)
        self.loss_fn = EmbeddingDistillationLoss()

    def next_batch(self) -> dict[str, torch.Tensor]:
        rows = next(self.batches)
        ids = [self.ids[i] for i in rows]
        return {"ids": pad(ids, self.pad_id), "mask": attention(ids), "teacher": self.teacher[rows]}

    def loss(self, net: MultiTaskEncoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.scale * self.loss_fn(net.embed(batch["ids"], batch["mask"]), batch["teacher"].float())


@torch.inference_mode()
def teacher_vectors(teacher: MultiTaskEncoder, ids: list[list[int]], pad_id: int, batch_size: int,
                    device: torch.device) -> torch.Tensor:
    """(N, H) float32 unit vectors of already-tokenized texts from a frozen encoder, shortest rows batched
    together (tqdm bar: on two CPU cores 6,000 texts take a few minutes)."""
    teacher = teacher.to(device).eval()
    out = torch.zeros(len(ids), int(teacher.encoder.config.hidden_size))
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    for k in tqdm(range(0, len(order), batch_size), desc="base vectors", unit="batch", dynamic_ncols=True):
        rows = order[k:k + batch_size]
        chunk = [ids[i] for i in rows]
        out[rows] = teacher.embed(pad(chunk, pad_id).to(device), attention(chunk).to(device)).float().cpu()
    return out
