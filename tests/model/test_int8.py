"""The int8 pair pass: smoothing is exact, the quantized pass keeps float32's ranking on real passages, and the
runtime finds (or asks for) the checkpoint's scales."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from search.model import NewsModel
from search.model.int8 import (SMOOTHING_FILE, calibrate, int8_linears, int8_pair_net, load_scales, save_scales,
                               smoothed, smoothing_scales)
from search.model.runtime import choose_runtime, pair_pass
from tests.model.test_runtime import pairs


@pytest.fixture(scope="module")
def scales(model: NewsModel) -> dict[str, torch.Tensor]:
    questions, passages = pairs()
    return smoothing_scales(model.net, calibrate(model.net, lambda: model.score_pair_list(questions, passages)))


def test_calibration_sees_every_int8_layer_and_smoothing_is_exact(model: NewsModel, scales) -> None:
    assert set(scales) == set(int8_linears(model.net))
    assert not any(name.endswith("output.dense") and ".attention." not in name for name in scales)  # FFN out
    layer = "encoder.layer.0.attention.self"
    assert all(torch.equal(scales[f"{layer}.query"], scales[f"{layer}.{x}"]) for x in ("key", "value"))
    questions, passages = pairs()
    want = model.score_pair_list(questions, passages)
    same = NewsModel(smoothed(model.net, scales), model.tokenizer, model.name, model.model_id, "cpu")
    got = same.score_pair_list(questions, passages)
    for w, g in zip(want, got):  # X W^T == (X / s)(W s)^T: only float rounding differs
        assert g.relevance == pytest.approx(w.relevance, abs=1e-4)
        assert (g.answer_start, g.answer_end) == (w.answer_start, w.answer_end)


def test_int8_pass_keeps_the_ranking_of_sample_passages(model: NewsModel, scales) -> None:
    questions, passages = pairs()
    fp32 = [s.relevance for s in model.score_pair_list([questions[0]] * len(passages), passages)]
    int8 = NewsModel(model.net, model.tokenizer, model.name, model.model_id, "cpu")
    int8.pair_pass = int8_pair_net(model.net, scales).pair
    got = [s.relevance for s in int8.score_pair_list([questions[0]] * len(passages), passages)]
    assert spearmanr(fp32, got).statistic >= 0.9
    assert int(np.argmax(got)) == int(np.argmax(fp32))
    assert max(abs(a - b) for a, b in zip(fp32, got)) < 0.1
    # the float32 network itself is left as it was
    assert [s.relevance for s in model.score_pair_list([questions[0]] * len(passages), passages)] == fp32


def test_int8_pass_shares_the_tensors_it_does_not_quantize(model: NewsModel, scales) -> None:
    quantized = int8_pair_net(model.net, scales).encoder
    net = model.net.encoder
    assert quantized.embeddings.word_embeddings.weight is net.embeddings.word_embeddings.weight
    assert quantized.encoder.layer[0].output.dense.weight is net.encoder.layer[0].output.dense.weight  # FFN out
    assert quantized.encoder.layer[0].attention.self.query.linear is not net.encoder.layer[0].attention.self.query
    assert isinstance(net.encoder.layer[0].attention.self.query, torch.nn.Linear)  # float32 net left as it was



@torch.inference_mode()
def test_the_fused_query_key_value_layer_gives_the_three_outputs_bit_for_bit(model: NewsModel, scales) -> None:
    quantized = int8_pair_net(model.net, scales).encoder
    questions, passages = pairs()
    enc = model.tokenizer(questions, passages, truncation="only_second", max_length=256, return_tensors="pt",
                          padding=True)
    h = quantized.embeddings(enc["input_ids"], token_type_ids=enc["token_type_ids"])[enc["attention_mask"].bool()]
    for layer in quantized.encoder.layer:
        att = layer.attention.self
        assert torch.equal(att.qkv(h), torch.cat((att.query(h), att.key(h), att.value(h)), -1))  # (N, 3H)

def test_released_checkpoint_runs_torch_int8(model: NewsModel) -> None:
    loaded = load_scales(model.name)
    assert set(loaded) == set(int8_linears(model.net))
    questions, passages = pairs()
    want = model.score_pair_list(questions, passages)
    got = NewsModel(model.net, model.tokenizer, model.name, model.model_id, "cpu", runtime="torch-int8",
                    folder=model.name).score_pair_list(questions, passages)
    assert spearmanr([w.relevance for w in want], [g.relevance for g in got]).statistic >= 0.9
    assert sum((w.answer_start, w.answer_end) == (g.answer_start, g.answer_end) for w, g in zip(want, got)) >= 9


def test_scales_round_trip_and_missing_scales_say_how_to_make_them(model: NewsModel, scales, tmp_path) -> None:
    path = save_scales(tmp_path, scales)
    assert path == tmp_path / SMOOTHING_FILE
    loaded = load_scales(tmp_path)
    assert set(loaded) == set(scales) and all(torch.equal(scales[n], s) for n, s in loaded.items())
    with pytest.raises(FileNotFoundError, match="news-search calibrate"):
        pair_pass("torch-int8", model.net, tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="missing"):
        int8_pair_net(model.net, {n: s for n, s in list(scales.items())[1:]})
    with pytest.raises(ValueError, match="CPU only"):
        choose_runtime("torch-int8", torch.device("cuda"))
