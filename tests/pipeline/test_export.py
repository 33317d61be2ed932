"""Export rows: a title a spreadsheet would run as a formula is written as text."""
from __future__ import annotations

import csv
import io
from dataclasses import replace

from search.pipeline.export import to_csv
from search.pipeline.records import SearchResponse
from tests.pipeline.test_weak import result


def test_formula_like_cells_are_written_as_text() -> None:
    rows = [replace(result("a", 0.9), title="=HYPERLINK(\"http://evil\")", source="@wire"),
            replace(result("b", 0.8), title="Plain - title")]
    response = SearchResponse("q", 2, 1, 10, 1, rows, {}, {"total": 1.0}, 2)
    read = list(csv.DictReader(io.StringIO(to_csv(response))))
    assert [(r["title"], r["source"]) for r in read] == [("'=HYPERLINK(\"http://evil\")", "'@wire"),
                                                        ("Plain - title", "")]
