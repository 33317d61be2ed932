"""`news-search`: a command imports only what it needs, so `train` runs without the search stack."""
import subprocess
import sys


def test_train_command_does_not_import_the_search_stack():
    code = ("import sys; from search.cli import build_parser; build_parser('train'); "
            "print(sorted(m for m in ('faiss', 'fastapi', 'sqlite_utils', 'uvicorn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "search.cli", "--help"], capture_output=True, text=True).stdout
    for command in ("train", "soup", "eval", "serve", "query"):
        assert command in out
