"""One optimisation step on tiny real data lowers each task's loss on that same batch."""
import random

import pytest
import torch

from search.model import ModelConfig, NewsModel
from search.training.materials import load_training, retrieval_pool, topic_labels
from search.training.negatives import mine_bm25
from search.training.tasks import PairTask, RetrievalTask, StsTask, TaggingTask, TopicTask
from tests.shared_data import SHARED_DATA, needs_shared_data


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    labels, groups = topic_labels(SHARED_DATA)
    model = NewsModel.from_base(config=ModelConfig(topic_labels=labels, topic_groups=groups), device="cpu")
    material = load_training(SHARED_DATA, limit=24, val_bbc=0.2, val_ag=0.3)
    pool = retrieval_pool(material.squad[:6], material.topics)
    mine_bm25(pool.examples, pool.corpus, pool.groups)
    rng = random.Random(0)
    tok = model.tokenizer
    tasks = [RetrievalTask(pool, tok, 8, 128, rng), PairTask(pool, tok, 8, 128, 64, rng),
             StsTask(material.sts, tok, 8, 128, rng),
             TaggingTask(material.conll, model.config.entity_labels, tok, 8, 64, rng),
             TopicTask(material.topics, labels, groups, tok, 8, 128, rng)]
    return model, tasks


@needs_shared_data
@pytest.mark.parametrize("which", [0, 1, 2, 3, 4], ids=["retrieval", "pair", "sts", "tagging", "topic"])
def test_one_step_lowers_loss(setup, which):
    model, tasks = setup
    net = model.net
    net.train()
    for m in net.modules():  # dropout off, so the before/after comparison is on the same function
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    batch = tasks[which].next_batch()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)
    before = tasks[which].loss(net, batch)
    before.backward()
    optimizer.step()
    optimizer.zero_grad()
    with torch.no_grad():
        after = tasks[which].loss(net, batch)
    assert after.item() < before.item()


@needs_shared_data
def test_init_continues_from_a_checkpoint(tmp_path):
    """`init` starts from a saved model's encoder and heads, not from fresh heads."""
    from search.training.recipe import Recipe
    from search.training.trainer import Trainer

    recipe = Recipe(init="data/models/newsearch-minilm", max_steps=0, limit=8, num_threads=1)
    started = Trainer(recipe, tmp_path).model
    released = NewsModel.load("data/models/newsearch-minilm")
    for name, value in released.net.state_dict().items():
        assert torch.equal(value, started.net.state_dict()[name]), name


@needs_shared_data
def test_anchor_is_zero_for_the_base_itself_and_pulls_a_fine_tuned_encoder_back():
    """The distillation term: 0 when student = teacher (the base), and one step on real news text lowers it
    for the released, fine-tuned encoder."""
    from search.model.base import resolve_base
    from search.model.encoder import MultiTaskEncoder
    from search.training.materials import anchor_texts
    from search.training.tasks import AnchorTask, teacher_vectors

    base_model = NewsModel.from_base(device="cpu")  # untouched (the `setup` model has taken steps)
    material = load_training(SHARED_DATA, limit=24, val_bbc=0.2, val_ag=0.3)
    pool = retrieval_pool(material.squad[:6], material.topics)
    texts = anchor_texts(pool, 16, seed=0)
    assert len(texts) == 16 and set(texts) & set(pool.corpus) and set(texts) & {ex.query for ex in pool.examples}
    tok = base_model.tokenizer
    ids = tok(texts, truncation=True, max_length=128)["input_ids"]
    teacher = teacher_vectors(MultiTaskEncoder.from_base(resolve_base(""), ModelConfig()), ids, tok.pad_token_id, 8,
                              torch.device("cpu"))
    same = AnchorTask(ids, teacher, tok.pad_token_id, 8, random.Random(0))
    base_model.net.eval()
    with torch.no_grad():
        assert same.loss(base_model.net, same.next_batch()).item() == pytest.approx(0.0, abs=1e-5)

    student = NewsModel.load("data/models/newsearch-minilm", device="cpu").net
    student.train()
    for m in student.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    task = AnchorTask(ids, teacher, tok.pad_token_id, 8, random.Random(0))
    batch = task.next_batch()
    optimizer = torch.optim.AdamW(student.parameters(), lr=5e-5)
    before = task.loss(student, batch)
    assert before.item() > 0.05  # the release has drifted from its base
    before.backward()
    optimizer.step()
    with torch.no_grad():
        assert task.loss(student, batch).item() < before.item()
