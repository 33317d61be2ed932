"""Fit the embedding head's projection so that a fine-tuned encoder's vectors return towards its base's, without
moving the encoder the other heads read.

Multi-task fine-tuning wore away part of what the base encoder's contrastive pre-training gave its embedding
(encoder-alone nDCG@10 on TIME 0.907x the base's), and pulling the whole encoder back costs the span and tagging
heads more than a point (the anchor task, docs/experiments.md). Here the encoder and the other four heads stay
exactly as they are: only a linear map between mean pooling and the norm (EmbeddingHead.projection) is fitted,
by ridge regression, so that on unlabeled training texts

    projection(mean_pool(ours)) ~ unit(teacher_share * base_vector + (1 - teacher_share) * our_vector)

— embedding distillation (Reimers & Gurevych 2020) towards the base, with a share of the model's own vector
kept in the target so that what fine-tuning taught it (SQuAD questions, headlines) stays ("learning without
forgetting", Li & Hoiem 2016). Least squares has a closed form, so the fit takes a second once the texts are
encoded (one pass of each encoder); the penalty leaves the bias free.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from search.model.heads import mean_pool
from search.model.newsmodel import NewsModel
from search.training.materials import anchor_texts, load_training, retrieval_pool
from search.training.recipe import ProjectionFit, Recipe


def distillation_texts(data_dir: str, fit: ProjectionFit) -> list[str]:
    """`fit.texts` unlabeled texts of the training splits every recipe uses (validation texts stay out): half
    SQuAD paragraphs and BBC / AG News bodies, half questions and headlines (`materials.anchor_texts`)."""
    r = Recipe()
    material = load_training(data_dir, 0, r.val_fraction_bbc, r.val_fraction_ag, squad_paragraphs=2500)
    return anchor_texts(retrieval_pool(material.squad, material.topics), fit.texts, fit.seed)


@torch.inference_mode()
def pooled_vectors(model: NewsModel, texts: Sequence[str], desc: str = "", max_len: int = 0) -> np.ndarray:
    """(N, H) float32 mean-pooled last hidden states (before the projection and the norm) of `texts`, each cut
    at `max_len` word pieces (0: the model's passage limit), with a progress bar."""
    enc = model.tokenizer(list(texts), truncation=True, max_length=max_len or model.config.max_passage_tokens)
    out = np.zeros((len(texts), model.dim), np.float32)
    batches = list(model._batches(enc))
    for batch in tqdm(batches, desc=desc or "encoding", unit="batch", leave=False):
        hidden = model.net.hidden_states(batch.ids, batch.mask).float()  # (B, T, H)
        out[batch.rows] = mean_pool(hidden, batch.mask).cpu().numpy()
    return out


def unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1: (N, H) -> (N, H)."""
    return x / np.linalg.norm(x, axis=-1, keepdims=True).clip(1e-12)


def distillation_targets(base_vectors: np.ndarray, own_vectors: np.ndarray, teacher_share: float) -> np.ndarray:
    """(N, H) unit targets: the normalised blend of the base's and the model's own unit vectors."""
    return unit(teacher_share * unit(base_vectors) + (1.0 - teacher_share) * unit(own_vectors))


def fit_projection(pooled: np.ndarray, targets: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression with a free bias: weight (H_out, H_in) and bias (H_out,) minimising
    ||pooled @ weight.T + bias - targets||^2 + ridge * ||weight||^2 (solved in float64 on centred data).
    Raises ValueError when the shapes disagree or there are fewer than two rows."""
    if pooled.ndim != 2 or targets.ndim != 2 or len(pooled) != len(targets) or len(pooled) < 2:
        raise ValueError(f"need (N, H) inputs and targets with N >= 2, got {pooled.shape} and {targets.shape}")
    x, y = pooled.astype(np.float64), targets.astype(np.float64)
    x_mean, y_mean = x.mean(0), y.mean(0)
    xc, yc = x - x_mean, y - y_mean
    gram = xc.T @ xc + ridge * np.eye(x.shape[1])
    weight = np.linalg.solve(gram, xc.T @ yc).T  # (H_out, H_in)
    bias = y_mean - weight @ x_mean
    return weight.astype(np.float32), bias.astype(np.float32)


def distill_embedding(model: NewsModel, base: NewsModel, texts: Sequence[str], fit: ProjectionFit) -> dict:
    """Give `model` an embedding projection fitted on `texts` (in place) and return what the fit measured:
    mean cosine to the base's vectors before (with the head the model had) and after, over the same texts.

    The target's own share is always the encoder's plain mean-pooled vector, never a projection fitted before,
    so fitting a distilled checkpoint again with the same settings gives the same projection (the encoder is
    unchanged) instead of pulling it further towards the base."""
    fit.check()
    pooled = pooled_vectors(model, texts, "newsearch encoder")
    head = model.net.embedding_head
    current = pooled
    if head.projection is not None:
        with torch.no_grad():
            current = head.projection(torch.from_numpy(pooled).to(model.device)).cpu().numpy()
    teacher = unit(pooled_vectors(base, texts, "base encoder"))  # the base's head: mean pooling + norm
    weight, bias = fit_projection(pooled, distillation_targets(teacher, unit(pooled), fit.teacher_share), fit.ridge)
    if head.projection is None:
        head.projection = torch.nn.Linear(model.dim, model.dim).to(model.device)
    with torch.no_grad():
        head.projection.weight.copy_(torch.from_numpy(weight))
        head.projection.bias.copy_(torch.from_numpy(bias))
    model.config.embedding_projection = True
    after = unit(pooled @ weight.T + bias)
    return {"texts": len(texts), "cosine_to_base_before": float(np.mean(np.sum(unit(current) * teacher, -1))),
            "cosine_to_base_after": float(np.mean(np.sum(after * teacher, -1)))}
