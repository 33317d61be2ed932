"""The topic taxonomy is read from the data, and matches the one the released checkpoint was trained on."""
import json

import pytest

from search.model.base import default_checkpoint
from search.training.materials import anchor_texts, topic_labels
from search.training.negatives import RetrievalExample
from search.training.tasks import RetrievalPool
from tests.shared_data import SHARED_DATA, needs_shared_data


@needs_shared_data
def test_topic_labels_come_from_the_data_files():
    labels, groups = topic_labels(SHARED_DATA)
    assert groups == {"ag_news": ["business", "sport", "tech", "world"],
                      "bbc": ["business", "entertainment", "politics", "sport", "tech"]}
    assert labels == sorted(set(groups["ag_news"]) | set(groups["bbc"]))
    released = json.loads((default_checkpoint() / "newsearch.json").read_text())
    assert released["model"]["topic_labels"] == labels


def _pool(passages: int, queries: int) -> RetrievalPool:
    examples = [RetrievalExample(f"query {i}", i % passages, "g", None, []) for i in range(queries)]
    return RetrievalPool([f"passage {i}" for i in range(passages)], ["g"] * passages, examples, {})


@pytest.mark.parametrize("share, passages, queries, want", [
    (0.5, 50, 50, 10), (0.8, 50, 50, 16), (0.0, 50, 50, 0), (1.0, 50, 50, 20),
    (0.2, 50, 5, 15),  # too few queries: passages fill the gap
    (0.9, 4, 50, 4),  # too few passages: queries fill the gap
])
def test_anchor_texts_take_their_passage_share(share, passages, queries, want):
    texts = anchor_texts(_pool(passages, queries), 20, seed=0, passage_share=share)
    assert len(texts) == len(set(texts)) == 20
    assert sum(t.startswith("passage") for t in texts) == want
