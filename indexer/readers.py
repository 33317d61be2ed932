"""Input formats: JSONL, CSV with a header, .txt/.md files (title = first line), folders of these, stdin (`-`).

Every reader yields `Article` or `BadRecord` (with file:line), so one broken record never stops a run
unless --strict asks for that. Problems with a whole input (missing path, unknown type) raise InputError.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from indexer.records import Article, BadRecord, RecordError, parse_record

Item = Article | BadRecord
DATA_SUFFIXES = (".jsonl", ".ndjson", ".csv")
TEXT_SUFFIXES = (".txt", ".md")
CSV_FIELD_LIMIT = 2**31 - 1  # characters per CSV cell (the csv module's default, 131072, rejects long bodies)


class InputError(ValueError):
    """An input that cannot be read at all; the message says what to fix."""


def read_inputs(paths: list[str]) -> Iterator[Item]:
    """Every record of every path, in order; `-` is standard input (JSONL, or CSV when it does not start with {).

    The paths are checked now (InputError), the files read lazily."""
    return _records(expand(paths))


def count_records(paths: list[str]) -> int | None:
    """How many records `read_inputs(paths)` will give, counted without parsing them (non-blank JSONL lines,
    non-blank CSV rows under the header, one per text file), or None when one of the inputs is standard input,
    which cannot be read twice."""
    files = expand(paths)
    if "-" in files:
        return None
    return sum(_count(Path(f)) for f in files)


def _count(path: Path) -> int:
    reader = _reader(path)
    if reader is read_jsonl:
        with open(path, "rb") as f:
            return sum(1 for line in f if line.strip())
    if reader is read_csv:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
            return max(0, sum(1 for row in csv.reader(f) if row) - 1)
    return 1


def _records(files: list[Path | str]) -> Iterator[Item]:
    for path in files:
        if path == "-":
            yield from read_stream(sys.stdin.buffer, "<stdin>")
        else:
            yield from _reader(path)(path)


def expand(paths: list[str]) -> list[Path | str]:
    """Files to read, checked up front so a typo fails before any work is done.

    A folder gives its .jsonl/.ndjson/.csv files when it has any (a README or licence next to them is not an
    article); otherwise its .txt/.md files, one article each. Hidden files are ignored.
    """
    files: list[Path | str] = []
    for raw in paths:
        if raw == "-":
            files.append(raw)
            continue
        path = Path(raw)
        if path.is_dir():
            found = [p for p in sorted(path.rglob("*")) if p.is_file() and not p.name.startswith(".")]
            data = [p for p in found if p.suffix.lower() in DATA_SUFFIXES]
            chosen = data or [p for p in found if p.suffix.lower() in TEXT_SUFFIXES]
            if not chosen:
                raise InputError(f"no .jsonl, .csv, .txt or .md files in {path}")
            files.extend(chosen)
        elif path.is_file():
            _reader(path)
            files.append(path)
        else:
            raise InputError(f"no such file or folder: {raw}")
    return files


def _reader(path: Path) -> Callable[[Path], Iterator[Item]]:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return read_jsonl
    if suffix == ".csv":
        return read_csv
    if suffix in TEXT_SUFFIXES:
        return read_text_file
    raise InputError(f"{path}: unsupported file type {suffix or '(none)'}; use .jsonl, .csv, .txt or .md")


def read_stream(stream: BinaryIO, name: str) -> Iterator[Item]:
    """JSONL or CSV from a byte stream, told apart by the first non-blank byte."""
    data = stream.read().removeprefix(codecs.BOM_UTF8)
    kind = _jsonl_lines if data.lstrip()[:1] == b"{" else _csv_rows
    yield from kind(io.BytesIO(data), name)


def read_jsonl(path: Path) -> Iterator[Item]:
    """One record per non-blank line of a JSONL file."""
    with open(path, "rb") as f:
        yield from _jsonl_lines(f, str(path))


def read_csv(path: Path) -> Iterator[Item]:
    """One record per row of a CSV file with a header."""
    with open(path, "rb") as f:
        yield from _csv_rows(f, str(path))


def _jsonl_lines(f: BinaryIO, name: str) -> Iterator[Item]:
    offset = 0  # of the line's first byte in the file
    for lineno, raw in enumerate(f, 1):
        line_offset, offset = offset, offset + len(raw)
        if not raw.strip():
            continue
        origin = f"{name}:{lineno}"
        try:
            fields = json.loads(raw.decode("utf-8-sig"))  # -sig: a byte-order mark (Windows tools) is not text
        except UnicodeDecodeError as exc:
            yield BadRecord(origin, not_utf8(raw[exc.start], line_offset + exc.start))
            continue
        except json.JSONDecodeError as exc:
            yield BadRecord(origin, f"invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(fields, dict):
            yield BadRecord(origin, f"expected a JSON object, got {type(fields).__name__}")
            continue
        yield _parsed(fields, origin)


def _csv_rows(f: BinaryIO, name: str) -> Iterator[Item]:
    # surrogateescape keeps bytes that are not UTF-8 as lone surrogates, so one bad row can be found and skipped
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))  # the default 128 KiB is one long article
    # utf-8-sig: a byte-order mark (Excel, Windows tools) would otherwise become part of the first column's name
    text = io.TextIOWrapper(f, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.DictReader(text)
    header = reader.fieldnames or []
    if "body" not in header:
        raise InputError(f"{name}: the CSV header needs a 'body' column (found: {', '.join(header) or 'nothing'})")
    start = reader.line_num + 1
    for row in _csv_dicts(reader, name):
        origin = f"{name}:{start}"
        start = reader.line_num + 1
        values = [v for v in row.values() if isinstance(v, str)]
        bad = next((ch for v in values for ch in v if "\udc80" <= ch <= "\udcff"), None)
        if bad is not None:  # surrogateescape kept the byte as U+DC80 + byte
            yield BadRecord(origin, not_utf8(ord(bad) - 0xDC00))
        elif None in row:
            yield BadRecord(origin, f"more fields than the header's {len(header)}")
        else:
            yield _parsed(dict(row), origin)


def _csv_dicts(reader: csv.DictReader, name: str) -> Iterator[dict]:
    """The reader's rows; a CSV the csv module cannot parse (e.g. a broken quote) is an InputError at its line."""
    try:
        yield from reader
    except csv.Error as exc:
        raise InputError(f"{name}:{reader.line_num}: unreadable CSV ({exc})") from None


def read_text_file(path: Path) -> Iterator[Item]:
    """One article: the first non-blank line is the title (a Markdown `#` is dropped), the rest the body."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        yield BadRecord(f"{path}:{line}", not_utf8(data[exc.start], exc.start))
        return
    lines = text.strip().splitlines()
    title = lines[0].lstrip("#").strip() if lines else ""
    body = "\n".join(lines[1:]).strip()
    yield _parsed({"title": title, "body": body}, f"{path}:1")


def _parsed(fields: dict, origin: str) -> Item:
    try:
        return parse_record(fields, origin)
    except RecordError as exc:
        return BadRecord(origin, str(exc))


def not_utf8(byte: int, offset: int | None = None) -> str:
    """Why a record with a byte that is not UTF-8 is skipped, and how to fix the file."""
    where = f" at byte {offset} of the file" if offset is not None else ""
    return (f"not UTF-8 text (byte 0x{byte:02X}{where}): save the file as UTF-8 (Excel: \"CSV UTF-8\"), or convert "
            "it, e.g. iconv -f cp1252 -t utf-8 IN > OUT")


def read_aliases(path: str) -> dict[str, str]:
    """An alias table file: a JSON object {"alias": "canonical name"} (search/store/names.py). Raises InputError
    naming the file and what to fix."""
    try:
        table = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"--aliases {path}: cannot read it ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"--aliases {path}: not a UTF-8 JSON file ({exc})") from None
    if not isinstance(table, dict) or not all(isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip()
                                              for k, v in table.items()):
        raise InputError(f'--aliases {path}: expected a JSON object of names, {{"U.S.": "United States", ...}}')
    return table
