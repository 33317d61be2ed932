"""Shapes of every head's output, through both kinds of pass."""
import torch


def test_single_pass_shapes(fresh_model):
    enc = fresh_model.tokenizer(["a short text", "a somewhat longer text about the markets"], padding=True,
                                return_tensors="pt")
    out = fresh_model.net.single(enc["input_ids"], enc["attention_mask"])
    b, t = enc["input_ids"].shape
    assert out.embedding.shape == (b, 384)
    assert torch.allclose(out.embedding.norm(dim=-1), torch.ones(b), atol=1e-5)
    assert out.topic_logits.shape == (b, 3)
    assert out.tag_logits.shape == (b, t, len(fresh_model.config.entity_labels))


def test_pair_pass_shapes(fresh_model):
    enc = fresh_model.tokenizer(["who won?", "when?"], ["Spain won the final.", "In 2010, in Johannesburg."],
                                padding=True, return_tensors="pt")
    out = fresh_model.net.pair(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
    b, t = enc["input_ids"].shape
    assert out.relevance.shape == (b,)
    assert out.start_logits.shape == (b, t) and out.end_logits.shape == (b, t)


def test_all_encoder_parameters_trainable(fresh_model):
    assert all(p.requires_grad for p in fresh_model.net.parameters())
