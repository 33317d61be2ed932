"""Word-piece label alignment and SQuAD answer offsets through the fast tokenizer."""
import pytest
from transformers import AutoTokenizer

from search.model.base import packaged_base
from search.training.data import read_squad
from search.training.features import IGNORE, align_tags, answer_windows
from tests.shared_data import SHARED_DATA, needs_shared_data


@pytest.fixture(scope="module")
def tok():
    return AutoTokenizer.from_pretrained(packaged_base())


def test_first_piece_labelled_rest_ignored(tok):
    words = ["Schwarzenegger", "visited", "Kyrgyzstan", "."]
    tags = ["B-PER", "O", "B-LOC", "O"]
    index = {"O": 0, "B-PER": 1, "B-LOC": 2}
    ids, labels = align_tags(tok, words, tags, index, 64)
    enc = tok(words, is_split_into_words=True)
    assert ids == enc["input_ids"]
    firsts = {}
    for pos, wid in enumerate(enc.word_ids()):
        if wid is None:
            assert labels[pos] == IGNORE
        elif wid in firsts:
            assert labels[pos] == IGNORE  # later pieces of a word
        else:
            firsts[wid] = pos
            assert labels[pos] == index[tags[wid]]
    assert len(firsts) == 4 and sum(l != IGNORE for l in labels) == 4


def _round_trip(tok, question, context, text, start, max_len=384, stride=128):
    feats = answer_windows(tok, question, context, (text, start), max_len, stride, 1.0)
    enc = tok(question, context, truncation="only_second", max_length=max_len, stride=stride,
              return_overflowing_tokens=True, return_offsets_mapping=True)
    spans = []
    for f in feats:
        w = enc["input_ids"].index(f.input_ids)
        offsets = enc["offset_mapping"][w]
        spans.append(context[offsets[f.start][0]:offsets[f.end][1]])
    return spans


def test_answer_maps_to_its_text(tok):
    context = "The Eiffel Tower was completed in 1889 for the World's Fair in Paris."
    assert _round_trip(tok, "When was it completed?", context, "1889", context.index("1889")) == ["1889"]


def test_long_context_windows_each_recover_answer(tok):
    context = " ".join(f"filler{i}" for i in range(300)) + " The answer is Zanzibar . " + "tail " * 50
    start = context.index("Zanzibar")
    spans = _round_trip(tok, "Where?", context, "Zanzibar", start, max_len=128, stride=48)
    assert spans and all(s == "Zanzibar" for s in spans)


@needs_shared_data
def test_squad_validation_answers_round_trip(tok):
    paragraphs = read_squad(SHARED_DATA / "squad" / "dev-v1.1.shared-60pct.json")[:40]
    checked = exact = 0
    for p in paragraphs:
        for qa in p.qas:
            text, start = qa.answers[0]
            for span in _round_trip(tok, qa.question, p.context, text, start):
                checked += 1
                exact += span.strip().lower() == text.strip().lower()
    assert checked > 100
    assert exact / checked > 0.97  # the rest differ only where an answer cuts a word piece (e.g. "1990s" -> "1990")
