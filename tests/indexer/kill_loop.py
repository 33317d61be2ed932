"""The kill loop, shared by the suite (3 kills) and benchmarks/kill_loop.py (20): `news-index add` is killed with
SIGKILL at random moments while it writes, re-run after each kill, and finally run to its end; then the store
must hold every input article exactly once, and `check` must pass (SQLite, FTS5 and FAISS agree, no orphans)."""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class KillLoopReport:
    kills: int = 0  # SIGKILLs that landed while the run was writing
    finished_early: int = 0  # runs that ended before their kill
    final_exit: int | None = None
    articles_in: int = 0
    articles_stored: int = 0
    lost: list[str] = field(default_factory=list)  # input ids missing from the store
    duplicated: int = 0  # passages stored twice for one article position
    problems: dict[str, str] = field(default_factory=dict)  # failed checks: name -> detail
    seconds: float = 0.0


def committed(db: Path) -> int:
    """Articles committed so far (0 while the database cannot be read)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def start_add(path: Path, folder: Path, batch_passages: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "indexer.cli", "add", str(path), "--store", str(folder),
                             "--batch-passages", str(batch_passages)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def kill_loop(path: Path, ids: list[str], folder: Path, kills: int, seed: int = 0, batch_passages: int = 4,
              max_delay_s: float = 2.0, timeout_s: float = 900) -> KillLoopReport:
    """Kill `news-index add path` `kills` times, each a random 0–`max_delay_s` s after the run's first new commit,
    then let it finish and check the store. `ids`: the input's article ids."""
    from search.store import Store
    from search.store.check import check_store

    rng = random.Random(seed)
    report = KillLoopReport(articles_in=len(ids))
    began = time.monotonic()
    db = folder / "store.db"
    for _ in range(kills):
        before = committed(db)
        proc = start_add(path, folder, batch_passages)
        while committed(db) <= before and proc.poll() is None and time.monotonic() - began < timeout_s:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, max_delay_s))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            report.kills += 1
        else:
            report.finished_early += 1
        proc.wait()
    final = start_add(path, folder, batch_passages)
    report.final_exit = final.wait(timeout=timeout_s)
    store = Store.open(folder, readonly=True)
    stored = {r[0] for r in store.db.execute("SELECT id FROM articles")}
    report.articles_stored = len(stored)
    report.lost = sorted(set(ids) - stored)
    report.duplicated = store.db.execute("SELECT COUNT(*) FROM (SELECT article_id, position FROM passages "
                                         "GROUP BY article_id, position HAVING COUNT(*) > 1)").fetchone()[0]
    report.problems = {c.name: c.detail for c in check_store(store) if not c.ok}
    store.close()
    report.seconds = time.monotonic() - began
    return report
