"""The model as the product uses it: tokenizer + network, and the only two encoder passes it makes.

`annotate(passages)` runs each passage once and gives its vector, topic distribution and entities;
`score_pairs(query, passages)` runs each (query, passage) pair once and gives its relevance and answer span.
`embed_queries` is the short pass that embeds a query for retrieval.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from transformers import AutoTokenizer, PreTrainedTokenizerBase
from transformers.utils import logging as hf_logging

from search.model.base import default_checkpoint, resolve_base
from search.model.batches import TokenBatch, pad, token_batches
from search.model.bio import token_labels
from search.model.checkpoint import load_checkpoint
from search.model.info import fingerprint
from search.model.config import ModelConfig
from search.model.encoder import MultiTaskEncoder, PairOutput
from search.model.runtime import choose_runtime, pair_pass
from search.model.entities import decode_entities
from search.model.records import PairScore, PassageAnnotation
from search.model.spans import align_to_words, best_spans, paragraph_segments
from search.model.windows import pair_windows


# no "Loading weights" bar from transformers on every command that loads the model: it says nothing a user
# needs, and newsearch's own bars show the work that takes time
hf_logging.disable_progress_bar()

CPU_BATCH = 8  # rows per forward pass on a CPU (see __init__)
CUDA_BATCH = 64


class NewsModel:
    """A loaded model ready for inference (eval mode, no gradients)."""

    def __init__(self, net: MultiTaskEncoder, tokenizer: PreTrainedTokenizerBase, name: str = "",
                 model_id: str = "", device: str | None = None, batch_size: int | None = None,
                 runtime: str = "torch", folder: Path | None = None) -> None:
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if batch_size is None:
            # small batches on a CPU: measured on sample passages (2 threads), batch 8 annotates 19-22 passages/s
            # where 32 gives 15-17, and 20 query-passage pairs score in 1.25 s at batch 10 against 1.52 s at 32
            batch_size = CUDA_BATCH if self.device.type == "cuda" else CPU_BATCH
        self.net = net.to(self.device).eval()
        self.tokenizer = tokenizer
        self.config: ModelConfig = net.config
        self.name = name  # where it was loaded from, for /health and stats
        self.model_id = model_id  # fingerprint of the weights; the index manifest stores it
        self.batch_size = batch_size
        # the pair pass's runtime (search/model/runtime.py): the same weights in float32, bf16 autocast, int8
        # (with the checkpoint `folder`'s smoothing scales) or ONNX Runtime
        self.runtime = choose_runtime(runtime, self.device, folder)
        self.pair_pass: Callable[..., PairOutput] = pair_pass(self.runtime, self.net, folder)

    @classmethod
    def load(cls, path: str | Path | None = None, device: str | None = None, runtime: str = "torch") -> "NewsModel":
        """Load a checkpoint folder (default: the released one under data/models/); `runtime` of the pair pass:
        torch, torch-bf16, torch-int8, onnxruntime, or auto (search/model/runtime.py)."""
        folder = Path(path) if path else default_checkpoint()
        net, tokenizer, _ = load_checkpoint(folder)
        return cls(net, tokenizer, name=str(folder), model_id=fingerprint(folder), device=device, runtime=runtime,
                   folder=folder)

    @classmethod
    def from_base(cls, base: str = "", config: ModelConfig | None = None, device: str | None = None) -> "NewsModel":
        """Any BERT-family encoder (path or name) with freshly initialised heads: for training and baselines."""
        config = config or ModelConfig()
        base_path = resolve_base(base or config.base)
        config.base = base or config.base
        net = MultiTaskEncoder.from_base(base_path, config)
        tokenizer = AutoTokenizer.from_pretrained(base_path)
        return cls(net, tokenizer, name=base_path, model_id="base:" + base_path, device=device)

    # ---- the three passes -------------------------------------------------------------------------------
    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        """(N, H) float32 unit vectors for queries: the short pass made once per search."""
        return self._embed(queries, self.config.max_query_tokens)

    def embed_passages(self, passages: Sequence[str]) -> np.ndarray:
        """Vectors only, for training-time mining and baselines; the product indexes through `annotate`."""
        return self._embed(passages, self.config.max_passage_tokens)

    @torch.inference_mode()
    def _embed(self, texts: Sequence[str], max_len: int) -> np.ndarray:
        enc = self.tokenizer(list(texts), truncation=True, max_length=max_len)
        out = np.zeros((len(enc["input_ids"]), self.dim), np.float32)
        for batch in self._batches(enc):
            out[batch.rows] = self.net.embed(batch.ids, batch.mask).float().cpu().numpy()
        return out

    @torch.inference_mode()
    def annotate(self, passages: Sequence[str]) -> list[PassageAnnotation]:
        """Vector, topics and entities of each passage from one encoder pass (batched, sorted by length)."""
        passages = list(passages)
        enc = self.tokenizer(passages, truncation=True, max_length=self.config.max_passage_tokens,
                             return_offsets_mapping=True)
        results: list[PassageAnnotation | None] = [None] * len(passages)
        labels = self.config.entity_labels
        for batch in self._batches(enc):
            out = self.net.single(batch.ids, batch.mask)
            topic_probs = out.topic_logits.softmax(-1).cpu().numpy()  # (B, topics)
            tag_log_probs = out.tag_logits.float().log_softmax(-1).cpu().numpy()  # (B, T, labels)
            vectors = out.embedding.float().cpu().numpy()  # (B, H)
            for row, i in enumerate(batch.rows):
                tags, tag_probs = token_labels(tag_log_probs[row], enc.word_ids(i), labels)
                entities = decode_entities(passages[i], tags, tag_probs, enc.word_ids(i), enc["offset_mapping"][i],
                                           self.config.min_entity_score)
                topics = {label: float(p) for label, p in zip(self.config.topic_labels, topic_probs[row])}
                results[i] = PassageAnnotation(vector=vectors[row], topics=topics, entities=entities)
        return [r for r in results if r is not None]

    def score_pairs(self, query: str, passages: Sequence[str], window: int = 0) -> list[PairScore]:
        """Relevance and best answer span of each (query, passage) from one encoder pass per batch; with
        `window` > 0 the pass reads only the passage's best `window` word pieces (search/model/windows.py), and
        the answer's offsets are still into the whole passage."""
        passages = list(passages)
        return self.score_pair_list([query] * len(passages), passages, window)

    @torch.inference_mode()
    def score_pair_list(self, queries: Sequence[str], passages: Sequence[str], window: int = 0) -> list[PairScore]:
        """`score_pairs` for many queries at once (evaluation); the same single pass per pair. A query longer than
        `max_query_tokens` word pieces is cut to them, as its embedding pass cuts it (the pair must keep room for
        the passage)."""
        passages = list(passages)
        queries = self._cut(queries, self.config.max_query_tokens)
        spans = pair_windows(self.tokenizer, queries, passages, window)
        read = [p[a:b] for p, (a, b) in zip(passages, spans)]
        enc = self.tokenizer(list(queries), read, truncation="only_second", max_length=self.config.max_pair_tokens,
                             return_offsets_mapping=True)
        results: list[PairScore | None] = [None] * len(enc["input_ids"])
        for batch in self._batches(enc):
            out = self.pair_pass(batch.ids, batch.mask, batch.types)
            segments = pad([paragraph_segments(read[k], enc["offset_mapping"][k], enc.sequence_ids(k))
                            for k in batch.rows], -1).to(self.device)  # (B, T): paragraph, -1 off the passage
            passage_mask = segments >= 0
            choice = best_spans(out.start_logits, out.end_logits, segments, self.config.max_answer_tokens)
            for row, k in enumerate(batch.rows):
                # the best span is returned even when [CLS] wins: the snippet is still the passage's most
                # answer-like text, and `answer_score` / `answer_confidence` say how sure the head is
                i, j = int(choice.best_start[row]), int(choice.best_end[row])
                offsets, shift = enc["offset_mapping"][k], spans[k][0]  # window offsets -> passage offsets
                start, end = None, None
                if passage_mask[row, i]:
                    start, end = align_to_words(passages[k], shift + int(offsets[i][0]), shift + int(offsets[j][1]))
                results[k] = PairScore(relevance=float(out.relevance[row]), answer_start=start,
                                       answer_end=end, answer_score=float(choice.margin[row]))
        return [r for r in results if r is not None]

    def _cut(self, texts: Sequence[str], max_tokens: int) -> list[str]:
        """Each text cut after its first `max_tokens` word pieces (at a piece's end, so no word is split)."""
        distinct = list(dict.fromkeys(texts))
        offsets = self.tokenizer(distinct, add_special_tokens=False, return_offsets_mapping=True,
                                 verbose=False)["offset_mapping"]
        cut = {t: t if len(o) <= max_tokens else t[:o[max_tokens - 1][1]] for t, o in zip(distinct, offsets)}
        return [cut[t] for t in texts]

    def _batches(self, enc) -> Iterator[TokenBatch]:
        return token_batches(enc, self.batch_size, self.tokenizer.pad_token_id, self.device)

    @property
    def dim(self) -> int:
        return int(self.net.encoder.config.hidden_size)
