"""WiSE-FT weight averaging: the end points are the two models, and a bad alpha is refused."""
import pytest
import torch
from transformers import AutoModel

from search.model.base import packaged_base
from search.model.checkpoint import load_checkpoint
from search.training.soup import interpolate_with_base

RELEASED = "data/models/newsearch-minilm"


def test_end_points_and_midpoint(tmp_path):
    tuned, _, _ = load_checkpoint(RELEASED)
    base = AutoModel.from_pretrained(packaged_base()).float().state_dict()
    name = "encoder.layer.0.attention.self.query.weight"
    for alpha in (0.0, 0.5, 1.0):
        net, _, meta = load_checkpoint(interpolate_with_base(RELEASED, alpha, tmp_path / str(alpha)))
        expected = alpha * tuned.encoder.state_dict()[name] + (1 - alpha) * base[name]
        torch.testing.assert_close(net.encoder.state_dict()[name], expected, atol=2e-3, rtol=1e-2)  # fp16 files
        assert meta["recipe"]["weight_average_with_base"] == alpha
        heads = [k for k in net.state_dict() if not k.startswith("encoder.")]
        assert all(torch.equal(net.state_dict()[k], tuned.state_dict()[k]) for k in heads)  # heads as trained


def test_alpha_outside_0_1_is_refused(tmp_path):
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        interpolate_with_base(RELEASED, 1.5, tmp_path / "x")
