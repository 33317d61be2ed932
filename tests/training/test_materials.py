"""The topic taxonomy is read from the data, and matches the one the released checkpoint was trained on."""
import json

from search.model.base import default_checkpoint
from search.training.materials import topic_labels
from tests.shared_data import SHARED_DATA, needs_shared_data


@needs_shared_data
def test_topic_labels_come_from_the_data_files():
    labels, groups = topic_labels(SHARED_DATA)
    assert groups == {"ag_news": ["business", "sport", "tech", "world"],
                      "bbc": ["business", "entertainment", "politics", "sport", "tech"]}
    assert labels == sorted(set(groups["ag_news"]) | set(groups["bbc"]))
    released = json.loads((default_checkpoint() / "newsearch.json").read_text())
    assert released["model"]["topic_labels"] == labels
