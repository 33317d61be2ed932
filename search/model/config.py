"""The model's configuration: which encoder, which label sets, which input limits."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

# the pair pass's runtimes (search/model/runtime.py); auto: torch-bf16 on a CPU with native bf16, else torch-int8
# where the checkpoint has its smoothing scales, else torch
RUNTIMES = ("auto", "torch", "torch-bf16", "torch-int8", "onnxruntime")

# CoNLL-2003 entity types in BIO form; the order fixes the tagging head's output index.
CONLL_LABELS: list[str] = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


@dataclass
class RankingSettings:
    """How search turns the model's scores into one order: the model's own settings, chosen on validation data by
    `news-search tune` with one rule across collections and stored in the checkpoint's newsearch.json.

    Stages (search/pipeline): each retriever's top `candidates` -> `fusion` (weight `alpha` on the dense list) ->
    of the first `rerank_depth` fused passages, those within `rerank_margin` of the first one's fused score and
    that an article's score counts (`read_per_article`) go through the pair pass, each read through a window of
    at most `pair_window` word pieces on its best-matching sentences (search/model/windows.py; 0 = the whole
    passage), and get relevance = `rerank_weight` * pair score + (1 - rerank_weight) * fused score (both 0..1;
    the rest stay below them, passage by passage, in fused order) -> an article scores (best +
    `second_passage_weight` * second best) / (1 + `second_passage_weight`) of its passages.
    """

    fusion: str = "convex"  # convex | dbsf | rrf (search/pipeline/fusion.py)
    alpha: float = 0.5  # weight of the dense list in convex / dbsf fusion
    candidates: int = 30  # passages each retriever contributes and fusion keeps
    rerank_depth: int = 20  # fused passages the pair pass considers (rerank score and answer)
    rerank_weight: float = 0.5  # share of the pair score in a reranked passage's relevance
    second_passage_weight: float = 0.0  # share of an article's second-best passage in its score
    pair_window: int = 0  # word pieces of each passage the pair pass reads (0 = all): its cost is about linear in it
    # the pair pass reads a candidate only if its fused score is at most this far below the first candidate's
    # (fused scores lie on 0..1, so 1.0 reads every candidate down to rerank_depth): an adaptive rerank depth
    rerank_margin: float = 1.0

    @property
    def read_per_article(self) -> int:
        """Passages of one article the pair pass reads among the first `rerank_depth`: those the article's score
        counts — its best (MaxP) or, with a second-passage share, its best two (search/pipeline/rerank.py)."""
        return 2 if self.second_passage_weight > 0 else 1

    def overridden(self, **values: object) -> "RankingSettings":
        """These settings with each of `values` that is not None in place (a request's or a server's overrides;
        None keeps this setting). Raises TypeError on a name that is no setting."""
        return replace(self, **{name: value for name, value in values.items() if value is not None})

    def check(self) -> None:
        """Raise ValueError naming the first setting out of range."""
        if self.fusion not in ("convex", "dbsf", "rrf"):
            raise ValueError(f"fusion must be convex, dbsf or rrf, got {self.fusion!r}")
        for name in ("alpha", "rerank_weight", "second_passage_weight", "rerank_margin"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if self.candidates < 1 or not 0 <= self.rerank_depth:
            raise ValueError("candidates must be >= 1 and rerank_depth >= 0")
        if self.pair_window < 0:
            raise ValueError(f"pair_window must be >= 0 word pieces (0 = whole passages), got {self.pair_window}")


@dataclass
class ModelConfig:
    """Everything needed to rebuild the heads and to run them the way they were trained."""

    base: str = ""  # path or hub-style name of the BERT-family encoder ("" = the packaged MiniLM)
    topic_labels: list[str] = field(default_factory=list)  # union of topic labels over all topic datasets
    topic_groups: dict[str, list[str]] = field(default_factory=dict)  # dataset -> its own label subset
    entity_labels: list[str] = field(default_factory=lambda: list(CONLL_LABELS))
    embedding_projection: bool = False  # a linear layer between mean pooling and the norm (EmbeddingHead)
    head_hidden: int = 384  # width of the MLP heads (classification, pair regression)
    dropout: float = 0.1  # dropout inside the heads while training
    max_query_tokens: int = 64  # queries are short; longer ones are truncated
    max_passage_tokens: int = 256  # one indexed passage, [CLS] and [SEP] included
    max_pair_tokens: int = 384  # [CLS] query [SEP] passage [SEP]
    max_answer_tokens: int = 30  # length cap of an answer span, in word pieces
    min_entity_score: float = 0.5  # entities whose words the tagger is less sure of stay out of the facets
    min_answer_confidence: float = 0.5  # answers below this are not shown (0.5: the span beats "no answer");
    # `news-search tune` chooses it on SQuAD validation (search/evaluation/answers.py)
    min_topic_confidence: float = 0.0  # below this an article's (or passage's) topic is "other"; chosen by
    # `news-search tune` on held-out BBC / AG News (search/evaluation/topic_floor.py)
    min_relevance: float = 0.0  # a result whose best passage's pair score is below this is a weak match; a query
    # whose judged results all are has "no good match" (search/pipeline/weak.py); chosen by `news-search tune`
    ranking: RankingSettings = field(default_factory=RankingSettings)  # a checkpoint without them gets these

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        ranking = RankingSettings(**{k: v for k, v in known.pop("ranking", {}).items()
                                     if k in RankingSettings.__dataclass_fields__})
        ranking.check()
        config = cls(**known, ranking=ranking)
        for name in ("min_answer_confidence", "min_relevance", "min_topic_confidence"):
            if not 0.0 <= getattr(config, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(config, name)}")
        return config
