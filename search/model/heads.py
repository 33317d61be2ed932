"""The five heads learned from scratch on top of the shared encoder.

The embedding head is mean pooling + L2 norm, with an optional linear projection in between (fitted by
`news-search distill`); both are standard sentence-transformers modules (Pooling, Dense, Normalize),
so the checkpoint folder stays a valid sentence-transformers model. The others are the "minimal architecture
changes" of BERT fine-tuning: an MLP on [CLS] for sequence-level outputs, a linear layer per token for
token-level outputs.
"""
from __future__ import annotations

import torch
from torch import nn


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token vectors that the attention mask keeps (not normalised).

    hidden: (B, T, H); mask: (B, T) of 0/1 -> (B, H)
    """
    weights = mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    summed = (hidden * weights).sum(dim=1)  # (B, H)
    counts = weights.sum(dim=1).clamp(min=1e-9)  # (B, 1)
    return summed / counts


class EmbeddingHead(nn.Module):
    """Mean pooling -> optional linear projection (H -> H, with bias) -> L2 norm: the bi-encoder's vector.

    Without the projection this is sentence-transformers' mean-pooling recipe, which the base encoder was
    pre-trained with. The projection lets the head read the base's embedding space back out of a fine-tuned
    encoder (fitted by ridge regression, search/training/embedding_distillation.py) without moving the encoder
    that the other heads depend on.
    """

    def __init__(self, hidden: int, projection: bool) -> None:
        super().__init__()
        self.projection = nn.Linear(hidden, hidden) if projection else None

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        pooled = mean_pool(hidden, mask)  # (B, T, H), (B, T) -> (B, H)
        if self.projection is not None:
            pooled = self.projection(pooled)
        return nn.functional.normalize(pooled, p=2, dim=-1)


class MLPHead(nn.Module):
    """Dense -> tanh -> dropout -> dense on the [CLS] vector (BERT's pooler shape, learned from scratch)."""

    def __init__(self, hidden: int, inner: int, outputs: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(hidden, inner), nn.Tanh(), nn.Dropout(dropout), nn.Linear(inner, outputs)
        )

    def forward(self, cls: torch.Tensor) -> torch.Tensor:
        return self.net(cls)  # (B, H) -> (B, outputs)


class TokenHead(nn.Module):
    """One linear layer applied to every token's vector (tagging; span start/end scores)."""

    def __init__(self, hidden: int, outputs: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden, outputs)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(hidden))  # (B, T, H) -> (B, T, outputs)
