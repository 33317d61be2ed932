"""The ONNX Runtime pair pass gives torch's relevance and answers (the released weights, real passages)."""
from __future__ import annotations

import json

import pytest
import torch

from search.model import NewsModel
from search.model.onnx_pairs import choose_runtime
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def onnx_model(model: NewsModel) -> NewsModel:
    return NewsModel(model.net, model.tokenizer, model.name, model.model_id, "cpu", runtime="onnxruntime")


def test_onnxruntime_matches_torch_on_sample_passages(model: NewsModel, onnx_model: NewsModel) -> None:
    articles = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:12]]
    passages = [a["body"][:1500] for a in articles]  # long and short ones: the batches pad differently
    questions = [f"What happened in {a['title']}?" for a in articles]
    for window in (0, 96):
        want = model.score_pair_list(questions, passages, window)
        got = onnx_model.score_pair_list(questions, passages, window)
        for w, g in zip(want, got):
            assert g.relevance == pytest.approx(w.relevance, abs=1e-4)
            assert (g.answer_start, g.answer_end) == (w.answer_start, w.answer_end)
            assert g.answer_score == pytest.approx(w.answer_score, abs=1e-3)
    assert onnx_model.runtime == "onnxruntime" and model.runtime == "torch"


def test_auto_is_onnxruntime_on_a_cpu_and_torch_on_cuda_and_names_are_checked() -> None:
    assert choose_runtime("auto", torch.device("cpu")) == "onnxruntime"
    assert choose_runtime("auto", torch.device("cuda")) == "torch"
    assert choose_runtime("torch", torch.device("cpu")) == "torch"
    with pytest.raises(ValueError, match="unknown runtime"):
        choose_runtime("tensorrt", torch.device("cpu"))
