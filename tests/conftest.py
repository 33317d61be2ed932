"""Session fixtures shared by every test package: the released model and a small store built by the indexer."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.pipeline import Indexer
from indexer.readers import read_inputs
from search.model import NewsModel
from search.store import Store

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "articles.jsonl"
SAMPLE_ARTICLES = 120  # enough for topics, entities and filters; small enough to build in about a minute on CI


@pytest.fixture(scope="session")
def model() -> NewsModel:
    return NewsModel.load()


@pytest.fixture(scope="session")
def sample_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first SAMPLE_ARTICLES records of the bundled sample, as a JSONL file."""
    path = tmp_path_factory.mktemp("sample") / "articles.jsonl"
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)[:SAMPLE_ARTICLES]
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory, model: NewsModel, sample_jsonl: Path) -> Path:
    """A store folder built once per session by the real indexer. Read-only for tests: copy it to change it."""
    folder = tmp_path_factory.mktemp("sample_store")
    store = Store.open(folder, create=True)
    Indexer(store, model).add(read_inputs([str(sample_jsonl)]))
    store.close()
    return folder
