"""Turn per-word BIO labels into entity spans with character offsets.

Only the first word piece of each word carries a label (as in training); the word's character span runs
from its first piece's start to its last piece's end. An I- tag that does not continue an entity of the
same type starts a new one, the lenient reading that seqeval also uses by default.

What reaches the facets is filtered: a span is kept only when the tagger's mean probability over its words is at
least `min_score` and its text, trimmed of surrounding punctuation, holds a capital letter or a digit (names in
English news do). A tagger trained on single CoNLL sentences marks many function words of multi-sentence
passages as weak entities (mean probability ~0.2, where real names score 0.5-1.0); the released tagger is
trained on passage-length runs (recipe `tagging_words`), and the filter stays as the guard that keeps "The"
from topping the entity facet whatever checkpoint is loaded. Confident spans of one capitalised function word
("He", "The", "In" at a sentence's start: 2-6 articles each on the bundled sample) are dropped too (`NOT_NAMES`),
and a span loses a first or last lower-case word the tagger ran it on by (`_trimmed`).
"""
from __future__ import annotations

from search.model.records import EntitySpan


# capitalised at a sentence's start, the tagger sometimes marks one of these alone as a name ("He", "The", "In"
# topped facets of the sample): never a name by itself as written here ("US", "WHO", "IT" in capitals stay)
NOT_NAMES = frozenset({"A", "An", "And", "As", "At", "But", "By", "For", "From", "He", "Her", "His", "I", "In", "It",
                       "Its", "Of", "On", "Or", "She", "That", "The", "Their", "There", "These", "They", "This",
                       "Those", "To", "We", "With", "You"})
NAME_PARTICLES = frozenset({"al", "bin", "da", "de", "del", "della", "den", "der", "di", "dos", "du", "el", "ibn",
                            "la", "le", "ter", "van", "von"})  # lower-case words a name may start with ("de Gaulle")


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without leading or trailing punctuation and spaces ("Service (" -> "Service"), nor a first or last
    word with no capital letter or digit when other words remain ("Investigative Committee and" ->
    "Investigative Committee", "the Kremlin" -> "Kremlin"): a name in English news neither starts nor ends with
    a lower-case word, though it may hold one ("Bank of England"), and the tagger sometimes runs a span on by a
    word. A name particle may start one ("van Gogh", `NAME_PARTICLES`); "al-Qaeda" and "eBay" keep theirs (a
    capital inside)."""
    while True:
        while start < end and not text[start].isalnum():
            start += 1
        while end > start and not text[end - 1].isalnum():
            end -= 1
        first, last = text.find(" ", start, end), text.rfind(" ", start, end)
        if first < 0:
            return start, end
        head = text[start:first]
        if not _looks_like_name(head) and head not in NAME_PARTICLES:
            start = first
        elif not _looks_like_name(text[last + 1:end]):
            end = last
        else:
            return start, end


def _looks_like_name(name: str) -> bool:
    return any(c.isupper() or c.isdigit() for c in name)


def decode_entities(text: str, labels: list[str], probs: list[float], word_ids: list[int | None],
                    offsets: list[tuple[int, int]], min_score: float = 0.0) -> list[EntitySpan]:
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
            start, end = _trimmed(text, start, end)
            score = sum(ps) / len(ps)
            if score >= min_score and _looks_like_name(text[start:end]) and text[start:end] not in NOT_NAMES:
                spans.append(EntitySpan(kind, text[start:end], start, end, score))

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
    return _join_split_words(text, spans)


def _join_split_words(text: str, spans: list[EntitySpan]) -> list[EntitySpan]:
    """Join same-type spans separated only by full stops ("U" "." "S" -> "U.S") or by one hyphen with no space
    ("Agence France" "-" "Presse" -> "Agence France-Presse"): the tokenizer splits the dots of abbreviations and
    the hyphens of compound names into words of their own, which the tagger leaves outside the name."""
    joined: list[EntitySpan] = []
    for span in spans:
        last = joined[-1] if joined else None
        gap = text[last.end:span.start] if last else ""
        if last and last.label == span.label and gap and (set(gap) == {"."} or gap == "-"):
            joined[-1] = EntitySpan(span.label, text[last.start:span.end], last.start, span.end,
                                    (last.score + span.score) / 2)
        else:
            joined.append(span)
    return joined
