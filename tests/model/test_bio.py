import itertools

import numpy as np
import pytest

from search.model.bio import decode_word_labels, token_labels, viterbi_bio

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _valid(path: tuple[int, ...]) -> bool:
    """The BIO rule written out plainly, for the oracle: I-X only right after B-X or I-X."""
    prev = "O"
    for k in path:
        cur = LABELS[k]
        if cur.startswith("I-") and prev not in ("B-" + cur[2:], cur):
            return False
        prev = cur
    return True


def _brute_force(log_probs: np.ndarray) -> tuple[int, ...]:
    """Every label sequence scored; the best valid one."""
    rows = range(log_probs.shape[0])
    paths = [p for p in itertools.product(range(len(LABELS)), repeat=log_probs.shape[0]) if _valid(p)]
    return max(paths, key=lambda p: sum(log_probs[w, k] for w, k in zip(rows, p)))


@pytest.mark.parametrize("seed", range(40))
def test_viterbi_matches_brute_force_over_all_sequences(seed):
    rng = np.random.default_rng(seed)
    words = int(rng.integers(1, 6))
    log_probs = np.log(rng.dirichlet(np.ones(len(LABELS)), size=words))
    assert tuple(viterbi_bio(log_probs, LABELS)) == _brute_force(log_probs)


def test_valid_argmax_is_kept_and_a_stray_inside_tag_is_repaired():
    sure = np.log(np.full((3, len(LABELS)), 0.01))
    for w, k in enumerate([1, 2, 0]):  # B-PER I-PER O: already valid
        sure[w, k] = np.log(0.96)
    assert viterbi_bio(sure, LABELS) == [1, 2, 0]
    # "O I-LOC": the I-LOC word needs a B-LOC; the cheaper fix here is the second word as B-LOC
    log_probs = np.log(np.array([[0.9, 0.05, 0.01, 0.03, 0.01], [0.1, 0.01, 0.01, 0.3, 0.58]]))
    assert [LABELS[k] for k in viterbi_bio(log_probs, LABELS)] == ["O", "B-LOC"]


def test_empty_text_decodes_to_nothing():
    assert viterbi_bio(np.zeros((0, len(LABELS))), LABELS) == []


def test_word_labels_are_read_at_first_pieces_only():
    # [CLS] angela mer ##kel [SEP]: the ##kel row says I-LOC and must not matter
    word_ids = [None, 0, 1, 1, None]
    log_probs = np.log(np.full((5, len(LABELS)), 0.01))
    log_probs[1, 1] = log_probs[2, 2] = log_probs[3, 4] = np.log(0.96)
    assert decode_word_labels(log_probs, word_ids, LABELS) == {0: 1, 1: 2}
    tags, probs = token_labels(log_probs, word_ids, LABELS)
    assert tags == ["O", "B-PER", "I-PER", "O", "O"]
    assert probs[1] == pytest.approx(0.96) and probs[2] == pytest.approx(0.96)
