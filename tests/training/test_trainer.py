"""Whole (tiny) training runs on the real data: a time budget ends a run early, and --resume carries on."""
import json

import pytest

from search.model import NewsModel
from search.training.recipe import Recipe
from search.training.trainer import STATE_FILE, TEACHER_FILE, Trainer
from tests.shared_data import SHARED_DATA, needs_shared_data

TINY = dict(data_dir=str(SHARED_DATA), limit=8, num_threads=1, passage_max_len=64, qa_max_len=64, qa_stride=32,
            tagging_words=40,
            batch={"retrieval": 2, "pair": 2, "sts": 2, "tagging": 2, "topic": 2, "anchor": 2}, anchor_texts=8,
            log_every=1)


@needs_shared_data
def test_time_budget_stops_the_run_and_still_saves(tmp_path):
    recipe = Recipe(max_steps=100_000, time_budget_s=2.0, **TINY)
    report = Trainer(recipe, tmp_path).run()
    assert 0 < report.steps < 100_000
    assert json.loads((tmp_path / "train_report.json").read_text())["steps"] == report.steps
    NewsModel.load(tmp_path / "checkpoint")  # a complete, loadable checkpoint


@needs_shared_data
def test_resume_continues_from_the_saved_step(tmp_path):
    first = Trainer(Recipe(max_steps=2, **TINY), tmp_path).run()
    assert first.steps == 2 and (tmp_path / STATE_FILE).exists()
    second = Trainer(Recipe(max_steps=4, **TINY), tmp_path, resume=True).run()
    assert second.steps == 4
    assert set(second.last_loss) <= {"retrieval", "pair", "sts", "tagging", "topic", "anchor"}
    assert (tmp_path / TEACHER_FILE).exists()  # the base's vectors of the anchor texts, reused on resume


def test_a_weighted_task_without_a_batch_size_is_refused():
    with pytest.raises(ValueError, match="no batch size"):
        Recipe(batch={"retrieval": 2}).check()
    with pytest.raises(ValueError, match="unknown tasks"):
        Recipe(task_weights={"retrival": 1.0}).check()


def test_unknown_first_negatives_and_a_bad_anchor_share_are_refused_before_training():
    with pytest.raises(ValueError, match="first_negatives"):
        Recipe(first_negatives="random").check()
    with pytest.raises(ValueError, match="anchor_passage_share"):
        Recipe(anchor_passage_share=1.5).check()


@needs_shared_data
def test_tagging_runs_keep_the_single_sentences_when_asked(tmp_path):
    import random

    plain = Trainer(Recipe(**TINY), tmp_path)
    runs = plain._tagging_task(random.Random(0))
    both = Trainer(Recipe(**TINY | {"tagging_single_sentences": True}), tmp_path)._tagging_task(random.Random(0))
    assert len(runs.rows) < len(plain.material.conll)  # runs join sentences
    assert len(both.rows) == len(runs.rows) + len(plain.material.conll)
