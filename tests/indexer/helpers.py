"""Small real inputs for indexer tests: short articles cut from the bundled sample (one passage each)."""
from __future__ import annotations

import json
from pathlib import Path

from search.store import Store
from tests.conftest import SAMPLE


def short_articles(n: int, start: int = 0) -> list[dict]:
    """`n` sample records with only their first paragraph as body, so each is about one passage."""
    records = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[start:start + n]]
    return [{**r, "body": r["body"].split("\n\n")[0]} for r in records]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def assert_consistent(folder: Path) -> list[int]:
    """SQLite and the saved vector file hold the same passage ids, and no row points at a missing parent."""
    store = Store.open(folder, readonly=True)
    q = lambda sql: [r[0] for r in store.db.execute(sql)]  # noqa: E731
    passage_ids = sorted(q("SELECT id FROM passages"))
    assert sorted(store.vectors.ids().tolist()) == passage_ids
    assert sorted(q("SELECT id FROM passages_fts_docsize")) == passage_ids  # the rows FTS5 indexed
    assert not q("SELECT id FROM passages WHERE article_id NOT IN (SELECT id FROM articles)")
    assert not q("SELECT article_id FROM article_entities WHERE article_id NOT IN (SELECT id FROM articles)")
    assert not q("SELECT entity_id FROM article_entities WHERE entity_id NOT IN (SELECT id FROM entities)")
    assert not q("SELECT id FROM entities WHERE id NOT IN (SELECT entity_id FROM article_entities)")
    store.close()
    return passage_ids


# Articles after the session's sample store (its first 120): two marathons, two Hong Kong protests (one before
# 2019-10-10), two on Syria, an earthquake, an impeachment, and others on nothing a test watch asks for
LATER_ARTICLES = ["wn-vat-2019-123", "wn-vat-2019-125", "wn-vat-2019-129", "wn-vat-2019-133", "wn-vat-2019-141",
                  "wn-vat-2019-142", "wn-vat-2019-143", "wn-vat-2019-144", "wn-vat-2019-148", "wn-vat-2019-154"]


def sample_records(ids: list[str]) -> list[dict]:
    """The bundled sample's records with these ids, whole, in the given order."""
    records = {r["id"]: r for r in map(json.loads, SAMPLE.read_text(encoding="utf-8").splitlines())}
    return [records[i] for i in ids]
