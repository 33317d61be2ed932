"""A model with the real pre-trained encoder and freshly initialised heads: enough for shape and pass tests."""
import pytest

from search.model import ModelConfig, NewsModel


@pytest.fixture(scope="session")
def fresh_model() -> NewsModel:
    config = ModelConfig(topic_labels=["business", "sport", "tech"], topic_groups={"x": ["business", "sport", "tech"]})
    return NewsModel.from_base(config=config, device="cpu")
