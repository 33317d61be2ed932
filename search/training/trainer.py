"""The multi-task training loop: task-sampled mini-batches, AdamW, warm-up + linear decay, clipping,
bf16 autocast, hard negatives re-mined with the model itself, resumable checkpoints and a progress bar."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from search.model.checkpoint import save_checkpoint
from search.model.config import ModelConfig
from search.model.newsmodel import NewsModel
from search.model.runtime import bf16_supported
from search.training.data import join_sentences
from search.model.base import resolve_base
from search.model.encoder import MultiTaskEncoder
from search.training.materials import anchor_texts, load_training, retrieval_pool, topic_labels
from search.training.negatives import mine_bm25, mine_dense
from search.training.prefetch import Prefetcher
from search.training.recipe import Recipe
from search.training.schedule import Progress, lr_factor
from search.training.tasks import (AnchorTask, PairTask, RetrievalTask, StsTask, TaggingTask, TopicTask,
                                   teacher_vectors)

STATE_FILE = "state.pt"
TEACHER_FILE = "anchor_teacher.pt"  # the base's vectors of the anchor texts, kept for --resume


@dataclass
class TrainReport:
    steps: int
    seconds: float
    tokens: int
    last_loss: dict[str, float] = field(default_factory=dict)
    checkpoint: str = ""

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / max(self.seconds, 1e-9)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _param_groups(model: NewsModel, recipe: Recipe) -> list[dict]:
    """Encoder and heads at their own learning rates; no weight decay on biases and LayerNorm."""
    groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
    for name, p in model.net.named_parameters():
        key = (name.startswith("encoder."), p.ndim < 2)
        groups.setdefault(key, []).append(p)
    return [{"params": ps, "lr": 0.0, "base_lr": recipe.lr if is_enc else recipe.head_lr, "encoder": is_enc,
             "weight_decay": 0.0 if no_decay else recipe.weight_decay}
            for (is_enc, no_decay), ps in groups.items()]


def _set_learning_rates(optimizer: torch.optim.Optimizer, progress: float, encoder_start: float,
                        recipe: Recipe) -> None:
    """Heads warm up from the first step; the encoder's warm-up starts after the heads-only phase."""
    for group in optimizer.param_groups:
        start = encoder_start if group["encoder"] else 0.0
        group["lr"] = group["base_lr"] * lr_factor(progress, start, recipe.warmup)


class Trainer:
    """Train one encoder on all tasks together; `run()` returns a report and leaves a checkpoint in `out_dir`."""

    def __init__(self, recipe: Recipe, out_dir: str | Path, resume: bool = False) -> None:
        recipe.check()
        self.recipe, self.out = recipe, Path(out_dir)
        self.resume = resume
        self.out.mkdir(parents=True, exist_ok=True)
        if recipe.num_threads:
            torch.set_num_threads(recipe.num_threads)
        seed_everything(recipe.seed)
        labels, groups = topic_labels(recipe.data_dir)
        self.model = self._start_model(recipe, labels, groups)
        self.device = self.model.device
        self.material = load_training(recipe.data_dir, recipe.limit, recipe.val_fraction_bbc, recipe.val_fraction_ag,
                                      recipe.squad_paragraphs)
        self.pool = retrieval_pool(self.material.squad, self.material.topics)

    @staticmethod
    def _start_model(recipe: Recipe, labels: list[str], groups: dict[str, list[str]]) -> NewsModel:
        """Fresh heads on the base encoder, or (recipe.init) a whole newsearch checkpoint to train further."""
        if not recipe.init:
            config = ModelConfig(base=recipe.base, topic_labels=labels, topic_groups=groups,
                                 max_passage_tokens=recipe.passage_max_len)
            return NewsModel.from_base(recipe.base, config)
        model = NewsModel.load(recipe.init)
        if model.config.topic_labels != labels:
            raise ValueError(f"{recipe.init} was trained on topics {model.config.topic_labels}, the data now has "
                             f"{labels}: start from the base model instead (drop `init`)")
        return model

    def _tasks(self, rng: random.Random) -> dict[str, object]:
        r, tok, m = self.recipe, self.model.tokenizer, self.material
        anchor = {"anchor": self._anchor_task(rng)} if r.task_weights.get("anchor", 0) > 0 else {}
        return {
            "retrieval": RetrievalTask(self.pool, tok, r.batch["retrieval"], r.passage_max_len, rng),
            "pair": PairTask(self.pool, tok, r.batch["pair"], r.qa_max_len, r.qa_stride, rng),
            "sts": StsTask(m.sts, tok, r.batch["sts"], 128, rng),
            "tagging": self._tagging_task(rng),
            "topic": TopicTask(m.topics, self.model.config.topic_labels, self.model.config.topic_groups, tok,
                               r.batch["topic"], r.passage_max_len, rng),
        } | anchor  # last, so recipes without it draw their tasks as before

    def _tagging_task(self, rng: random.Random) -> TaggingTask:
        """Single CoNLL sentences (up to 128 tokens), or with `tagging_words` runs of one document's sentences
        as long as a passage, like the multi-sentence passages tagged at index time (and with
        `tagging_single_sentences` the single sentences as well)."""
        r = self.recipe
        sentences, max_len = self.material.conll, 128
        if r.tagging_words:
            runs = join_sentences(sentences, r.tagging_words)
            sentences, max_len = runs + sentences if r.tagging_single_sentences else runs, r.passage_max_len
        return TaggingTask(sentences, self.model.config.entity_labels, self.model.tokenizer, r.batch["tagging"],
                           max_len, rng)

    def _anchor_task(self, rng: random.Random) -> AnchorTask:
        """Unlabeled passages and queries with the vectors the untouched base encoder (the one this model was
        trained from) gives them; computed once per run folder and reused on --resume."""
        r, tok = self.recipe, self.model.tokenizer
        texts = anchor_texts(self.pool, r.anchor_texts, r.seed, r.anchor_passage_share)
        ids = tok(texts, truncation=True, max_length=r.passage_max_len)["input_ids"]
        cache = self.out / TEACHER_FILE
        saved = torch.load(cache, weights_only=True) if cache.exists() else None
        if saved is not None and saved["ids"] == ids:
            teacher = saved["vectors"]
        else:
            base = MultiTaskEncoder.from_base(resolve_base(self.model.config.base), ModelConfig())
            teacher = teacher_vectors(base, ids, tok.pad_token_id, 32, self.device)
            torch.save({"ids": ids, "vectors": teacher}, cache)
        return AnchorTask(ids, teacher, tok.pad_token_id, r.batch["anchor"], rng, r.anchor_scale)

    @torch.no_grad()
    def remine(self) -> None:
        """Replace the hard negatives with the current model's nearest non-positive passages."""
        self.model.net.eval()
        corpus = self.pool.corpus
        vectors = torch.from_numpy(self.model.embed_passages(corpus))
        mine_dense(self.pool.examples, vectors.to(self.device),
                   lambda qs: torch.from_numpy(self.model.embed_queries(qs)).to(self.device),
                   corpus, self.pool.groups, self.recipe.hard_negatives, skip=2)
        self.model.net.train()

    def _freeze_encoder(self, frozen: bool) -> None:
        """Heads-only steps first (no encoder gradients at all), then every parameter trains."""
        for p in self.model.net.encoder.parameters():
            p.requires_grad_(not frozen)

    def _save_state(self, step: int, optimizer, progress: Progress, encoder_start: float) -> None:
        tmp = self.out / (STATE_FILE + ".tmp")
        torch.save({"step": step, "net": self.model.net.state_dict(), "optimizer": optimizer.state_dict(),
                    "elapsed_s": progress.elapsed(), "encoder_start": encoder_start,
                    "negatives": [ex.negatives for ex in self.pool.examples]}, tmp)
        tmp.replace(self.out / STATE_FILE)
        save_checkpoint(self.out / "checkpoint", self.model.net, self.model.tokenizer, self.recipe.to_dict())

    def _restore(self, optimizer: torch.optim.Optimizer) -> tuple[int, float, float]:
        """(step, seconds spent, encoder start) of the saved state when resuming; a fresh start otherwise,
        which mines the first hard negatives."""
        state_path = self.out / STATE_FILE
        if not (self.resume and state_path.exists()):
            self._mine_first()
            return 0, 0.0, self.recipe.head_warmup_steps / max(1, self.recipe.max_steps)
        state = torch.load(state_path, map_location=self.device, weights_only=False)
        self.model.net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        for ex, negs in zip(self.pool.examples, state["negatives"]):
            ex.negatives = negs
        return state["step"], state["elapsed_s"], state["encoder_start"]

    def _mine_first(self) -> None:
        """The first hard negatives: BM25 (default), or the starting encoder's own neighbours ("dense"), which
        a GPU computes in seconds where BM25 over the full pool takes a minute of one CPU core."""
        if self.recipe.first_negatives == "dense":
            self.remine()
        else:
            mine_bm25(self.pool.examples, self.pool.corpus, self.pool.groups, self.recipe.hard_negatives)

    def _producer(self, tasks: dict[str, object], rng: random.Random) -> Callable[[int], tuple]:
        """step -> (task name, batch on the CPU, real tokens in it); runs on the prefetch thread."""
        r = self.recipe
        names = [n for n in tasks if r.task_weights.get(n, 0) > 0]
        pin = self.device.type == "cuda"

        def produce(step: int) -> tuple[str, dict[str, torch.Tensor], int]:
            # the embedding head has no parameters: nothing to learn for retrieval while the encoder is frozen
            frozen = step < r.head_warmup_steps
            name = rng.choices(names, [0.0 if frozen and n == "retrieval" else r.task_weights[n] for n in names])[0]
            batch = tasks[name].next_batch()
            tokens = int(sum(v.sum() for k, v in batch.items() if k.endswith("mask")))
            if pin:
                batch = {k: v.pin_memory() for k, v in batch.items()}
            return name, batch, tokens
        return produce

    def run(self) -> TrainReport:
        r = self.recipe
        net = self.model.net
        cuda = self.device.type == "cuda"
        if cuda:
            torch.backends.cuda.matmul.allow_tf32 = True
        optimizer = torch.optim.AdamW(_param_groups(self.model, r), fused=cuda)
        start, elapsed_before, encoder_start = self._restore(optimizer)
        progress = Progress(r.max_steps, r.time_budget_s, elapsed_before)
        rng = random.Random(r.seed + start)
        tasks = self._tasks(rng)
        prefetch = Prefetcher(self._producer(tasks, rng), start)
        remines = sorted(f for f in r.remine_at if f > progress.fraction(start))
        report = TrainReport(steps=start, seconds=0.0, tokens=0)
        smooth: dict[str, float] = {}
        pending: list[tuple[str, torch.Tensor]] = []  # losses still on the device: read in groups, one sync each
        net.train()
        use_bf16 = r.bf16 and bf16_supported(self.device)
        bar = tqdm(range(start, r.max_steps), initial=start, total=r.max_steps, desc="train", dynamic_ncols=True)
        self._freeze_encoder(start < r.head_warmup_steps)
        try:
            for step in bar:
                done = progress.fraction(step)
                if done >= 1.0:
                    break
                if step == r.head_warmup_steps:
                    self._freeze_encoder(False)
                    encoder_start = done
                if remines and done >= remines[0]:
                    remines.pop(0)
                    self.remine()
                name, batch, tokens = prefetch.next()
                batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
                _set_learning_rates(optimizer, progress.fraction(step + 1), encoder_start, r)
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    loss = tasks[name].loss(net, batch)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), r.clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                report.tokens += tokens
                report.steps = step + 1
                pending.append((name, loss.detach()))
                if len(pending) >= r.log_every:  # the rest are read after the loop
                    self._smooth(pending, smooth)
                    # with a time budget the step total is only a cap: the share of the schedule done is the ETA
                    bar.set_postfix({k[:4]: f"{v:.3f}" for k, v in smooth.items()} | {"done": f"{done:.0%}"})
                if report.steps % r.save_every == 0 and report.steps < r.max_steps:
                    self._save_state(report.steps, optimizer, progress, encoder_start)
        finally:
            prefetch.close()
        self._smooth(pending, smooth)
        self._save_state(report.steps, optimizer, progress, encoder_start)
        report.seconds = progress.elapsed() - elapsed_before
        report.last_loss = smooth
        report.checkpoint = str(self.out / "checkpoint")
        (self.out / "train_report.json").write_text(json.dumps(report.__dict__, indent=2))
        return report

    @staticmethod
    def _smooth(pending: list[tuple[str, torch.Tensor]], smooth: dict[str, float]) -> None:
        """Exponential moving average of each task's loss, updated from the losses not read yet."""
        if not pending:
            return
        values = torch.stack([loss.float() for _, loss in pending]).tolist()
        for (name, _), value in zip(pending, values):
            smooth[name] = 0.9 * smooth.get(name, value) + 0.1 * value
        pending.clear()
