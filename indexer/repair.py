"""`news-index repair`: rebuild from SQLite what can be rebuilt — orphan rows dropped, the FTS5 index and the
vector file written again, story clusters waiting for a re-check re-checked. SQLite itself cannot be rebuilt
from anything: a failed `integrity_check` needs a backup (`news-index backup`) or the articles indexed again."""
from __future__ import annotations

from indexer.clusters import recheck
from indexer.pipeline import IndexerConfig
from search.store import Store


def repair(store: Store, config: IndexerConfig | None = None) -> list[tuple[str, str]]:
    """Repair `store` in place; returns (what, result) lines for the summary."""
    config = config or IndexerConfig()
    orphans = store.delete_orphans()
    store.refill_lexical()
    vectors = store.rebuild_vector_file()
    rechecked = recheck(store, config.duplicate_threshold, config.copy_jaccard)
    return [("orphan rows removed", str(orphans)), ("FTS5 index", "written again from the passages"),
            ("vector file", f"written again from SQLite: {vectors.kind}, {len(vectors)} vectors"),
            ("story clusters re-checked", str(rechecked))]
