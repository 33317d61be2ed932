"""The training losses, one small module each; the docstring is the manual."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from search.training.features import IGNORE


class InBatchNegativesLoss(nn.Module):
    """Contrastive loss for the bi-encoder with in-batch and hard negatives.

    Inputs: `queries` (B, H) and `candidates` (C, H), unit vectors; `targets` (B,) the row of each query's
    positive among the candidates (default: row i for query i, the layout with one positive per query first);
    `exclude` (B, C) bool, optional: candidates left out of query i's softmax because they may be relevant to
    it (another query's positive from the same article, or one containing its answer). Every other candidate
    (other queries' positives, the mined hard negatives) is a negative.
    Loss: cross-entropy over `scale * cosine` with the target row. This is sentence-transformers'
    MultipleNegativesRankingLoss (Henderson et al. 2017; Karpukhin et al. 2020, DPR), written over raw tensors
    because our encoder carries extra heads, plus the false-negative mask that its no-duplicates batch sampler
    approximates. `scale` 20 is its default (temperature 0.05).
    """

    def __init__(self, scale: float = 20.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, queries: torch.Tensor, candidates: torch.Tensor, targets: torch.Tensor | None = None,
                exclude: torch.Tensor | None = None) -> torch.Tensor:
        if targets is None:
            if candidates.shape[0] < queries.shape[0]:
                raise ValueError("candidates must start with one positive per query (got fewer rows than queries)"
                                 " or pass `targets`")
            targets = torch.arange(queries.shape[0], device=queries.device)
        logits = self.scale * queries @ candidates.T  # (B, C)
        if exclude is not None:
            if bool(exclude.gather(1, targets[:, None]).any()):
                raise ValueError("`exclude` masks a query's own positive: the loss would have no target")
            logits = logits.masked_fill(exclude, float("-inf"))
        return F.cross_entropy(logits, targets)


class SpanLoss(nn.Module):
    """Extractive QA loss: mean of the start and end cross-entropies over token positions.

    Inputs: `start_logits`, `end_logits` (B, T) and targets (B,) token indices; 0 ([CLS]) means "no answer in
    this passage", IGNORE (-100) rows have no span target (e.g. STS pairs) and are skipped.
    Reference: Devlin et al. 2019, section 4.2.
    """

    def forward(self, start_logits: torch.Tensor, end_logits: torch.Tensor, start: torch.Tensor,
                end: torch.Tensor) -> torch.Tensor:
        if bool((start == IGNORE).all()):
            return start_logits.sum() * 0.0
        s = F.cross_entropy(start_logits, start, ignore_index=IGNORE)
        e = F.cross_entropy(end_logits, end, ignore_index=IGNORE)
        return (s + e) / 2


class GroupedTopicLoss(nn.Module):
    """Cross-entropy over the topic labels of the example's own data set only.

    BBC and AG News label the same world differently (BBC "politics" vs AG "World"), so each example's
    logits outside its data set's label subset are masked out instead of being pushed down.
    Inputs: `logits` (B, C), `targets` (B,) label indices, `allowed` (B, C) bool.
    """

    def forward(self, logits: torch.Tensor, targets: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.masked_fill(~allowed, -1e4), targets)


class EmbeddingDistillationLoss(nn.Module):
    """Hold the embedding near a frozen teacher's: mean squared distance between unit vectors.

    Inputs: `student` (B, H) and `teacher` (B, H), both L2-normalised embeddings of the same texts; the teacher
    is the untouched base encoder, its vectors computed once before training. Loss: mean over the batch of
    ||s - t||^2 = 2 - 2 cos(s, t), so 0 when student = teacher and at most 4.
    Why: a few thousand multi-task steps wear away what the base learnt from a billion contrastive pairs, and
    retrieval on unseen news falls below the base. Anchoring the student's vectors of unlabeled news text to the
    base's keeps that knowledge while the heads train ("Learning without Forgetting", Li & Hoiem 2016; the MSE
    form is Reimers & Gurevych 2020's embedding distillation, sentence-transformers' MSELoss).
    """

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        if student.shape != teacher.shape:
            raise ValueError(f"student {tuple(student.shape)} and teacher {tuple(teacher.shape)} vectors "
                             "differ in shape")
        return (student - teacher).pow(2).sum(-1).mean()
