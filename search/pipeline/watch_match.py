"""Matching new articles against the saved watches, at index time, from what indexing already computed: the
passages' stored vectors and their FTS5 rows, and each watch's query vector saved with it. No encoder pass.

`news-index add` journals the articles it writes in the same commit (`watch_pending`); `WatchMatcher.match_pending`
then scores every journaled passage against every watch, records the matches and clears the journal in one
transaction — after each batch, and once more when a run ends (for a journal a crash left). A crash between the two
commits leaves the journal to the next run; a match is recorded once per (watch, article), however often the
article is indexed again.

The score of a passage for a watch is search's convex fusion (search/pipeline/fusion.py) with the model's `alpha`,
on absolute scores instead of per-list min-max ones (a batch of new articles is no ranked list: its best passage
would score 1 for any query, and a watch must say "nothing here" as well):

    score = alpha * dense + (1 - alpha) * lexical
    dense   = the cosine of the watch's vector and the passage's vector, clipped to 0..1
    lexical = the share of the query the passage holds: the inverse document frequencies (FTS5's BM25 idf) of
              the query's words, phrases and title words found in it, over those of all of them

An article matches when one of its passages (1) is allowed by the watch's filters (those given and those of the
query's syntax, excluded words included: search/store/filters.py), (2) has lexical support — it matches the
query's FTS5 expression, the one the lexical retriever runs (phrases and `title:` words required) — since a query
with no word in an article has no good match there, as search decides (search/pipeline/weak.py): the dense side
alone always finds a nearest vector; and (3) scores at least the watch's `min_score` (default 0.6). The pair head's
`min_relevance`, search's floor, needs a pair pass per article, which matching does not make.

Why 0.6 (the released model, alpha 0.2): 18 watch queries against 40 Wikinews articles indexed after 120 others
put every on-topic article at 0.82–0.94 when it held all the query's words, and the off-topic ones that shared a
word or two at 0.29–0.61 — it takes most of a query's weighted words (two thirds, at a typical cosine of 0.5) in
one passage, as Elasticsearch's `minimum_should_match` asks for a share of the words. A watch that wants more or
fewer articles sets its own `min_score`.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Callable

import numpy as np

from search.pipeline.syntax import merged_filters, parse_query
from search.store import Store
from search.store.watches import PendingPassages, Watch


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class WatchMatcher:
    """Matches journaled articles for one indexing run; keeps the words' document counts for the run."""

    def __init__(self, store: Store, alpha: float, model_id: str,
                 clock: Callable[[], datetime] = utc_now) -> None:
        """`alpha`: the dense weight of the model's ranking settings; `model_id`: the model the store's vectors
        come from (a watch encoded by another one is skipped until `news-index rebuild` encodes it again)."""
        self.store = store
        self.alpha = alpha
        self.model_id = model_id
        self.clock = clock
        self._documents: int | None = None  # passages in the store when the run first matched
        self._counts: dict[str, int] = {}  # FTS5 expression -> passages holding it

    def match_pending(self) -> int:
        """Match every journaled article against every watch, record the matches and clear the journal, in one
        commit; returns the number of matches recorded that were not recorded before."""
        with self.store.matching():
            pending = self.store.pending_passages()
            if not pending.articles:
                return 0
            rows: list[tuple[int, str, float]] = []
            for watch, vector in self.store.watch_vectors():
                if watch.model_id == self.model_id and len(pending.ids):
                    rows += [(watch.id, article, score) for article, score in self.scores(watch, vector, pending)]
            new = self.store.record_matches(rows, self.clock().isoformat(timespec="seconds"))
            self.store.clear_pending(pending.articles)
        return new

    def scores(self, watch: Watch, vector: np.ndarray, pending: PendingPassages) -> list[tuple[str, float]]:
        """(article id, its best passage's score) of the pending articles that match `watch`."""
        parsed = parse_query(watch.query)
        match = parsed.fts_match()
        allowed = self.store.allowed_among(pending.ids, merged_filters(watch.filters, parsed))
        supported = np.array(sorted(self.store.lexical_among(match, allowed)), np.int64) if match else allowed[:0]
        if not len(supported):
            return []
        weights = {unit: self._idf(unit) for unit in parsed.fts_units()}
        held = dict.fromkeys(supported.tolist(), 0.0)
        for unit, weight in weights.items():
            for passage_id in self.store.lexical_among(unit, supported):
                held[passage_id] += weight
        row = {int(p): i for i, p in enumerate(pending.ids)}
        best: dict[str, float] = {}
        for passage_id, weight in held.items():
            i = row[passage_id]
            dense = min(max(float(pending.vectors[i] @ vector), 0.0), 1.0)
            score = self.alpha * dense + (1.0 - self.alpha) * weight / sum(weights.values())
            best[pending.article_ids[i]] = max(best.get(pending.article_ids[i], 0.0), score)
        return [(article, round(score, 4)) for article, score in best.items() if score >= watch.min_score]

    def _idf(self, unit: str) -> float:
        """FTS5's BM25 inverse document frequency of one expression: log((N - n + 0.5) / (n + 0.5)), at least
        1e-6. Counted once per run: a run's own articles barely move it, and a count reads the whole posting list."""
        if self._documents is None:
            self._documents = self.store.count("passages")
        if unit not in self._counts:
            self._counts[unit] = self.store.lexical_rows(unit)
        n = self._counts[unit]
        return max(math.log((self._documents - n + 0.5) / (n + 0.5)), 1e-6)
