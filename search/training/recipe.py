"""The training recipe: one dataclass, saved next to the checkpoint so a result can be traced to its recipe."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


TASK_NAMES = ("retrieval", "pair", "sts", "tagging", "topic", "anchor")


@dataclass
class Recipe:
    data_dir: str = "../shared/data"  # the real data sets (see that folder's README)
    base: str = ""  # encoder to start from; "" = the packaged MiniLM-L6-H384
    init: str = ""  # a newsearch checkpoint to continue from (encoder and heads); overrides `base`
    seed: int = 13
    max_steps: int = 3000  # optimizer steps over all tasks together
    time_budget_s: float = 0.0  # > 0: also stop (with the learning rate decayed) after this many seconds of
    # training, whichever comes first; the schedule follows the further of the two (search/training/schedule.py)
    limit: int = 0  # cap on examples per data set (0 = all): tiny runs
    squad_paragraphs: int = 0  # cap on SQuAD training paragraphs (0 = all 18,896): the CPU recipe's pool
    lr: float = 5e-5  # encoder learning rate
    head_lr: float = 5e-4  # heads start from scratch and learn faster
    weight_decay: float = 0.01
    head_warmup_steps: int = 0  # first train the new heads on a frozen encoder (LP-FT, Kumar et al. 2022): random
    # heads would otherwise push large, noisy gradients into the pre-trained encoder and distort its embedding
    warmup: float = 0.06  # fraction of steps of linear warm-up, then linear decay to 0
    clip: float = 1.0  # gradient norm clipping
    bf16: bool = True  # bf16 autocast on CUDA, and on CPUs with native bf16 (elsewhere it is ~20x slower)
    # chance of each task per step; steps differ in cost (a retrieval batch holds ~8x the tokens of a tagging one)
    task_weights: dict[str, float] = field(default_factory=lambda: {
        "retrieval": 0.25, "pair": 0.3, "sts": 0.1, "tagging": 0.1, "topic": 0.1, "anchor": 0.15})
    batch: dict[str, int] = field(default_factory=lambda: {
        "retrieval": 32, "pair": 16, "sts": 32, "tagging": 32, "topic": 16, "anchor": 32})
    anchor_texts: int = 6000  # unlabeled texts the anchor task holds near the frozen base's vectors
    anchor_scale: float = 1.0  # multiplies the anchor loss (2 - 2 cos per text) on the steps that draw it
    anchor_passage_share: float = 0.5  # share of the anchor texts that are passages (the rest are queries); long
    # news is where the fine-tuned embedding drifted most from its base (TIME encoder / base 0.907)
    hard_negatives: int = 1  # mined negatives per retrieval query
    first_negatives: str = "bm25"  # or "dense": the starting encoder's own neighbours (seconds on a GPU)
    remine_at: list[float] = field(default_factory=lambda: [0.5])  # re-mine with the model at these fractions
    tagging_words: int = 0  # > 0: tag runs of consecutive CoNLL sentences of one document up to this many words,
    # like the multi-sentence passages tagged at index time (0 = one sentence per example)
    tagging_single_sentences: bool = False  # with tagging_words: also every single sentence, so the tagger keeps
    # short texts (titles, one-line items) while it learns passages
    qa_max_len: int = 256  # window length for (question, context) pairs while training
    qa_stride: int = 96
    passage_max_len: int = 256
    val_fraction_bbc: float = 0.2  # held out of BBC train for validation
    val_fraction_ag: float = 0.3  # held out of AG News dev for validation
    save_every: int = 250  # steps between resumable checkpoints
    log_every: int = 10  # steps between reads of the losses (each read waits for the accelerator)
    num_threads: int = 0  # torch CPU threads (0 = torch's default)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_file(cls, path: str | Path) -> "Recipe":
        data = json.loads(Path(path).read_text())
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown recipe keys {sorted(unknown)} in {path}; known: {sorted(cls.__dataclass_fields__)}")
        recipe = cls(**data)
        recipe.check()
        return recipe

    def check(self) -> None:
        """Fail fast on values that would only break minutes into a run."""
        if self.first_negatives not in ("bm25", "dense"):
            raise ValueError(f"first_negatives must be 'bm25' or 'dense', got {self.first_negatives!r}")
        unknown = set(self.task_weights) - set(TASK_NAMES)
        if unknown:
            raise ValueError(f"unknown tasks {sorted(unknown)} in task_weights; known: {list(TASK_NAMES)}")
        missing = [t for t, w in self.task_weights.items() if w > 0 and t not in self.batch]
        if missing:
            raise ValueError(f"task_weights gives {missing} a weight but `batch` no batch size")
        if not 0.0 <= self.anchor_passage_share <= 1.0:
            raise ValueError(f"anchor_passage_share must be between 0 and 1, got {self.anchor_passage_share}")
        if self.max_steps < 0 or self.time_budget_s < 0:
            raise ValueError("max_steps and time_budget_s must be >= 0")


@dataclass
class ProjectionFit:
    """How `news-search distill` fits the embedding head's projection (search/training/embedding_distillation.py);
    the defaults were chosen by benchmarks/choose_projection.py (docs/experiments.md)."""

    teacher_share: float = 0.6  # weight of the base's vector in the target (1 = pure distillation to the base)
    ridge: float = 100.0  # L2 penalty on the weights, in units of the pooled vectors' squared length
    texts: int = 10000  # unlabeled training texts, half passages and half queries (materials.anchor_texts)
    seed: int = 0

    def check(self) -> None:
        """Raise ValueError naming the first setting out of range."""
        if not 0.0 <= self.teacher_share <= 1.0:
            raise ValueError(f"teacher_share must be between 0 and 1, got {self.teacher_share}")
        if self.ridge < 0:
            raise ValueError(f"ridge must be >= 0, got {self.ridge}")
        if self.texts < 2:
            raise ValueError(f"texts must be >= 2, got {self.texts}")
