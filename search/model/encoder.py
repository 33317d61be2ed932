"""The multi-task network: one BERT-family encoder, five heads, two kinds of forward pass.

`single` runs a passage (or a query) alone and returns its embedding, topic logits and tag logits;
`pair` runs `[CLS] query [SEP] passage [SEP]` and returns the relevance score and the span logits.
Each call is exactly one encoder forward, which is how the product keeps its pass budget.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoModel, PreTrainedModel

from search.model.config import ModelConfig
from search.model.heads import EmbeddingHead, MLPHead, TokenHead
from search.model.packed import packable, packed_forward, right_padded


@dataclass
class SingleOutput:
    embedding: torch.Tensor  # (B, H) L2-normalised
    topic_logits: torch.Tensor  # (B, n_topics)
    tag_logits: torch.Tensor  # (B, T, n_entity_labels)


@dataclass
class PairOutput:
    relevance: torch.Tensor  # (B,)
    start_logits: torch.Tensor  # (B, T)
    end_logits: torch.Tensor  # (B, T)


class MultiTaskEncoder(nn.Module):
    """Encoder + heads. All parameters are trainable; the heads start from scratch."""

    def __init__(self, encoder: PreTrainedModel, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.embedding_head = EmbeddingHead(hidden, config.embedding_projection)
        self.topic_head = MLPHead(hidden, config.head_hidden, max(1, len(config.topic_labels)), config.dropout)
        self.tag_head = TokenHead(hidden, len(config.entity_labels), config.dropout)
        self.pair_head = MLPHead(hidden, config.head_hidden, 1, config.dropout)
        self.span_head = TokenHead(hidden, 2, config.dropout)
        self.packable = packable(encoder)

    @classmethod
    def from_base(cls, base: str, config: ModelConfig) -> "MultiTaskEncoder":
        """A fresh network: pre-trained encoder weights from `base`, heads initialised from scratch.

        The weights are trained in float32 whatever the file holds (a half-precision copy of a base model
        would otherwise load as half precision, where AdamW updates underflow)."""
        return cls(AutoModel.from_pretrained(base).float(), config)

    def hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """The one encoder forward every pass makes: (B, T) ids, mask and segment ids -> (B, T, H) token vectors.
        In inference a BERT skips the padding (search/model/packed.py: the same outputs at the real tokens);
        training, another architecture and the ONNX exporter's trace run the transformers forward."""
        if not self.training and self.packable and not torch.jit.is_tracing() and right_padded(attention_mask):
            return packed_forward(self.encoder, input_ids, attention_mask, token_type_ids)  # (B, T, H)
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return out.last_hidden_state  # (B, T, H)

    def single(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SingleOutput:
        """One pass over a lone text: embedding, topic and per-token entity logits together."""
        hidden = self.hidden_states(input_ids, attention_mask)  # (B, T, H)
        return SingleOutput(
            embedding=self.embedding_head(hidden.float(), attention_mask),
            topic_logits=self.topic_head(hidden[:, 0]).float(),
            tag_logits=self.tag_head(hidden).float(),
        )

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Only the embedding (the same pass as `single`, without running the unused heads)."""
        return self.embedding_head(self.hidden_states(input_ids, attention_mask).float(), attention_mask)

    def pair(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
             token_type_ids: torch.Tensor) -> PairOutput:
        """One pass over `[CLS] q [SEP] p [SEP]`: relevance and answer-span logits together."""
        hidden = self.hidden_states(input_ids, attention_mask, token_type_ids)  # (B, T, H)
        spans = self.span_head(hidden).float()  # (B, T, 2)
        return PairOutput(
            relevance=self.pair_head(hidden[:, 0]).float().squeeze(-1),
            start_logits=spans[..., 0],
            end_logits=spans[..., 1],
        )
