"""Turn per-word BIO labels into entity spans with character offsets.

Only the first word piece of each word carries a label (as in training); the word's character span runs
from its first piece's start to its last piece's end. An I- tag that does not continue an entity of the
same type starts a new one, the lenient reading that seqeval also uses by default.
"""
from __future__ import annotations

from search.model.records import EntitySpan


def decode_entities(text: str, labels: list[str], probs: list[float], word_ids: list[int | None],
                    offsets: list[tuple[int, int]]) -> list[EntitySpan]:
    """labels/probs are per token; word_ids/offsets come from the fast tokenizer for the same tokens."""
    words: dict[int, list[int]] = {}
    for tok, wid in enumerate(word_ids):
        if wid is not None:
            words.setdefault(wid, []).append(tok)
    spans: list[EntitySpan] = []
    current: tuple[str, int, int, list[float]] | None = None  # (type, start, end, probs)

    def close() -> None:
        if current is not None:
            kind, start, end, ps = current
            spans.append(EntitySpan(kind, text[start:end], start, end, sum(ps) / len(ps)))

    for wid in sorted(words):
        toks = words[wid]
        label, prob = labels[toks[0]], probs[toks[0]]
        start, end = offsets[toks[0]][0], offsets[toks[-1]][1]
        if label == "O" or "-" not in label:
            close()
            current = None
            continue
        prefix, kind = label.split("-", 1)
        if prefix == "I" and current is not None and current[0] == kind:
            current = (kind, current[1], end, current[3] + [prob])
        else:
            close()
            current = (kind, start, end, [prob])
    close()
    return spans
