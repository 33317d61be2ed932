"""Passage-sized SQuAD contexts keep every answer where its offsets say, and stay within the token budget."""
from __future__ import annotations

from search.evaluation.qa import passage_sized
from search.model.base import packaged_base
from search.training.data import read_squad
from search.training.materials import SQUAD_VALID, data_path
from tests.shared_data import SHARED_DATA, needs_shared_data


@needs_shared_data
def test_joined_paragraphs_keep_their_answers_and_fit_the_budget():
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(packaged_base())
    paragraphs = read_squad(data_path(str(SHARED_DATA), SQUAD_VALID))[:120]
    joined = passage_sized(paragraphs, tok, 254)
    assert len(joined) < len(paragraphs)
    assert sum(len(p.qas) for p in joined) == sum(len(p.qas) for p in paragraphs)
    for para in joined:
        assert len({p.title for p in paragraphs if p.context in para.context}) == 1  # one article per context
        for qa in para.qas:
            assert all(para.context[s:s + len(text)] == text for text, s in qa.answers), qa.qid
    singles = {p.context for p in paragraphs}
    for para in joined:
        if para.context not in singles:  # a join: within the budget
            assert len(tok(para.context, add_special_tokens=False)["input_ids"]) <= 254


def test_the_question_sample_is_spread_by_hash_and_keeps_paragraphs_whole():
    import hashlib

    from search.evaluation.qa import sample_questions
    from search.training.data import QA, Paragraph

    paragraphs = [Paragraph(f"p{i}", "t", f"text {i}", [QA(f"q{i}-{j}", "?", [("x", 0)]) for j in range(5)])
                  for i in range(10)]
    sample = sample_questions(paragraphs, 7)
    qids = [qa.qid for p in sample for qa in p.qas]
    every = sorted((qa.qid for p in paragraphs for qa in p.qas), key=lambda q: hashlib.sha1(q.encode()).hexdigest())
    assert sorted(qids) == sorted(every[:7]) and len({p.pid for p in sample}) > 2
    assert all(p.context == f"text {p.pid[1:]}" for p in sample)
