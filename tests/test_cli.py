"""`news-search`: a command imports only what it needs (`train` runs without the search stack); `eval` can
store its results in the checkpoint it measured."""
import json
import shutil
import subprocess
import sys

from search.model.base import default_checkpoint
from search.model.checkpoint import fingerprint
from tests.shared_data import SHARED_DATA, needs_shared_data


def test_train_command_does_not_import_the_search_stack():
    code = ("import sys; from search.cli import build_parser; build_parser('train'); "
            "print(sorted(m for m in ('faiss', 'fastapi', 'sqlite_utils', 'uvicorn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "search.cli", "--help"], capture_output=True, text=True).stdout
    for command in ("train", "soup", "eval", "serve", "query"):
        assert command in out


@needs_shared_data
def test_eval_can_store_its_results_in_the_checkpoint(tmp_path):
    """`eval --into-model` leaves eval.json next to the weights, and the weights (the fingerprint) untouched."""
    model = shutil.copytree(default_checkpoint(), tmp_path / "model")
    (model / "eval.json").unlink()
    before = fingerprint(model)
    subprocess.run([sys.executable, "-m", "search.cli", "eval", "--model", str(model), "--data", str(SHARED_DATA),
                    "--tasks", "stsb", "--limit", "8", "--out", str(tmp_path / "out.json"), "--into-model"],
                   check=True, capture_output=True, text=True)
    stored = json.loads((model / "eval.json").read_text())
    assert stored == json.loads((tmp_path / "out.json").read_text())
    assert stored["stsb"]["pairs"] == 8
    assert fingerprint(model) == before
