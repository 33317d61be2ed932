"""InBatchNegativesLoss against its definition: cross-entropy over the candidates a query may be trained against."""
import pytest
import torch
from torch.nn import functional as F

from search.training.losses import InBatchNegativesLoss


def _unit(rows: int, dim: int = 8, seed: int = 0) -> torch.Tensor:
    return F.normalize(torch.randn(rows, dim, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_default_targets_are_the_diagonal():
    q, c = _unit(3), _unit(5, seed=1)
    loss = InBatchNegativesLoss()
    assert torch.allclose(loss(q, c), loss(q, c, torch.arange(3)))
    assert torch.allclose(loss(q, c), F.cross_entropy(20.0 * q @ c.T, torch.arange(3)))


def test_an_excluded_candidate_counts_as_absent_for_that_query_only():
    q, c = _unit(2), _unit(4, seed=1)
    targets = torch.tensor([0, 1])
    exclude = torch.tensor([[False, False, True, False], [False, False, False, False]])
    masked = InBatchNegativesLoss()(q, c, targets, exclude)
    # by hand: query 0 sees candidates 0, 1, 3; query 1 sees all four
    logits = 20.0 * q @ c.T
    by_hand = (F.cross_entropy(logits[0, [0, 1, 3]][None], torch.tensor([0]))
               + F.cross_entropy(logits[1][None], torch.tensor([1]))) / 2
    assert torch.allclose(masked, by_hand)


def test_shared_positive_rows_and_bad_masks_fail_fast():
    q, c = _unit(3), _unit(2, seed=1)
    loss = InBatchNegativesLoss()
    assert torch.isfinite(loss(q, c, torch.tensor([0, 0, 1])))  # two queries on one passage: one row
    with pytest.raises(ValueError, match="fewer rows"):
        loss(q, c)
    with pytest.raises(ValueError, match="own positive"):
        loss(q, c, torch.tensor([0, 0, 1]), torch.tensor([[True, False]] * 3))


def test_distillation_is_two_minus_two_cosines_and_zero_for_the_teacher():
    from search.training.losses import EmbeddingDistillationLoss

    s, t = _unit(4), _unit(4, seed=1)
    loss = EmbeddingDistillationLoss()
    assert loss(t, t).item() == pytest.approx(0.0)
    assert torch.allclose(loss(s, t), (2 - 2 * (s * t).sum(-1)).mean())
    with pytest.raises(ValueError, match="shape"):
        loss(s, _unit(3))
