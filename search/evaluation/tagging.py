"""Entity-level F1 of the tagging head on CoNLL-format data, scored by seqeval."""
from __future__ import annotations

import torch
from seqeval.metrics import f1_score, precision_score, recall_score

from search.model.bio import decode_word_labels
from search.model.newsmodel import NewsModel
from search.training.data import TaggedSentence, join_sentences

PASSAGE_WORDS = 150  # about one indexed passage (256 word-pieces): the text the tagger meets in the product


@torch.inference_mode()
def predict_tags(model: NewsModel, sentences: list[TaggedSentence], max_len: int = 256) -> list[list[str]]:
    """One label per word, read at the word's first piece and decoded under the BIO rules (search/model/bio.py);
    words cut off by truncation get "O"."""
    labels = model.config.entity_labels
    out: list[list[str]] = []
    for i in range(0, len(sentences), model.batch_size):
        batch = sentences[i:i + model.batch_size]
        enc = model.tokenizer([s.words for s in batch], is_split_into_words=True, truncation=True,
                              max_length=max_len, padding=True, return_tensors="pt")
        logits = model.net.single(enc["input_ids"].to(model.device), enc["attention_mask"].to(model.device)).tag_logits
        log_probs = logits.float().log_softmax(-1).cpu().numpy()  # (B, T, labels)
        for row, sent in enumerate(batch):
            tags = ["O"] * len(sent.words)
            for wid, label in decode_word_labels(log_probs[row], enc.word_ids(row), labels).items():
                tags[wid] = labels[label]
            out.append(tags)
    return out


def evaluate_tagging(model: NewsModel, sentences: list[TaggedSentence]) -> dict[str, float]:
    """Entity F1 on single sentences (the CoNLL convention) and on runs of one document's consecutive
    sentences as long as a passage, which is how indexing feeds the tagger; a gap between the two means the
    tagger has only learned the one-sentence shape."""
    gold = [s.tags for s in sentences]
    pred = predict_tags(model, sentences)
    runs = join_sentences(sentences, PASSAGE_WORDS)
    run_pred = predict_tags(model, runs)
    return {"f1": f1_score(gold, pred), "precision": precision_score(gold, pred), "recall": recall_score(gold, pred),
            "sentences": len(sentences), "passage_f1": f1_score([r.tags for r in runs], run_pred),
            "passages": len(runs)}
