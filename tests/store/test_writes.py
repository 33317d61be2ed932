"""A batch of articles is one commit: a process killed in the middle of `replace_articles` leaves none of it, and
FTS5 agrees with the passages (real SQLite, a real SIGKILL, the real Store in a child process)."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from search.store import Store
from search.store.check import check_store

ROOT = Path(__file__).resolve().parents[2]

# The child writes one article, then a batch of two and dies with SIGKILL while inserting the second of the batch:
# after the first article's rows, before the commit.
CHILD = """
import os, signal, sys
import numpy as np
from search.store import Store
from search.store.records import ArticleWrite, PassageWrite

def article(i, words):
    body = " ".join(words * 40)
    vector = np.full(4, 0.5, np.float32)
    cuts = [(a, min(a + 200, len(body))) for a in range(0, len(body), 200)]
    return ArticleWrite(f"a{i}", "", body, None, None, None, [], {}, f"h{i}", "m", "", {}, f"c{i}", vector,
                        [PassageWrite(k, a, b, body[a:b], "", vector) for k, (a, b) in enumerate(cuts)], [])

store = Store.open(sys.argv[1], create=True)
store.set_model("m", "m")
store.replace_articles([article(0, ["harbour", "storm"])])
insert, calls = store._insert_article, []
def dying_insert(a, dtype):
    calls.append(a.id)
    if len(calls) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    insert(a, dtype)
store._insert_article = dying_insert
store.replace_articles([article(1, ["council", "budget"]), article(2, ["river", "bridge"])])
"""


def test_a_process_killed_mid_batch_leaves_none_of_the_batch_and_fts5_in_step(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    child = subprocess.run([sys.executable, "-c", CHILD, str(folder)], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr
    store = Store.open(folder)
    try:
        assert [r[0] for r in store.db.execute("SELECT id FROM articles")] == ["a0"]  # a1 was written, not committed
        assert store.db.execute("SELECT COUNT(DISTINCT article_id) FROM passages").fetchone()[0] == 1
        problems = {c.name: c.detail for c in check_store(store) if not c.ok}
        assert "FTS5 index" not in problems and "orphan rows" not in problems, problems
        assert store.lexical_search("harbour", 3) and not store.lexical_search("council", 3)
    finally:
        store.close()
