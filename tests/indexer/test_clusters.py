"""Story clusters with the real model: copies fold together, template-like reports of different events do not,
and a cluster is re-checked when a member it grew through changes or goes (shared/cases/template-reports)."""
from __future__ import annotations

import itertools
import json
from pathlib import Path

from fastapi.testclient import TestClient

from indexer.clusters import jaccard, shingles
from indexer.pipeline import Indexer, delete
from indexer.readers import read_inputs
from search.api import create_app
from search.model import NewsModel
from search.store import Store
from tests.conftest import SAMPLE
from tests.indexer.helpers import short_articles, write_jsonl


def add(folder: Path, model: NewsModel, records: list[dict]) -> None:
    path = write_jsonl(folder.parent / f"{folder.name}-input.jsonl", records)
    store = Store.open(folder, create=True)
    try:
        Indexer(store, model).add(read_inputs([str(path)]))
    finally:
        store.close()


def clusters(folder: Path) -> dict[str, str]:
    store = Store.open(folder, readonly=True)
    try:
        return dict(store.db.execute("SELECT id, cluster_id FROM articles"))
    finally:
        store.close()


def match_reports(n: int) -> list[dict]:
    """`n` one-line results of different games, written from one template (as a results service sends them)."""
    towns = ["Ashcombe", "Redgate", "Harlow", "Marston", "Pelham", "Varley", "Kinsey", "Thornby"]
    kinds = ["Albion", "Athletic", "City", "Harriers", "Rovers", "Town"]
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    teams = [f"{t} {k}" for t, k in itertools.product(towns, kinds)]
    games = [(a, b) for a, b in itertools.permutations(teams, 2) if a.split()[0] != b.split()[0]]
    reports = []
    for i, (home, away) in enumerate(games[::7][:n]):
        score = f"{2 + i % 4}-{i % 2}"
        reports.append({"id": f"r-{i:03d}", "title": f"{home} {score} {away}", "published_at": "2024-01-01",
                        "body": f"{home} beat {away} {score} on {days[i % 7]}.", "source": "Example Results"})
    return reports


def test_shingles_and_jaccard_against_sets_by_hand() -> None:
    runs = [("the", "cat", "sat"), ("cat", "sat", "on"), ("sat", "on", "the"), ("on", "the", "mat")]
    assert shingles("The cat sat, on the MAT") == {hash(r) for r in runs}  # runs of 3 words, hashed
    assert shingles("Two words") == {hash(("two", "words"))}
    a, b = shingles("a b c d e"), shingles("a b c d f")  # 3 shared of 3 + 3 - 2 distinct
    assert jaccard(a, b) == 2 / 4 and jaccard(a, a) == 1.0 and jaccard(frozenset(), frozenset()) == 0.0


def test_copies_share_a_cluster_and_template_reports_do_not(tmp_path: Path, model: NewsModel) -> None:
    folder = tmp_path / "store"
    original, other = short_articles(2, 20)
    copy = {**original, "id": "copy-of-" + original["id"], "title": original["title"] + " (update)",
            "body": original["body"].replace(" the ", " a ", 2) + " More details are expected."}
    reports = match_reports(200)
    resent = {**reports[0], "id": "r-000-resent"}  # the same report sent twice under two ids is one story
    add(folder, model, [original, other, copy] + reports + [resent])
    found = clusters(folder)
    assert found[copy["id"]] == found[original["id"]] == original["id"]
    assert found[other["id"]] == other["id"]
    assert found["r-000-resent"] == "r-000"
    assert [found[r["id"]] for r in reports] == [r["id"] for r in reports]  # 200 games, 200 stories
    redgate = {r["id"] for r in reports[1:] if "Redgate" in r["title"]}  # r-000 has its re-sent copy
    with TestClient(create_app(folder)) as client:  # as the case runs it: no game hides under "+N similar"
        shown = [result for page in (1, 2) for result in client.get("/search", params={
            "q": "Redgate results", "k": 200, "size": 50, "page": page, "answers": "false"}).json()["results"]]
    assert redgate <= {r["article_id"] for r in shown}
    assert all(r["similar"] == 0 for r in shown if r["article_id"] in redgate)


def chain() -> tuple[dict, dict, dict]:
    """A = X+Y, B = X+Y+Z, C = Y+Z (40, 70 and 40 words of one article): B is a copy of A and C of B (3-shingle
    Jaccard 0.73), but C is not a copy of A (0.46), so C belongs with A only through B. All three article vectors
    are within cosine 0.92 of each other with the released model, so the shingles decide."""
    body = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[3])["body"].split()
    x, y, z = " ".join(body[:40]), " ".join(body[40:110]), " ".join(body[110:150])
    base = {"title": "", "published_at": "2024-01-01", "source": "Wire"}
    return ({**base, "id": "a", "body": f"{x} {y}"}, {**base, "id": "b", "body": f"{x} {y} {z}"},
            {**base, "id": "c", "body": f"{y} {z}"})


def test_a_member_that_joined_through_a_deleted_or_changed_article_is_rechecked(tmp_path: Path,
                                                                                model: NewsModel) -> None:
    a, b, c = chain()
    folder = tmp_path / "deleted"
    add(folder, model, [a, b, c])
    assert clusters(folder) == {"a": "a", "b": "a", "c": "a"}
    delete(Store.open(folder), ["b"])
    assert clusters(folder) == {"a": "a", "c": "c"}

    folder = tmp_path / "changed"
    add(folder, model, [a, b, c])
    add(folder, model, [a, {**b, "body": short_articles(1, 30)[0]["body"]}, c])
    assert clusters(folder) == {"a": "a", "b": "b", "c": "c"}


def test_a_recheck_cut_short_by_a_crash_is_done_by_the_next_run(tmp_path: Path, model: NewsModel) -> None:
    a, b, c = chain()
    folder = tmp_path / "store"
    add(folder, model, [a, b, c])
    store = Store.open(folder)
    store.delete_articles(["b"])  # the write commits with its journal entry, then the process dies
    assert store.clusters_to_recheck() == ["a"] and clusters(folder)["c"] == "a"
    add(folder, model, [a, c])  # nothing new to index: the next run still finishes the re-check
    assert store.clusters_to_recheck() == [] and clusters(folder) == {"a": "a", "c": "c"}
