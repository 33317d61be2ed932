"""The pair pass's runtimes give torch float32's relevance and answers (the released weights, real passages)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from scipy.stats import spearmanr

from search.model import NewsModel
from search.model.runtime import bf16_supported, choose_runtime
from tests.conftest import SAMPLE


def pairs() -> tuple[list[str], list[str]]:
    articles = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:12]]
    passages = [a["body"][:1500] for a in articles]  # long and short ones: the batches pad differently
    return [f"What happened in {a['title']}?" for a in articles], passages


def on(model: NewsModel, runtime: str) -> NewsModel:
    return NewsModel(model.net, model.tokenizer, model.name, model.model_id, "cpu", runtime=runtime)


def test_onnxruntime_matches_torch_on_sample_passages(model: NewsModel) -> None:
    questions, passages = pairs()
    onnx = on(model, "onnxruntime")
    for window in (0, 96):
        want = model.score_pair_list(questions, passages, window)
        got = onnx.score_pair_list(questions, passages, window)
        for w, g in zip(want, got):
            assert g.relevance == pytest.approx(w.relevance, abs=1e-4)
            assert (g.answer_start, g.answer_end) == (w.answer_start, w.answer_end)
            assert g.answer_score == pytest.approx(w.answer_score, abs=1e-3)
    assert onnx.runtime == "onnxruntime" and model.runtime == "torch"


def test_bf16_autocast_keeps_the_ranking_and_nearly_every_answer(model: NewsModel) -> None:
    questions, passages = pairs()
    want = model.score_pair_list(questions, passages)
    got = on(model, "torch-bf16").score_pair_list(questions, passages)
    assert spearmanr([w.relevance for w in want], [g.relevance for g in got]).statistic >= 0.98
    assert all(abs(w.relevance - g.relevance) < 0.05 for w, g in zip(want, got))
    same = sum((w.answer_start, w.answer_end) == (g.answer_start, g.answer_end) for w, g in zip(want, got))
    assert same >= len(want) - 1


@pytest.mark.parametrize("native_bf16", [False, True])
def test_auto_picks_bf16_where_the_cpu_has_it_else_int8_with_scales(model, tmp_path, monkeypatch,
                                                                     native_bf16) -> None:
    monkeypatch.setattr("search.model.runtime.bf16_supported", lambda device: native_bf16)
    cpu = torch.device("cpu")
    assert choose_runtime("auto", cpu) == ("torch-bf16" if native_bf16 else "torch")
    assert choose_runtime("auto", cpu, Path(model.name)) == ("torch-bf16" if native_bf16 else "torch-int8")
    assert choose_runtime("auto", cpu, tmp_path) == ("torch-bf16" if native_bf16 else "torch")  # no scales there
    assert choose_runtime("auto", torch.device("cuda"), Path(model.name)) == "torch"


def test_runtime_names_are_checked() -> None:
    cpu = torch.device("cpu")
    assert bf16_supported(torch.device("cuda"))  # autocast pays off on every GPU; on CPUs cpuinfo decides
    assert choose_runtime("torch", cpu) == "torch" and choose_runtime("onnxruntime", cpu) == "onnxruntime"
    with pytest.raises(ValueError, match="unknown runtime"):
        choose_runtime("tensorrt", cpu)
