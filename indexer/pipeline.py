"""Add, update, rebuild and delete articles: split, annotate each passage once, derive, cluster, commit.

Work is committed to SQLite in batches (SQLite is the truth, vectors included); the FAISS file is brought in
line with SQLite when a run ends, however it ends. After a crash the same command skips what was committed
(content hash and model match) and the vector file is reconciled, so SQLite and FAISS agree on passage ids.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from indexer.clusters import StoryClusters, recheck
from indexer.derive import annotate_articles, article_spans
from search.passages import Span
from indexer.readers import InputError, Item
from indexer.records import Article, BadRecord
from indexer.webhooks import Delivery, WebhookSettings, deliver_webhooks
from search.pipeline.watch_match import WatchMatcher
from search.store import ArticleRow, Store, article_text

if TYPE_CHECKING:  # the model (torch) loads only when a command needs it: --help and input errors answer at once
    from search.model import NewsModel

OnProgress = Callable[[int, int], None]  # (articles, passages) just done — committed, or unchanged or bad
# (then 0 passages): drives the progress bar


@dataclass
class IndexerConfig:
    """How articles are cut, batched and clustered."""

    batch_passages: int = 256  # passages annotated and committed together (memory vs. work lost on a crash)
    passage_tokens: int = 0  # passage length in word pieces, [CLS]/[SEP] included (0 = the model's limit)
    overlap_tokens: int = 48  # tokens a passage repeats from the previous one
    duplicate_threshold: float = 0.92  # article-vector cosine from which two articles may be one story
    copy_jaccard: float = 0.5  # word 3-shingle overlap from which they are copies (indexer/clusters.py)
    min_entity_score: float = 0.0  # drop entity mentions the tagger is less sure of
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)  # retries of the watches' webhooks


@dataclass
class RunReport:
    """What one command did, for the summary and the exit code."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    passages: int = 0
    skipped: list[BadRecord] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)  # "id: file:3 and file:9" — an id given twice, later kept
    generated: list[str] = field(default_factory=list)  # "file:4: doc-…" — ids made for records without one
    notes: list[str] = field(default_factory=list)  # "file:5: body is a number (42), stored as text"
    shards_annotated: int = 0  # --engine ray: shards annotated by this run (the rest came from earlier runs)
    vectors_merged: int = 0  # --engine ray into an IVF index: vectors the actors encoded, merged as codes
    watches: int = 0  # saved watches in the store when the run ended
    watch_matches: int = 0  # (watch, article) matches this run recorded
    deliveries: list[Delivery] = field(default_factory=list)  # the watches' webhooks this run called
    seconds: float = 0.0

    @property
    def passages_per_s(self) -> float:
        """Annotation throughput of the run."""
        return self.passages / self.seconds if self.seconds else 0.0


@dataclass
class _Pending:
    article: Article
    spans: list[Span]
    replaces: bool


class Indexer:
    """Turns articles into store rows and vectors with one `annotate` call per batch of passages."""

    def __init__(self, store: Store, model: NewsModel, config: IndexerConfig | None = None,
                 on_progress: OnProgress | None = None) -> None:
        self.store = store
        self.model = model
        self.config = config or IndexerConfig()
        self.on_progress = on_progress

    def add(self, items: Iterable[Item], strict: bool = False, index_kind: str | None = None) -> RunReport:
        """Index new and changed articles; unchanged ones are skipped. Refuses a store built by another model."""
        self.store.check_model(self.model.model_id)
        if self.store.model_id is None:
            self.store.set_model(self.model.model_id, self.model.name)
        matcher = WatchMatcher(self.store, self.model.config.ranking.alpha, self.model.model_id)
        report = self._index(items, strict, index_kind, matcher)
        finish_watches(self.store, report, self.config)
        return report

    def rebuild_ids(self) -> list[str]:
        """The articles `rebuild` annotates: those not yet annotated by this model (an interrupted rebuild
        continues), or, when there are none, every article (marked stale for that)."""
        if not self.store.article_ids(stale_for_model=self.model.model_id):
            self.store.mark_stale()  # same model and nothing left over: re-annotate everything
        return self.store.article_ids(stale_for_model=self.model.model_id)

    def rebuild(self, index_kind: str | None = None) -> RunReport:
        """Annotate every article again with this model; an interrupted rebuild continues where it stopped."""
        report = self._index(_stored(self.store, self.rebuild_ids()), False, index_kind, matcher=None)
        self.store.set_model(self.model.model_id, self.model.name)
        reencode_watches(self.store, self.model)  # the saved query vectors, for this model
        self.store.sync_vectors(index_kind)  # nothing left to patch: writes the manifest with the new model
        return report

    def _index(self, items: Iterable[Item], strict: bool, index_kind: str | None,
               matcher: WatchMatcher | None) -> RunReport:
        """Index `items`; with a `matcher` (`add`, not `rebuild`: an article already there is no news), each
        batch's articles are matched against the saved watches right after their commit."""
        report = RunReport()
        start = time.perf_counter()
        clusters = StoryClusters.from_store(self.store, self.model.model_id, self.model.dim,
                                            self.config.duplicate_threshold, self.config.copy_jaccard)
        pending: dict[str, _Pending] = {}
        pending_passages = 0
        seen: dict[str, str] = {}  # id -> where this run read it
        try:
            for item in items:
                if isinstance(item, BadRecord):
                    if strict:
                        raise InputError(f"{item} (--strict)")
                    report.skipped.append(item)
                    self._progress(1, 0)
                    continue
                _note(report, item, seen)
                state = self.store.article_states([item.id]).get(item.id)
                if state == (item.content_hash, self.model.model_id):
                    report.unchanged += 1
                    self._progress(1, 0)
                    continue
                spans = article_spans(self.model, item, self.config.passage_tokens, self.config.overlap_tokens)
                previous = pending.get(item.id)  # the same id twice in one batch: the later record wins
                if previous:
                    self._progress(1, 0)  # the earlier record is done with: it will not be committed
                pending_passages += len(spans) - (len(previous.spans) if previous else 0)
                pending[item.id] = _Pending(item, spans, replaces=state is not None)
                if pending_passages >= self.config.batch_passages:
                    self._commit(list(pending.values()), clusters, report, matcher)
                    pending.clear()
                    pending_passages = 0
            self._commit(list(pending.values()), clusters, report, matcher)
            if matcher is not None:  # articles a crashed run wrote and did not match
                report.watch_matches += matcher.match_pending()
            recheck(self.store, self.config.duplicate_threshold, self.config.copy_jaccard)
        finally:
            self.store.sync_vectors(index_kind)
            report.seconds = time.perf_counter() - start
        return report

    def _commit(self, batch: list[_Pending], clusters: StoryClusters, report: RunReport,
                matcher: WatchMatcher | None) -> None:
        """One `annotate` call over every passage of the batch, then one SQLite transaction, then the batch
        matched against the saved watches (journaled in that transaction: a crash between the two loses
        nothing)."""
        if not batch:
            return
        writes = annotate_articles(self.model, [(p.article, p.spans) for p in batch], self.config.min_entity_score,
                                   self.store.names)
        for w in writes:
            w.cluster_id = clusters.assign(w.id, w.vector, article_text(w.title, w.body))
        self.store.replace_articles(writes, match_watches=matcher is not None)
        if matcher is not None:
            report.watch_matches += matcher.match_pending()
        passages = sum(len(w.passages) for w in writes)
        report.passages += passages
        report.updated += sum(p.replaces for p in batch)
        report.added += sum(not p.replaces for p in batch)
        self._progress(len(batch), passages)

    def _progress(self, articles: int, passages: int) -> None:
        if self.on_progress:
            self.on_progress(articles, passages)


def _note(report: RunReport, item: Article, seen: dict[str, str]) -> None:
    """What the summary says about one input record besides counting it."""
    if item.id in seen:
        report.repeated.append(f"{item.id}: {seen[item.id]} and {item.origin or 'a later record'}")
    seen[item.id] = item.origin
    if item.generated_id:
        report.generated.append(f"{item.origin}: {item.id}" if item.origin else item.id)
    report.notes += [f"{item.origin}: {note}" if item.origin else note for note in item.notes]


def finish_watches(store: Store, report: RunReport, config: IndexerConfig) -> None:
    """After an `add` run's matches are recorded: the watches' webhooks, and the count for the summary."""
    report.deliveries = deliver_webhooks(store, config.webhooks)
    report.watches = len(store.watches())


def reencode_watches(store: Store, model: NewsModel) -> int:
    """Encode again the saved queries of watches another model encoded (after a rebuild with a new checkpoint:
    one short query pass per watch, once); returns how many."""
    from search.pipeline.syntax import parse_query

    stale = [w for w in store.watches() if w.model_id != model.model_id]
    if stale:
        vectors = model.embed_queries([parse_query(w.query).text.strip() for w in stale])
        store.set_watch_vectors(model.model_id, {w.id: v for w, v in zip(stale, vectors)})
    return len(stale)


def delete(store: Store, ids: list[str], index_kind: str | None = None,
           config: IndexerConfig | None = None) -> RunReport:
    """Remove articles by id with their passages, vectors and entity links, and re-check the story clusters
    they were in (no model needed)."""
    config = config or IndexerConfig()
    start = time.perf_counter()
    try:
        found = set(store.delete_articles(ids))
        recheck(store, config.duplicate_threshold, config.copy_jaccard)
    finally:
        store.sync_vectors(index_kind)
    return RunReport(deleted=len(found), not_found=[i for i in ids if i not in found],
                     seconds=time.perf_counter() - start)


def _stored(store: Store, ids: list[str]) -> Iterator[Article]:
    """Stored articles as input again (same content hash), for a rebuild."""
    for article_id in ids:
        row = store.article(article_id)
        state = store.article_states([article_id]).get(article_id)
        if row is not None and state is not None:
            yield _as_article(row, state[0])


def _as_article(row: ArticleRow, content_hash: str) -> Article:
    return Article(id=row.id, title=row.title, body=row.body, published_at=row.published_at, source=row.source,
                   url=row.url, categories=row.categories, extra=row.extra, content_hash=content_hash)
