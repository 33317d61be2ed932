"""The retrieval task's batches: each passage once, and no query trained against a possible false negative."""
import random

from transformers import AutoTokenizer

from search.model.base import resolve_base
from search.training.negatives import RetrievalExample
from search.training.tasks import RetrievalPool, RetrievalTask


def test_batch_dedupes_passages_and_masks_possible_false_negatives():
    corpus = ["Paris is the capital of France.", "Lyon lies on the Rhone.", "Berlin is the capital of Germany.",
              "France borders Germany; Paris and Berlin are capitals."]
    groups = ["france", "france", "germany", "europe"]
    examples = [
        RetrievalExample("What is the capital of France?", 0, "france", "Paris", [3]),  # 3 holds "Paris"
        RetrievalExample("Which city is France's capital?", 0, "france", "Paris", [2]),  # same positive as above
        RetrievalExample("Where is Lyon?", 1, "france", "on the Rhone", [2]),
        RetrievalExample("What is the capital of Germany?", 2, "germany", "Berlin", [1]),
    ]
    pool = RetrievalPool(corpus, groups, examples, {})
    tok = AutoTokenizer.from_pretrained(resolve_base(""))
    task = RetrievalTask(pool, tok, batch_size=4, max_len=32, rng=random.Random(0))
    task.batches = iter([[0, 1, 2, 3]])
    batch = task.next_batch()
    cands = [0, 1, 2, 3]  # positives in query order without the repeat, then the unseen negative
    assert batch["p_ids"].shape[0] == len(cands)
    assert batch["targets"].tolist() == [0, 0, 1, 2]
    exclude = batch["exclude"].tolist()
    # queries 0/1: passage 1 is of the same article, passage 3 holds the answer "Paris"
    assert exclude[0] == [False, True, False, True] and exclude[1] == exclude[0]
    assert exclude[2] == [True, False, False, False]  # passage 0 is of Lyon's article (France)
    assert exclude[3] == [False, False, False, True]  # passage 3 holds "Berlin"
