"""The story timeline on a real store: copies and follow-ups sharing the main entities within the window, in date
order; nothing outside the window or naming too little."""
from __future__ import annotations

from pathlib import Path

import pytest

from search.model import NewsModel
from search.pipeline import InvalidRequest
from search.pipeline.story import story_timeline
from search.store import Store

STORY = [  # made-up articles; the names are invented
    ("s0", "2024-03-01", "Mayor Ana Ruiz opens the Harlow bridge",
     "Mayor Ana Ruiz opened the new Harlow bridge on Friday. Ana Ruiz said the Harlow Bridge Company finished early."),
    ("s1", "2024-03-01", "Mayor Ana Ruiz opens the Harlow bridge (update)",
     "Mayor Ana Ruiz opened the new Harlow bridge on Friday. Ana Ruiz said the Harlow Bridge Company finished early."),
    ("s2", "2024-03-12", "Cracks found in the Harlow bridge",
     "Engineers from the Harlow Bridge Company found cracks. Ana Ruiz ordered an inspection of the bridge in Harlow."),
    ("s3", "2024-02-20", "Harlow bridge to open next week",
     "Ana Ruiz announced that the Harlow Bridge Company would hand over the bridge in Harlow next week."),
    ("s4", "2024-09-30", "Harlow bridge reopens after repairs",
     "Ana Ruiz reopened the bridge in Harlow months later. The Harlow Bridge Company paid for the repairs."),
    ("s5", "2024-03-05", "Ana Ruiz visits a school", "Ana Ruiz visited a school in Marston on Tuesday."),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory, model: NewsModel) -> Store:
    from indexer.pipeline import Indexer
    from indexer.records import parse_record

    folder: Path = tmp_path_factory.mktemp("story") / "store"
    store = Store.open(folder, create=True)
    Indexer(store, model).add(parse_record({"id": i, "published_at": d, "title": t, "body": b, "source": "Wire"})
                              for i, d, t, b in STORY)
    return store


def test_copies_and_follow_ups_within_the_window_in_date_order(store: Store) -> None:
    story = story_timeline(store, "s0", days=30)
    assert len(story.entities) >= 2
    order = [(e.article_id, e.relation) for e in story.timeline]
    assert order[0] == ("s3", "follow-up") and order[-1] == ("s2", "follow-up")
    assert {("s0", "this article"), ("s1", "same story")} <= set(order)
    assert "s4" not in dict(order) and "s5" not in dict(order)  # months later; only one shared name
    dates = [e.published_at for e in story.timeline]
    assert dates == sorted(dates)
    assert "s4" in {e.article_id for e in story_timeline(store, "s0", days=365).timeline}


def test_an_unknown_article_is_a_404(store: Store) -> None:
    with pytest.raises(InvalidRequest) as missing:
        story_timeline(store, "nope")
    assert missing.value.status == 404
