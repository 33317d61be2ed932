"""The retrieval collections the evaluation ranks, which of them choose settings and which only report, and a
disk cache of their evidence (passages embedded, lists retrieved, pairs scored) so that `eval` and `tune` on the
same checkpoint pay for it once.

Choosing: TIME dev, SQuAD validation and two SQuADShifts files. Reporting only: SQuADShifts Reddit, which took
no part in training or in choosing anything (SQuADShifts is not used in training at all).
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
from dataclasses import dataclass
from pathlib import Path

from search.evaluation.evidence import CollectionEvidence, collect_evidence
from search.model.int8 import SMOOTHING_FILE
from search.model.newsmodel import NewsModel
from search.training import data as D
from search.training.materials import SQUAD_VALID, data_path

SHIFTS = {"new_wiki": "qa_extra/squadshifts/new_wiki_v1.0.json",
          "amazon_reviews": "qa_extra/squadshifts/amazon_reviews_v1.0.json",
          "reddit": "qa_extra/squadshifts/reddit_v1.0.json"}
CHOOSING = ("TIME", "SQuAD", "SQuADShifts new_wiki", "SQuADShifts amazon_reviews")
REPORTING = ("SQuADShifts reddit",)
EVIDENCE_VERSION = 3  # part of the cache key: bump when what evidence holds or how it is gathered changes
# part of the pair scores' key: 2 since their files hold one runtime's scores only (older files could mix another
# runtime's scores in under the float32 key)
PAIR_SCORES_VERSION = 2


@dataclass
class CollectionPlan:
    data_dir: str = "../shared/data"
    time: str | None = None  # a TIME-format folder instead of the shared one
    squad: str | None = None  # a SQuAD-format file instead of the validation split
    squad_limit: int = 0  # paragraphs of SQuAD validation (0 = all 1,263)
    shift_paragraphs: int = 1000  # paragraphs drawn from each SQuADShifts file (with their questions)
    candidates: int = 30  # passages per retriever, as search's default
    pair_queries: int = 100  # queries per collection that get the pair pass
    cache: str | None = "runs/evidence"  # folder for cached evidence (None: no cache)


def sample_paragraphs(paragraphs: list[D.Paragraph], n: int, seed: int = 0) -> list[D.Paragraph]:
    """`n` paragraphs drawn at random (fixed seed), kept in file order; all when there are fewer."""
    if not n or len(paragraphs) <= n:
        return paragraphs
    keep = set(random.Random(seed).sample(range(len(paragraphs)), n))
    return [p for i, p in enumerate(paragraphs) if i in keep]


def shift_paragraphs(plan: CollectionPlan, name: str) -> list[D.Paragraph]:
    return sample_paragraphs(D.read_squad(data_path(plan.data_dir, SHIFTS[name])), plan.shift_paragraphs)


def read_collection(plan: CollectionPlan, name: str) -> D.IRCollection:
    """One named collection (see CHOOSING and REPORTING)."""
    if name == "TIME":
        return D.read_time(plan.time or data_path(plan.data_dir, "time_news_ir"))
    if name == "SQuAD":
        paragraphs = D.read_squad(plan.squad or data_path(plan.data_dir, SQUAD_VALID))
        return D.squad_collection(paragraphs[:plan.squad_limit] if plan.squad_limit else paragraphs)
    if name.startswith("SQuADShifts "):
        return D.squad_collection(shift_paragraphs(plan, name.split(" ", 1)[1]))
    raise ValueError(f"unknown collection {name!r}; known: {', '.join(CHOOSING + REPORTING)}")


def pair_pass_id(model: NewsModel) -> str:
    """A short hash of what the pair pass computes with (the encoder and the pair and span heads, and the runtime
    when it is not float32 torch): checkpoints that differ only in the embedding head (`news-search distill`)
    share their pair scores, and `eval --runtime torch-int8` does not read float32's (nor older int8 scales')."""
    digest = hashlib.sha256()
    if model.runtime != "torch":
        digest.update(model.runtime.encode())
    if model.runtime == "torch-int8":  # its scales too: `news-search calibrate` again changes its scores
        digest.update((Path(model.name) / SMOOTHING_FILE).read_bytes())
    for key, tensor in sorted(model.net.state_dict().items()):
        if key.startswith(("encoder.", "pair_head.", "span_head.")):
            digest.update(key.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _key(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:16]


def evidence_for(plan: CollectionPlan, name: str, model: NewsModel, base: NewsModel) -> CollectionEvidence:
    """The collection's evidence, from the cache when the same model, base, data and depths made it before; pair
    scores also from any checkpoint with the same pair pass (`pair_pass_id`)."""
    col = read_collection(plan, name)
    limits = [model.config.max_query_tokens, model.config.max_passage_tokens, model.config.max_pair_tokens]
    data = [sorted(col.docs.items()), sorted(col.queries.items()), sorted((q, sorted(r)) for q, r in col.qrels.items())]
    key = _key(EVIDENCE_VERSION, name, model.model_id, base.model_id, limits, plan.candidates, plan.pair_queries,
               *data)
    stem = name.replace(' ', '_')
    path = Path(plan.cache) / f"{stem}-{key}.pkl" if plan.cache else None
    ev: CollectionEvidence | None = None
    if path is not None and path.exists():
        try:
            ev = pickle.loads(path.read_bytes())
        except Exception:  # a cache file cut short or from other code: gather the evidence again
            ev = None
    if ev is None:
        ev = collect_evidence(name, col, model, base, plan.candidates, pair_queries=plan.pair_queries)
    if path is not None and plan.pair_queries:
        # passage ids follow from the data and the passage split alone, so pair scores keyed by them carry over;
        # they come from the pair pass's own file only (a cache file of older code also held the scores of
        # whichever pair pass saved it last)
        pair_key = _key(EVIDENCE_VERSION, PAIR_SCORES_VERSION, name, pair_pass_id(model), limits, *data)
        ev.pairs_path = path.with_name(f"{stem}-pairs-{pair_key}.pkl")
        ev.pairs = {}
        if ev.pairs_path.exists():
            try:
                ev.pairs = pickle.loads(ev.pairs_path.read_bytes())
            except Exception:  # cut short or from other code: those pairs are scored again
                pass
    ev.scorer = (lambda qs, ps, window: [p.relevance for p in model.score_pair_list(qs, ps, window)]) \
        if plan.pair_queries else None
    ev.cache_path = path
    return ev


def save_evidence(ev: CollectionEvidence) -> None:
    """Write the evidence back to its cache file and the pair scores computed so far to the pair pass's own file,
    atomically."""
    if ev.cache_path is None:
        return
    ev.cache_path.parent.mkdir(parents=True, exist_ok=True)
    # the scorer is a closure over the model, and the pair scores belong to one pair pass (its own file)
    scorer, pairs, ev.scorer, ev.pairs = ev.scorer, ev.pairs, None, {}
    try:
        _write_atomically(ev.cache_path, pickle.dumps(ev))
        if ev.pairs_path is not None:
            _write_atomically(ev.pairs_path, pickle.dumps(pairs))
    finally:
        ev.scorer, ev.pairs = scorer, pairs


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # an eval and a tune may save at the same time
    tmp.write_bytes(data)
    tmp.replace(path)
