"""Packed inference (search/model/packed.py) gives transformers' BertModel outputs, on the released weights and real
passages, for single texts and (query, passage) pairs; anything it does not reproduce runs the transformers
forward."""
from __future__ import annotations

import json

import pytest
import torch
from transformers import BertConfig, BertModel

from search.model import NewsModel
from search.model.batches import attention, pad
from search.model.packed import packable, packed_forward, right_padded
from tests.conftest import SAMPLE


def batch(model: NewsModel, pairs: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Real sample passages of many lengths (12 to 256 word pieces), right-padded as the product pads them."""
    articles = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:10]]
    passages = [a["body"][:60 * (k + 1)] for k, a in enumerate(articles)]
    if pairs:
        enc = model.tokenizer([f"What happened in {a['title']}?" for a in articles], passages,
                              truncation="only_second", max_length=256)
    else:
        enc = model.tokenizer(passages, truncation=True, max_length=256)
    ids = enc["input_ids"]
    return pad(ids, model.tokenizer.pad_token_id), attention(ids), pad(enc["token_type_ids"], 0)


def transformers_forward(model: NewsModel, ids, mask, types) -> torch.Tensor:
    return model.net.encoder(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state


@pytest.mark.parametrize("pairs", [False, True])
@torch.inference_mode()
def test_packed_forward_matches_transformers_on_every_real_token(model: NewsModel, pairs: bool) -> None:
    ids, mask, types = batch(model, pairs)
    assert len(set(mask.sum(1).tolist())) == len(mask)  # every row a different length: real padding
    want = transformers_forward(model, ids, mask, types)
    got = packed_forward(model.net.encoder, ids, mask, types)
    keep = mask.bool()
    assert torch.allclose(got[keep], want[keep], atol=1e-5)
    assert not got[~keep].any()  # padded positions are zeros, which every head masks out


@torch.inference_mode()
def test_the_heads_see_the_same_encoder_output_either_way(model: NewsModel) -> None:
    net = model.net
    assert net.packable and not net.training
    ids, mask, types = batch(model, pairs=True)
    single_ids, single_mask, _ = batch(model, pairs=False)
    packed = net.pair(ids, mask, types), net.single(single_ids, single_mask)
    net.packable = False
    try:
        plain = net.pair(ids, mask, types), net.single(single_ids, single_mask)
    finally:
        net.packable = True
    keep = mask.bool()
    assert torch.allclose(packed[0].relevance, plain[0].relevance, atol=1e-5)
    assert torch.allclose(packed[0].start_logits[keep], plain[0].start_logits[keep], atol=1e-4)
    assert torch.allclose(packed[1].embedding, plain[1].embedding, atol=1e-5)
    assert torch.allclose(packed[1].topic_logits, plain[1].topic_logits, atol=1e-4)


@torch.inference_mode()
def test_left_padding_and_other_encoders_run_the_transformers_forward(model: NewsModel) -> None:
    ids, mask, types = batch(model, pairs=True)
    left = [torch.roll(t, int(n), dims=0) for t, n in zip(mask, (~mask.bool()).sum(1))]  # zeros first
    left_mask = torch.stack(left)
    assert right_padded(mask) and not right_padded(left_mask)
    left_ids = torch.stack([torch.roll(t, int(n)) for t, n in zip(ids, (~mask.bool()).sum(1))])
    left_types = torch.stack([torch.roll(t, int(n)) for t, n in zip(types, (~mask.bool()).sum(1))])
    want = transformers_forward(model, left_ids, left_mask, left_types)
    assert torch.equal(model.net.hidden_states(left_ids, left_mask, left_types), want)
    tiny = dict(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    assert packable(BertModel(BertConfig(**tiny)))
    assert not packable(BertModel(BertConfig(**tiny, position_embedding_type="relative_key")))
    assert not packable(BertModel(BertConfig(**tiny, hidden_act="relu")))
    assert not packable(torch.nn.Linear(2, 2))
