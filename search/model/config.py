"""The model's configuration: which encoder, which label sets, which input limits."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# CoNLL-2003 entity types in BIO form; the order fixes the tagging head's output index.
CONLL_LABELS: list[str] = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


@dataclass
class ModelConfig:
    """Everything needed to rebuild the heads and to run them the way they were trained."""

    base: str = ""  # path or hub-style name of the BERT-family encoder ("" = the packaged MiniLM)
    topic_labels: list[str] = field(default_factory=list)  # union of topic labels over all topic datasets
    topic_groups: dict[str, list[str]] = field(default_factory=dict)  # dataset -> its own label subset
    entity_labels: list[str] = field(default_factory=lambda: list(CONLL_LABELS))
    head_hidden: int = 384  # width of the MLP heads (classification, pair regression)
    dropout: float = 0.1  # dropout inside the heads while training
    max_query_tokens: int = 64  # queries are short; longer ones are truncated
    max_passage_tokens: int = 256  # one indexed passage, [CLS] and [SEP] included
    max_pair_tokens: int = 384  # [CLS] query [SEP] passage [SEP]
    max_answer_tokens: int = 30  # length cap of an answer span, in word pieces
    min_entity_score: float = 0.5  # entities whose words the tagger is less sure of stay out of the facets

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)
