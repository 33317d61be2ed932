"""CoNLL reading keeps document boundaries; joined tagging examples never cross them; a topics file with a bad
line is refused with its line number."""
import pytest

from search.training.data import join_sentences, read_conll, read_labelled_jsonl

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP B-LOC
1996-08-22 CD I-NP O

Germany NNP B-NP B-LOC
. . O O
"""


def test_documents_are_numbered_and_runs_stay_inside_one(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(CONLL)
    sentences = read_conll(path)
    assert [(s.words[0], s.document) for s in sentences] == [("EU", 0), ("Peter", 0), ("BRUSSELS", 1), ("Germany", 1)]
    runs = join_sentences(sentences, max_words=10)
    assert [r.words for r in runs] == [["EU", "rejects", "German", "call", ".", "Peter", "Blackburn"],
                                       ["BRUSSELS", "1996-08-22", "Germany", "."]]
    assert runs[0].tags == ["B-ORG", "O", "B-MISC", "O", "O", "B-PER", "I-PER"]


def test_a_run_never_exceeds_max_words_unless_one_sentence_does(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(CONLL)
    runs = join_sentences(read_conll(path), max_words=4)
    assert [len(r.words) for r in runs] == [5, 2, 4]  # the 5-word sentence stays alone, nothing is cut


@pytest.mark.parametrize("text, message", [
    ('{"category": "sport", "title": "A", "body": "B"}\n{"category": "sport"', r"x\.jsonl:2: not JSON"),
    ('{"category": "sport", "title": "A", "body": "B"}\n7\n', r"x\.jsonl:2: each line needs a JSON object"),
    ('{"category": "sport", "body": "B"}\n', r"x\.jsonl:1: each line needs a JSON object with category, title"),
    ("\n\n", r"x\.jsonl: no articles"),
])
def test_topics_file_errors_name_the_line(tmp_path, text, message):
    path = tmp_path / "x.jsonl"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_labelled_jsonl(path, "mine")


def test_topics_file_values_are_read_as_text(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": 3, "category": 1, "title": "A", "body": "B"}\n')
    [text] = read_labelled_jsonl(path, "mine")
    assert (text.uid, text.label, text.title, text.body, text.source) == ("3", "1", "A", "B", "mine")
