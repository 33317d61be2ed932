"""Topic accuracy and macro-F1 per data set, the argmax taken over that data set's own labels."""
from __future__ import annotations

import torch
from sklearn.metrics import accuracy_score, f1_score

from search.model.newsmodel import NewsModel
from search.training.data import LabelledText


@torch.inference_mode()
def evaluate_topics(model: NewsModel, texts: list[LabelledText]) -> dict[str, dict[str, float]]:
    labels = model.config.topic_labels
    results: dict[str, dict[str, float]] = {}
    for source in sorted({t.source for t in texts}):
        subset = [t for t in texts if t.source == source]
        allowed = torch.tensor([label in model.config.topic_groups.get(source, labels) for label in labels])
        preds = []
        for i in range(0, len(subset), model.batch_size):
            batch = subset[i:i + model.batch_size]
            enc = model.tokenizer([f"{t.title}\n{t.body}" for t in batch], truncation=True,
                                  max_length=model.config.max_passage_tokens, padding=True, return_tensors="pt")
            logits = model.net.single(enc["input_ids"].to(model.device),
                                      enc["attention_mask"].to(model.device)).topic_logits.cpu()
            preds += [labels[i] for i in logits.masked_fill(~allowed, -1e4).argmax(-1).tolist()]
        gold = [t.label for t in subset]
        results[source] = {"accuracy": accuracy_score(gold, preds), "macro_f1": f1_score(gold, preds, average="macro"),
                           "texts": len(subset)}
    return results
