"""BERT inference over packed rows: transformers' `BertModel` forward without computing on padding.

A batch of rows of different lengths is padded to its longest; the encoder then spends its Linear layers (about
three quarters of a pass) on padding too, even where batches are sorted by length. Here every Linear layer, the
embeddings and the layer norms run on the real tokens only, packed into one (N, H) matrix (N = the rows' total
length); only attention goes back to the padded (B, heads, T, d) layout, where the mask keeps each row to its own
tokens. The same weights and the same results as `BertModel` up to float rounding (tests/model/test_packed.py
compares them on real passages), without the pooler the model does not use; measured 5% faster on the pair pass
(`benchmarks/compare_runtimes.py`, docs/speed.md). The idea is the "unpadding" of NVIDIA's FasterTransformer BERT
and of MosaicBERT (Portes et al. 2023); it is written here for inference only.

Used for `BertModel`s with absolute position embeddings, GELU and right padding (as `search/model/batches.py`
pads); any other encoder, or training, runs the transformers forward.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def packable(encoder: nn.Module) -> bool:
    """Whether `encoder` is a BERT this forward reproduces (else the transformers forward is used)."""
    from transformers import BertModel

    config = getattr(encoder, "config", None)
    return (isinstance(encoder, BertModel) and getattr(config, "position_embedding_type", "absolute") == "absolute"
            and config.hidden_act == "gelu" and not config.is_decoder)


def right_padded(mask: torch.Tensor) -> bool:
    """Whether each row of a (B, T) 0/1 mask is ones then zeros."""
    return bool((mask[:, 1:] <= mask[:, :-1]).all())


def packed_forward(bert: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                   token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
    """`bert(input_ids, attention_mask, token_type_ids).last_hidden_state` for right-padded rows, computed on
    the real tokens only: (B, T) ids, mask and segment ids -> (B, T, H), zeros at padded positions (which every
    head masks out). `bert` must pass `packable` and the mask `right_padded`."""
    keep = attention_mask.bool()  # (B, T)
    batch, width = keep.shape
    config = bert.config
    heads = config.num_attention_heads
    hidden = config.hidden_size
    head_dim = hidden // heads
    positions = torch.arange(width, device=input_ids.device).expand(batch, width)[keep]  # (N,)
    types = token_type_ids[keep] if token_type_ids is not None else torch.zeros_like(positions)
    emb = bert.embeddings
    h = emb.word_embeddings(input_ids[keep]) + emb.position_embeddings(positions) + emb.token_type_embeddings(types)
    h = emb.LayerNorm(h)  # (N, H)
    mask = keep[:, None, None, :]  # (B, 1, 1, T): each query attends to its own row's tokens

    def padded_heads(x: torch.Tensor) -> torch.Tensor:  # (N, 3H) -> 3 x (B, heads, T, d): query, key, value
        out = x.new_zeros(batch, width, 3 * hidden)
        out[keep] = x
        return out.view(batch, width, 3, heads, head_dim).permute(2, 0, 3, 1, 4)

    # the layers' own modules are called (not their weights), so a quantized copy of the model runs here too
    for layer in bert.encoder.layer:
        att = layer.attention.self
        # the int8 copy fuses query, key and value into one Linear (search/model/int8.py): one matrix product and
        # one activation quantization instead of three
        qkv = getattr(att, "qkv", None)
        projected = qkv(h) if qkv is not None else torch.cat((att.query(h), att.key(h), att.value(h)), -1)
        q, k, v = padded_heads(projected)
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, heads, T, d)
        context = context.transpose(1, 2).reshape(batch, width, hidden)[keep]  # (N, H)
        out = layer.attention.output
        h = out.LayerNorm(out.dense(context) + h)
        inner = F.gelu(layer.intermediate.dense(h))  # (N, 4H)
        out = layer.output
        h = out.LayerNorm(out.dense(inner) + h)
    result = h.new_zeros(batch, width, hidden)
    result[keep] = h
    return result
