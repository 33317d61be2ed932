"""ModelInfo reads a checkpoint's identity and settings as a loaded NewsModel has them, without importing torch."""
import json
import subprocess
import sys
from dataclasses import asdict

import pytest

from search.model import ModelLoadError, NewsModel
from search.model.info import ModelInfo


def test_info_agrees_with_the_loaded_model() -> None:
    model = NewsModel.load()
    info = ModelInfo.read()
    assert (info.name, info.model_id, info.dim) == (model.name, model.model_id, model.dim)
    assert asdict(info.config) == asdict(model.config)


def test_reading_info_imports_no_torch() -> None:
    code = ("import sys; from search.model.info import ModelInfo; ModelInfo.read(); "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_bad_folders_fail_as_loading_does(tmp_path) -> None:
    with pytest.raises(ModelLoadError, match="no checkpoint folder"):
        ModelInfo.read(tmp_path / "nope")
    with pytest.raises(ModelLoadError, match="not a newsearch checkpoint"):
        ModelInfo.read(tmp_path)
    (tmp_path / "newsearch.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="corrupt or incomplete"):
        ModelInfo.read(tmp_path)
    (tmp_path / "newsearch.json").write_text(json.dumps({"model": {}}))  # no encoder config.json beside it
    with pytest.raises(ModelLoadError, match="corrupt or incomplete"):
        ModelInfo.read(tmp_path)
