"""The embedding head's projection: ridge regression against scikit-learn's, targets at their end points, and a
fit on real sample text that moves the vectors towards the base on text it did not see, leaves every other head
as it was, and survives save -> load in both newsearch and sentence-transformers."""
import json

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from search.model import NewsModel
from search.model.checkpoint import save_checkpoint
from search.training.embedding_distillation import (distill_embedding, distillation_targets, fit_projection,
                                                    pooled_vectors, unit)
from search.training.recipe import ProjectionFit

RELEASED = "data/models/newsearch-minilm"


@pytest.mark.parametrize("ridge", [0.0, 0.5, 20.0])
def test_fit_matches_scikit_learn_ridge(ridge):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 12)).astype(np.float32) + 3.0  # off-centre, so the free bias matters
    y = rng.normal(size=(200, 5)).astype(np.float32)
    weight, bias = fit_projection(x, y, ridge)
    reference = Ridge(alpha=ridge, fit_intercept=True, solver="cholesky").fit(x, y)
    np.testing.assert_allclose(weight, reference.coef_, atol=1e-4)
    np.testing.assert_allclose(bias, reference.intercept_, atol=1e-4)


def test_fit_recovers_an_exact_linear_map():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 6))
    true_w, true_b = rng.normal(size=(4, 6)), rng.normal(size=4)
    weight, bias = fit_projection(x, x @ true_w.T + true_b, 0.0)
    np.testing.assert_allclose(weight, true_w, atol=1e-4)
    np.testing.assert_allclose(bias, true_b, atol=1e-4)


def test_fit_refuses_mismatched_rows():
    with pytest.raises(ValueError, match="N >= 2"):
        fit_projection(np.zeros((3, 4)), np.zeros((2, 4)), 1.0)


def test_targets_end_points():
    rng = np.random.default_rng(2)
    base, own = rng.normal(size=(5, 8)), rng.normal(size=(5, 8))
    np.testing.assert_allclose(distillation_targets(base, own, 1.0), unit(base), atol=1e-6)
    np.testing.assert_allclose(distillation_targets(base, own, 0.0), unit(own), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(distillation_targets(base, own, 0.7), axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("bad, match", [({"teacher_share": 1.5}, "teacher_share"), ({"ridge": -1.0}, "ridge"),
                                        ({"texts": 1}, "texts")])
def test_settings_out_of_range_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        ProjectionFit(**bad).check()


@pytest.fixture(scope="module")
def sample_texts():
    lines = open("data/sample/articles.jsonl", encoding="utf-8").read().splitlines()
    articles = [json.loads(line) for line in lines]
    texts = [a["body"][:600] for a in articles[:300]] + [a["title"] for a in articles[:300]]
    return texts[::2], texts[1::2]  # fitted on, measured on


@pytest.fixture(scope="module")
def distilled(sample_texts):
    model, base = NewsModel.load(RELEASED, device="cpu"), NewsModel.from_base(device="cpu")
    fit_on, held_out = sample_texts
    before = {"vectors": model.embed_passages(held_out), "pairs": model.score_pairs("Who died?", held_out[:6]),
              "annotations": model.annotate(held_out[:6])}
    if model.net.embedding_head.projection is not None:  # a release fitted before: start from the bare head
        model.net.embedding_head.projection = None
        model.config.embedding_projection = False
        before["vectors"] = model.embed_passages(held_out)
    measured = distill_embedding(model, base, fit_on, ProjectionFit(teacher_share=1.0, ridge=10.0))
    return model, base, before, measured


def test_distillation_moves_unseen_vectors_towards_the_base(distilled, sample_texts):
    model, base, before, measured = distilled
    held_out = sample_texts[1]
    teacher = base.embed_passages(held_out)
    cos_before = np.sum(before["vectors"] * teacher, 1).mean()
    cos_after = np.sum(model.embed_passages(held_out) * teacher, 1).mean()
    assert cos_after > cos_before + 0.02, (cos_before, cos_after)  # 0.735 -> 0.779 measured
    assert measured["cosine_to_base_after"] > measured["cosine_to_base_before"]


def test_vectors_are_the_projected_pool_and_other_heads_unchanged(distilled, sample_texts):
    model, _, before, _ = distilled
    held_out = sample_texts[1]
    head = model.net.embedding_head.projection
    expected = unit(pooled_vectors(model, held_out[:6]) @ head.weight.detach().numpy().T + head.bias.detach().numpy())
    np.testing.assert_allclose(model.embed_passages(held_out[:6]), expected, atol=1e-5)
    after_pairs = model.score_pairs("Who died?", held_out[:6])
    assert [p.relevance for p in after_pairs] == [p.relevance for p in before["pairs"]]
    assert [p.answer_start for p in after_pairs] == [p.answer_start for p in before["pairs"]]
    after = model.annotate(held_out[:6])
    assert [a.topics for a in after] == [a.topics for a in before["annotations"]]
    assert [a.entities for a in after] == [a.entities for a in before["annotations"]]


def test_projection_survives_save_and_load_in_both_loaders(distilled, tmp_path, sample_texts):
    from sentence_transformers import SentenceTransformer

    model = distilled[0]
    folder = save_checkpoint(tmp_path / "distilled", model.net, model.tokenizer)
    modules = json.loads((folder / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Dense", "Normalize"]
    loaded = NewsModel.load(folder, device="cpu")
    assert loaded.config.embedding_projection
    texts = sample_texts[1][:4]
    ours = loaded.embed_passages(texts)
    np.testing.assert_allclose(ours, model.embed_passages(texts), atol=2e-3)  # fp16 files
    st = SentenceTransformer(str(folder), device="cpu")
    np.testing.assert_allclose(st.encode(texts), ours, atol=1e-4)


def test_fitting_a_distilled_model_again_gives_the_same_projection(distilled, sample_texts):
    model, base, _, _ = distilled
    first = {k: v.detach().clone() for k, v in model.net.embedding_head.projection.state_dict().items()}
    again = distill_embedding(model, base, sample_texts[0], ProjectionFit(teacher_share=1.0, ridge=10.0))
    for name, tensor in model.net.embedding_head.projection.state_dict().items():
        np.testing.assert_allclose(tensor.numpy(), first[name].numpy(), atol=1e-5)
    assert again["cosine_to_base_before"] == pytest.approx(again["cosine_to_base_after"], abs=1e-5)
