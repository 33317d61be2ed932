"""Every input format, and every kind of bad record reported with its file and line."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from indexer.readers import InputError, not_utf8, read_inputs, read_stream
from indexer.records import Article, BadRecord, content_id

GOOD = {"id": "a1", "title": "Storm hits coast", "body": "A storm hit the coast on Monday.",
        "published_at": "2024-05-01T09:30:00Z", "source": "Wire", "url": "https://example.org/a1",
        "categories": ["weather", "coast"], "licence": "CC BY 2.5"}


def items(paths: list) -> tuple[list[Article], list[BadRecord]]:
    got = list(read_inputs([str(p) for p in paths]))
    return [i for i in got if isinstance(i, Article)], [i for i in got if isinstance(i, BadRecord)]


def test_jsonl_good_and_bad_records(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    lines = [json.dumps(GOOD), "{not json", json.dumps({"title": "no body"}),
             json.dumps({**GOOD, "id": "a2", "published_at": "yesterday"}), "", json.dumps(["a list"])]
    path.write_bytes("\n".join(lines).encode() + b"\n" + b'{"body": "caf\xe9"}\n')
    good, bad = items([path])
    assert [a.id for a in good] == ["a1"]
    article = good[0]
    assert article.published_at == "2024-05-01T09:30:00+00:00" and article.categories == ["weather", "coast"]
    assert article.extra == {"licence": "CC BY 2.5"} and article.source == "Wire"
    assert [str(b) for b in bad] == [
        f"{path}:2: invalid JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{path}:3: missing body",
        f"{path}:4: unparsable published_at 'yesterday' (use ISO 8601, e.g. 2024-05-01 or 2024-05-01T09:30:00Z)",
        f"{path}:6: expected a JSON object, got list",
        f"{path}:7: " + not_utf8(0xE9, len("\n".join(lines).encode()) + 1 + len(b'{"body": "caf')),
    ]
    assert "byte 0xE9 at byte" in str(bad[-1]) and "save the file as UTF-8" in str(bad[-1])


def test_csv_with_header_multiline_cells_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b'id,title,body,published_at,categories,licence\n'
                     b'c1,First,"Body one,\nsecond line",2024-05-01,a;b,CC0\n'
                     b'c2,Second,,2024-05-02,,\n'
                     b'c3,Third,Body caf\xe9,2024-05-03,,\n'
                     b'c4,Fourth,Body four,2024-13-45,,\n'
                     b',Fifth,Body five,,,\n')
    good, bad = items([path])
    assert [a.id for a in good] == ["c1", content_id("Fifth", "Body five")]
    assert good[0].body == "Body one,\nsecond line" and good[0].categories == ["a", "b"]
    assert good[0].extra == {"licence": "CC0"}
    assert [(b.origin, b.reason.split(" (")[0]) for b in bad] == [
        (f"{path}:4", "missing body"), (f"{path}:5", "not UTF-8 text"),  # no offset: csv reads decoded text
        (f"{path}:6", "unparsable published_at '2024-13-45'")]


def test_csv_without_body_column_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,text\n1,hello\n")
    with pytest.raises(InputError, match="needs a 'body' column"):
        list(read_inputs([str(path)]))


def test_text_and_markdown_files(tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text("Title line\n\nFirst paragraph.\nSecond line.\n")
    (tmp_path / "two.md").write_text("# Markdown title\n\nBody text here.\n")
    (tmp_path / "empty.txt").write_text("Only a title\n")
    (tmp_path / "latin1.txt").write_bytes(b"Title\nline two\ncaf\xe9\n")
    good, bad = items([tmp_path])
    assert sorted((a.title, a.body) for a in good) == [("Markdown title", "Body text here."),
                                                      ("Title line", "First paragraph.\nSecond line.")]
    assert all(a.id == content_id(a.title, a.body) for a in good)
    assert sorted(str(b) for b in bad) == [f"{tmp_path / 'empty.txt'}:1: missing body",
                                           f"{tmp_path / 'latin1.txt'}:3: " + not_utf8(0xE9, 18)]


def test_folder_with_data_files_ignores_its_readme(tmp_path: Path) -> None:
    (tmp_path / "articles.jsonl").write_text(json.dumps(GOOD) + "\n")
    (tmp_path / "README.md").write_text("# About this data\n\nLicence text.\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.csv").write_text("title,body\nT,B\n")
    good, bad = items([tmp_path])
    assert [a.title for a in good] == ["Storm hits coast", "T"] and not bad


def test_stdin_jsonl_and_csv() -> None:
    jsonl = list(read_stream(io.BytesIO(b"\n" + json.dumps(GOOD).encode() + b"\n{bad\n"), "<stdin>"))
    csv = list(read_stream(io.BytesIO(b"title,body\nT,B\nT2,\n"), "<stdin>"))
    assert jsonl[0].id == "a1" and jsonl[1].origin == "<stdin>:3"
    assert csv[0].body == "B" and str(csv[1]) == "<stdin>:3: missing body"


def test_bad_paths_fail_up_front(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(InputError, match="no such file or folder"):
        read_inputs([str(tmp_path / "missing.jsonl")])
    with pytest.raises(InputError, match="unsupported file type .pdf"):
        read_inputs([str(tmp_path / "a.pdf")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .jsonl, .csv, .txt or .md files"):
        read_inputs([str(tmp_path / "empty")])


def test_same_content_same_id_and_hash_changes_with_content() -> None:
    a = list(read_stream(io.BytesIO(b'{"title": "T", "body": "B"}\n{"title": "T", "body": "B"}\n'
                                    b'{"title": "T", "body": "B2"}'), "x"))
    assert a[0].id == a[1].id != a[2].id and a[0].content_hash == a[1].content_hash != a[2].content_hash


def test_csv_cell_longer_than_the_csv_modules_default_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    body = "word " * 40_000  # 200,000 characters: over csv's default field limit of 131,072
    path.write_text(f"id,body\nlong,{body}\nshort,Short body\n")
    good, bad = items([path])
    assert [a.id for a in good] == ["long", "short"] and good[0].body == body and not bad


@pytest.mark.parametrize("header", ["id,title,body,source", "body,title,id,source"])
def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path, header: str) -> None:
    """shared/cases/csv-bom: Excel and Windows tools start CSV (and JSONL) files with a UTF-8 byte-order mark."""
    values = {"id": "glen-001", "title": "Glen mill reopens", "body": "The old mill in Glen reopened.",
              "source": "Example"}
    row = ",".join(values[c] for c in header.split(","))
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"{header}\r\n{row}\r\n".encode())
    (article,) = read_inputs([str(path)])
    assert isinstance(article, Article) and article.id == "glen-001" and article.body == values["body"]
    assert "\ufeffid" not in article.extra and not any(k.startswith("\ufeff") for k in article.extra)
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(b"\xef\xbb\xbf" + json.dumps(values).encode() + b"\n")
    (record,) = read_inputs([str(jsonl)])
    assert isinstance(record, Article) and record.id == "glen-001"
    (streamed,) = read_stream(io.BytesIO(b"\xef\xbb\xbf" + json.dumps(values).encode()), "<stdin>")
    assert isinstance(streamed, Article) and streamed.id == "glen-001"


def test_the_count_for_the_progress_bar_equals_the_records_read(tmp_path: Path) -> None:
    from indexer.readers import count_records

    (tmp_path / "a.jsonl").write_text(json.dumps(GOOD) + "\n\n{broken\n" + json.dumps({"title": "no body"}) + "\n")
    (tmp_path / "b.csv").write_bytes(b'id,body\nc1,"two\nlines"\n\nc2,x\nc3,\n')
    sub = tmp_path / "texts"
    sub.mkdir()
    (sub / "one.txt").write_text("Title\nBody.\n")
    (sub / "two.md").write_text("# T\nB\n")
    for paths in ([str(tmp_path / "a.jsonl"), str(tmp_path / "b.csv")], [str(sub)]):
        assert count_records(paths) == len(list(read_inputs(paths))), paths
