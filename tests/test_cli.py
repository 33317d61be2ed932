"""`news-search`: a command imports only what it needs (`train` runs without the search stack); `eval` can
store its results in the checkpoint it measured."""
import json
import re
import shutil
import subprocess
import sys

from search.model.base import default_checkpoint
from search.model.info import fingerprint
from tests.shared_data import SHARED_DATA, needs_shared_data


def test_train_command_does_not_import_the_search_stack():
    code = ("import sys; from search.cli import build_parser; build_parser('train'); "
            "print(sorted(m for m in ('faiss', 'fastapi', 'sqlite_utils', 'uvicorn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "search.cli", "--help"], capture_output=True, text=True).stdout
    for command in ("train", "distill", "soup", "eval", "tune", "serve", "query", "watch"):
        assert command in out


@needs_shared_data
def test_eval_can_store_its_results_in_the_checkpoint(tmp_path):
    """`eval --into-model` puts the tasks it measured into eval.json next to the weights, keeps the sections it
    did not measure, and leaves the weights (the fingerprint) untouched."""
    model = shutil.copytree(default_checkpoint(), tmp_path / "model")
    (model / "eval.json").write_text(json.dumps({"squad": {"f1": 1.0}, "stsb": {"pairs": 0}, "seconds": 1.0}))
    before = fingerprint(model)
    # a data folder whose STS-B dev split is the real one's first 16 pairs keeps the run short
    dev = tmp_path / "data" / "stsb" / "sts-dev.csv"
    dev.parent.mkdir(parents=True)
    dev.write_text("".join((SHARED_DATA / "stsb" / "sts-dev.csv").read_text().splitlines(True)[:16]))
    subprocess.run([sys.executable, "-m", "search.cli", "eval", "--model", str(model), "--data", str(dev.parents[1]),
                    "--tasks", "stsb", "--out", str(tmp_path / "out.json"), "--into-model"],
                   check=True, capture_output=True, text=True)
    measured = json.loads((tmp_path / "out.json").read_text())
    stored = json.loads((model / "eval.json").read_text())
    assert stored["squad"] == {"f1": 1.0} and stored["stsb"] == measured["stsb"]
    assert stored["stsb"]["pairs"] == 16
    assert fingerprint(model) == before


def test_eval_refuses_to_store_figures_of_a_slice(tmp_path):
    """A release's eval.json holds full validation splits: --limit or a split of one's own is refused."""
    done = subprocess.run([sys.executable, "-m", "search.cli", "eval", "--model", str(tmp_path / "no-model"),
                           "--limit", "8", "--stsb", "mine.tsv", "--into-model"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "news-search: error: --into-model stores a release's figures, measured on the full validation splits: "
        "drop --limit and --stsb, or drop --into-model"]


def test_distill_refuses_bad_settings_and_overwriting_its_own_checkpoint(tmp_path):
    """Each mistake is one line and exit 2, before the model loads; a folder with files in it is not replaced."""
    release = str(default_checkpoint())
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("mine")
    for extra, message in ((["--out", str(tmp_path / "x"), "--teacher-share", "1.5"],
                            "teacher_share must be between 0 and 1, got 1.5"),
                           (["--out", str(tmp_path / "x"), "--ridge", "-1"], "ridge must be >= 0, got -1.0"),
                           (["--model", release, "--out", release],
                            "--out is the checkpoint being read: write the new one to another folder"),
                           (["--out", str(tmp_path / "used")],
                            f"--out {tmp_path / 'used'} already holds files: choose a new folder or remove that one")):
        done = subprocess.run([sys.executable, "-m", "search.cli", "distill", *extra], capture_output=True, text=True)
        assert done.returncode == 2 and done.stderr.strip().splitlines() == [f"news-search: error: {message}"]
    assert not (tmp_path / "x").exists() and (tmp_path / "used" / "keep.txt").read_text() == "mine"


@needs_shared_data
def test_tune_chooses_settings_on_the_choosing_collections_and_reports_the_held_out_one(tmp_path):
    from search.model.config import RankingSettings
    from tests.evaluation.test_runner import tiny_time

    out = tmp_path / "tune.json"
    subprocess.run([sys.executable, "-m", "search.cli", "tune", "--data", str(SHARED_DATA), "--limit", "3",
                    "--queries", "2", "--answer-questions", "4", "--time", str(tiny_time(tmp_path / "time")),
                    "--cache", str(tmp_path / "cache"), "--out", str(out)], check=True, capture_output=True, text=True)
    report = json.loads(out.read_text())
    RankingSettings(**report["chosen"]).check()
    assert report["reference"]["rerank_depth"] == 30 and report["reference"]["pair_window"] == 0
    passed = [r for r in report["cost"] if r["passed"]]
    fields = ("rerank_depth", "rerank_margin", "pair_window")
    assert passed and [report["chosen"][f] for f in fields] == [passed[0][f] for f in fields]
    assert report["answer_f1_by_window"]["questions"] == 4
    assert 0.0 <= report["min_relevance"]["floor"] <= 1.0
    assert 0.0 < report["min_topic_confidence"]["threshold"] < 1.0
    assert set(report["choosing"]) == {"TIME", "SQuAD", "SQuADShifts new_wiki", "SQuADShifts amazon_reviews"}
    assert set(report["reporting_only"]) == {"SQuADShifts reddit"}
    assert report["worst_ratio"] == min(report["choosing"].values())
    assert report["settings_tried"] > 100
    refused = subprocess.run([sys.executable, "-m", "search.cli", "tune", "--limit", "3", "--into-model"],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "--into-model" in refused.stderr


def test_the_clis_start_without_torch_and_answer_argument_errors_at_once(tmp_path):
    """--help, argument and file errors need no model: importing and parsing must not load torch."""
    probe = ("import sys, search.cli, indexer.cli; search.cli.build_parser(); indexer.cli.build_parser(); "
             "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", probe], check=True, capture_output=True,
                         text=True)
    assert out.stdout.strip() == "[]", out.stdout
    assert " torch" not in out.stderr.split("| indexer.cli")[0]  # -X importtime lists every module imported


def test_messages_use_the_terminals_words_and_exit_codes_match_news_index(tmp_path, sample_store):
    """The CLI names its flags (--from), the API its parameters (date_from); a missing store is 3 for both CLIs."""
    bad_date = subprocess.run([sys.executable, "-m", "search.cli", "query", "x", "--store", str(sample_store),
                               "--from", "2024-13-01"], capture_output=True, text=True)
    assert bad_date.returncode == 2 and "--from '2024-13-01' is not a date" in bad_date.stderr
    assert "date_from" not in bad_date.stderr
    topic = subprocess.run([sys.executable, "-m", "search.cli", "query", "x", "--store", str(sample_store),
                            "--topic", "nope"], capture_output=True, text=True)
    assert topic.returncode == 2 and "unknown --topic 'nope'" in topic.stderr and "news-index stats" in topic.stderr
    assert "GET /facets" not in topic.stderr
    for command, line in ((["query", "x", "--rerank-depth", "-1"], "--rerank-depth must be between 0 and 200"),
                          (["serve", "--pair-window", "5"], "--pair-window must be 0 (whole passages) or between"),
                          (["serve", "--rerank-margin", "2"], "--rerank-margin must be between 0"),
                          (["serve", "--pair-nice", "20"], "--pair-nice must be between 0 and 19")):
        refused = subprocess.run([sys.executable, "-m", "search.cli", *command, "--store", str(sample_store)],
                                 capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2 and line in refused.stderr, refused.stderr
    for command in (["search.cli", "query", "x"], ["indexer.cli", "stats"], ["indexer.cli", "delete", "a"]):
        missing = subprocess.run([sys.executable, "-m", *command, "--store", str(tmp_path / "nothing")],
                                 capture_output=True, text=True)
        assert missing.returncode == 3 and "no store at" in missing.stderr, command
        assert not (tmp_path / "nothing").exists()


def test_a_mistyped_flag_is_refused_with_the_closest_one_in_both_clis():
    """The CLI side of "a typo in a parameter is an error": argparse's refusal, plus what was meant."""
    for command, typo, meant in ((["search.cli", "query", "x"], "--form", "--from"),
                                 (["indexer.cli", "stats"], "--jsn", "--json"),
                                 (["indexer.cli", "add", "x.jsonl"], "--strikt", "--strict")):
        out = subprocess.run([sys.executable, "-m", *command, typo], capture_output=True, text=True)
        assert out.returncode == 2 and f"{typo}: did you mean {meant}?" in out.stderr, out.stderr
        prog = {"search.cli": "news-search", "indexer.cli": "news-index"}[command[0]]
        assert f"{prog} {command[1]}: error: unrecognized arguments" in out.stderr  # the subcommand's usage


def test_a_flag_prefix_or_a_bad_value_is_refused_in_one_line_in_both_clis():
    """argparse would take a flag's prefix for the flag, print its usage block before a bad value and let the last
    of a repeated flag win: here a prefix is a mistyped flag, a repeated one is refused (as the API refuses a
    parameter given twice), and every refusal is the one line that says what to fix."""
    for command, error in ((["search.cli", "query", "x", "--rerank-dept", "5"], "did you mean --rerank-depth?"),
                           (["search.cli", "query", "x", "--rerank-depth", "five"], "invalid int value: 'five'"),
                           (["search.cli", "query", "x", "--pair", "64"], "did you mean --pair-window?"),  # begins it
                           (["search.cli", "query", "x", "--size", "3", "--size", "4"], "--size is given 2 times"),
                           (["indexer.cli", "add", "x.jsonl", "--stric"], "did you mean --strict?"),
                           (["indexer.cli", "add"], "the following arguments are required: PATH")):
        out = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True)
        prog = {"search.cli": "news-search", "indexer.cli": "news-index"}[command[0]]
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and error in out.stderr, out.stderr
        assert f"(see {prog} {command[1]} --help)" in out.stderr


def test_query_says_how_many_passages_the_pair_pass_read(sample_store, capsys):
    """The terminal listing ends with the timings and what the pair pass read, so `--rerank-depth` and
    `--rerank-margin` show."""
    from search.cli import main

    assert main(["query", "earthquake damage", "--store", str(sample_store), "--rerank-depth", "3", "--size", "2"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("time: ") and re.search(r"\d+ passages? read of the first 3 \(rerank margin [\d.]+\)$", last)
    assert int(last.split("; ")[-1].split()[0]) in (1, 2, 3)


def test_query_prints_csv_with_the_same_ids_as_json(sample_store):
    import csv
    import io
    import json

    base = [sys.executable, "-m", "search.cli", "query", "earthquake damage", "--store", str(sample_store),
            "--size", "4", "--no-answers"]
    as_json = json.loads(subprocess.run(base + ["--json"], capture_output=True, text=True, check=True).stdout)
    as_csv = subprocess.run(base + ["--csv"], capture_output=True, text=True, check=True).stdout
    assert [r["article_id"] for r in csv.DictReader(io.StringIO(as_csv))] == \
        [r["article_id"] for r in as_json["results"]]


def test_watch_add_list_matches_and_rm_with_the_terminals_words(sample_store, tmp_path, capsys, monkeypatch) -> None:
    """`news-search watch`, in-process: saved, listed, its matches shown, deleted; bad flags are exit 2 in the
    terminal's words before the model loads, a missing store exit 3."""
    import shutil

    from search.cli import main
    from search.store import Store

    store = tmp_path / "store"
    shutil.copytree(sample_store, store)
    assert main(["watch", "add", "earthquake damage", "--store", str(store), "--name", "Quakes", "--topic", "world",
                 "--entity", "Not Yet Named", "--webhook", "https://example.org/hook"]) == 0
    assert "watch 1 saved: 'Quakes'" in capsys.readouterr().out
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: rich wraps no cell
    assert main(["watch", "list", "--store", str(store)]) == 0
    table = capsys.readouterr().out
    assert "Quakes" in table and "earthquake damage" in table and "https://example.org/hook" in table
    assert main(["watch", "list", "--store", str(store), "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["filters"]["topics"] == ["world"] and listed["filters"]["entities"] == ["Not Yet Named"]
    writer = Store.open(store)  # a match as news-index add records it
    article = writer.article_ids()[0]
    with writer.matching():
        writer.record_matches([(1, article, 0.75)], "2026-01-02T03:04:05+00:00")
    assert main(["watch", "matches", "1", "--store", str(store)]) == 0
    shown = capsys.readouterr().out
    assert "1 article matched watch 1 (Quakes)" in shown and article in shown and "0.750" in shown
    assert main(["watch", "rm", "1", "--store", str(store)]) == 0
    assert main(["watch", "rm", "1", "--store", str(store)]) == 2
    assert "no watch with id 1: `news-search watch list` lists the saved ones" in capsys.readouterr().err
    for flags, says in ((["--from", "2024-13-01"], "--from '2024-13-01' is not a date"),
                        (["--min-score", "2"], "--min-score must be between 0 and 1"),
                        (["--webhook", "ftp://x"], "--webhook must be an http:// or https:// URL")):
        assert main(["watch", "add", "fire", "--store", str(store), *flags]) == 2
        assert says in capsys.readouterr().err, flags
    assert main(["watch", "list", "--store", str(tmp_path / "none")]) == 3
    assert "no store at" in capsys.readouterr().err
