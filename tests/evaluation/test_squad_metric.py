"""Our SQuAD scoring against hand-computed values of the official script's definitions."""
import pytest

from search.evaluation.squad_metric import exact_match, f1_score, normalize_answer, squad_scores


def test_normalisation_like_official():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("an apple a day") == "apple day"


@pytest.mark.parametrize("pred,truth,f1", [
    ("Denver Broncos", "Denver Broncos", 1.0),
    ("the Denver Broncos team", "Denver Broncos", 0.8),  # p = 2/3, r = 1 -> 0.8
    ("Carolina", "Denver Broncos", 0.0),
    ("", "Denver", 0.0),
])
def test_f1(pred, truth, f1):
    assert f1_score(pred, truth) == pytest.approx(f1)


def test_max_over_gold_answers_and_percent():
    scores = squad_scores({"q1": "in 1889", "q2": "Paris"}, {"q1": ["1889", "in 1889"], "q2": ["London"]})
    assert scores["exact_match"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(50.0)
    assert exact_match("The Paris", "paris") == 1.0
