"""CoNLL reading keeps document boundaries; joined tagging examples never cross them."""
from search.training.data import join_sentences, read_conll

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
