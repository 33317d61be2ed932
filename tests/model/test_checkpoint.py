"""Save -> load gives identical outputs; the encoder part loads in sentence-transformers; bad folders fail clearly."""
import json

import numpy as np
import pytest

from search.model import ModelLoadError, NewsModel
from search.model.checkpoint import load_checkpoint, save_checkpoint, save_evaluation
from search.model.info import fingerprint


@pytest.fixture(scope="module")
def saved(fresh_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt") / "model"
    save_checkpoint(folder, fresh_model.net, fresh_model.tokenizer, recipe={"seed": 1})
    return folder


def test_round_trip_identical_outputs(fresh_model, saved):
    loaded = NewsModel.load(saved, device="cpu")
    texts = ["The central bank raised rates in Frankfurt.", "A goal in the last minute."]
    a, b = fresh_model.annotate(texts), loaded.annotate(texts)
    # weights are stored in fp16: outputs agree to fp16 precision
    assert np.allclose(np.stack([x.vector for x in a]), np.stack([x.vector for x in b]), atol=2e-3)
    assert [x.topic for x in a] == [x.topic for x in b]
    pa, pb = fresh_model.score_pairs("who?", texts), loaded.score_pairs("who?", texts)
    assert np.allclose([p.relevance for p in pa], [p.relevance for p in pb], atol=2e-3)
    # and a second load of the same folder is bit-identical
    again = NewsModel.load(saved, device="cpu")
    assert np.array_equal(np.stack([x.vector for x in b]), np.stack([x.vector for x in again.annotate(texts)]))


def test_files_fp16_and_sentence_transformers_loads(saved):
    from safetensors import safe_open
    from sentence_transformers import SentenceTransformer

    shards = sorted(saved.glob("model*.safetensors"))
    assert shards
    with safe_open(str(shards[0]), "pt") as f:
        assert all(str(f.get_slice(k).get_dtype()) in ("F16", "I64") for k in f.keys())
    st = SentenceTransformer(str(saved), device="cpu")
    ours = NewsModel.load(saved, device="cpu").embed_passages(["hello world"])
    assert np.allclose(st.encode(["hello world"]), ours, atol=1e-4)


def test_missing_checkpoint_message(tmp_path):
    with pytest.raises(ModelLoadError, match="no checkpoint folder"):
        NewsModel.load(tmp_path / "nope")


def test_folder_without_config_message(tmp_path):
    with pytest.raises(ModelLoadError, match="not a newsearch checkpoint"):
        NewsModel.load(tmp_path)


def test_corrupt_weights_message(saved, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(saved, broken)
    (broken / "heads.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelLoadError, match="corrupt or incomplete"):
        NewsModel.load(broken)


def test_evaluation_of_some_tasks_keeps_the_other_stored_figures(tmp_path):
    """Re-measuring one task replaces that section only; the release's other figures stay."""
    save_evaluation(tmp_path, {"model": "a", "squad": {"f1": 77.0}, "conll": {"f1": 0.89}, "seconds": 100.0})
    save_evaluation(tmp_path, {"model": "a", "conll": {"f1": 0.90}, "seconds": 20.0})
    stored = json.loads((tmp_path / "eval.json").read_text())
    assert stored == {"model": "a", "squad": {"f1": 77.0}, "conll": {"f1": 0.90}, "seconds": 120.0}


def test_ranking_settings_overridden_replaces_only_the_values_given() -> None:
    from search.model.config import RankingSettings

    own = RankingSettings(fusion="dbsf", alpha=0.2, rerank_depth=25, pair_window=0)
    assert own.overridden(rerank_depth=5, pair_window=None, alpha=0.0) == RankingSettings(
        fusion="dbsf", alpha=0.0, rerank_depth=5, pair_window=0)  # 0 is a value, None keeps the setting
    assert own.overridden() == own and own.overridden(fusion=None) == own
    with pytest.raises(TypeError):
        own.overridden(depth=5)


def test_ranking_settings_round_trip_and_are_refused_out_of_range(tmp_path) -> None:
    from dataclasses import asdict
    import shutil

    from search.model.base import default_checkpoint
    from search.model.checkpoint import save_model_settings
    from search.model.config import RankingSettings

    folder = tmp_path / "ckpt"
    shutil.copytree(default_checkpoint(), folder)
    chosen = RankingSettings(fusion="dbsf", alpha=0.3, candidates=25, rerank_depth=10, rerank_weight=0.75,
                             second_passage_weight=0.1)
    before = fingerprint(folder)
    save_model_settings(folder, {"ranking": asdict(chosen), "min_answer_confidence": 0.3})
    net, _, _ = load_checkpoint(folder)
    assert net.config.ranking == chosen and net.config.min_answer_confidence == 0.3
    assert fingerprint(folder) == before  # stores indexed with these weights stay valid
    with pytest.raises(ValueError, match="alpha"):
        save_model_settings(folder, {"ranking": asdict(chosen) | {"alpha": 2.0}})
    assert load_checkpoint(folder)[0].config.ranking == chosen  # nothing written on refusal
