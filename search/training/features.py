"""Tokenisation for training: SQuAD windows with answer positions, word-piece tag alignment.

Everything goes through the fast tokenizer's offsets and word ids, so answers and entity labels land on the
right word pieces whatever the checkpoint's vocabulary.
"""
from __future__ import annotations

from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

IGNORE = -100  # label value the losses skip


@dataclass
class PairFeature:
    input_ids: list[int]
    token_type_ids: list[int]
    start: int  # answer start token (0 = [CLS] = no answer here; IGNORE = no span target)
    end: int
    relevance: float


def answer_windows(tokenizer: PreTrainedTokenizerBase, question: str, context: str, answer: tuple[str, int] | None,
                   max_len: int, stride: int, relevance: float) -> list[PairFeature]:
    """Split a long context into overlapping windows; each window's target is the answer's tokens or [CLS].

    `answer` is (text, char_start) or None (a negative passage: every window points at [CLS]).
    """
    enc = tokenizer(question, context, truncation="only_second", max_length=max_len, stride=stride,
                    return_overflowing_tokens=True, return_offsets_mapping=True)
    feats = []
    for w in range(len(enc["input_ids"])):
        seq = enc.sequence_ids(w)
        offsets = enc["offset_mapping"][w]
        start = end = 0
        if answer is not None:
            a_start = answer[1]
            a_end = a_start + len(answer[0])
            ctx = [i for i, s in enumerate(seq) if s == 1]
            if ctx and offsets[ctx[0]][0] <= a_start and offsets[ctx[-1]][1] >= a_end:
                start = next(i for i in ctx if offsets[i][1] > a_start)
                end = next(i for i in reversed(ctx) if offsets[i][0] < a_end)
        # a positive window that cuts the answer off is not evidence of relevance: skip it
        if answer is not None and start == 0:
            continue
        feats.append(PairFeature(enc["input_ids"][w], enc["token_type_ids"][w], start, end, relevance))
    return feats


def align_tags(tokenizer: PreTrainedTokenizerBase, words: list[str], tags: list[str], label_index: dict[str, int],
               max_len: int) -> tuple[list[int], list[int]]:
    """Label the first word piece of each word; other pieces and special tokens get IGNORE."""
    enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_len)
    labels, previous = [], None
    for wid in enc.word_ids():
        labels.append(IGNORE if wid is None or wid == previous else label_index[tags[wid]])
        previous = wid
    return enc["input_ids"], labels

