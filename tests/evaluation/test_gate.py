"""The release gate passes only when the encoder keeps up with its base everywhere and every head stays within
one point of the release."""
from search.evaluation.collections import CHOOSING, REPORTING
from search.evaluation.gate import gate_report, release_gate

RELEASE = {"squad": {"f1": 77.6}, "conll": {"f1": 0.904}, "stsb": {"pair_spearman": 0.860},
           "topics": {"bbc": {"accuracy": 0.979}, "ag_news": {"accuracy": 0.886}}}


def results(encoder_ratios: dict[str, float], squad_f1: float = 77.0) -> dict:
    """Every collection at 1.01 unless `encoder_ratios` says otherwise (None: not measured)."""
    ratios = {name: 1.01 for name in CHOOSING + REPORTING} | encoder_ratios
    retrieval = {name: {"ratios (ndcg@10)": {"encoder / base": r}} for name, r in ratios.items() if r is not None}
    return {**RELEASE, "squad": {"f1": squad_f1}, "retrieval": retrieval}


def test_passes_within_one_point_and_at_the_base() -> None:
    gate = release_gate(results({"TIME": 1.0, "SQuADShifts reddit": 1.02}, squad_f1=76.6), RELEASE)
    assert gate["passed"]
    assert "**PASSED**" in "\n".join(gate_report(gate))


def test_one_collection_below_the_base_fails() -> None:
    gate = release_gate(results({"TIME": 1.05, "SQuADShifts reddit": 0.99}), RELEASE)
    assert not gate["passed"]
    assert "| encoder / base, SQuADShifts reddit | 0.990 | 1.000 | NO |" in gate_report(gate)


def test_a_head_more_than_one_point_down_fails() -> None:
    gate = release_gate(results({"TIME": 1.1}, squad_f1=76.5), RELEASE)
    assert not gate["passed"] and gate["heads (within 1 point of the release)"]["SQuAD F1"]["passed"] is False


def test_a_figure_not_measured_cannot_pass() -> None:
    partial = results({"TIME": 1.1})
    del partial["stsb"]
    gate = release_gate(partial, RELEASE)
    assert not gate["passed"] and gate["heads (within 1 point of the release)"]["STS-B pair Spearman"]["passed"] is None
    assert not release_gate({**RELEASE}, RELEASE)["passed"]  # no retrieval measured
    assert not release_gate(results({"SQuADShifts reddit": None}), RELEASE)["passed"]  # one collection missing
    assert not release_gate(results({"TIME": float("inf")}), RELEASE)["passed"]  # the base scored 0 there
