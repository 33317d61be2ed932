"""The README opens with the two set-up commands, each labelled in its own block, and CI runs the second."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_opens_with_two_labelled_commands_and_ci_runs_the_test_one() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    before_manual = text.split("\n## ", 1)[0]
    blocks, last = [], 0
    for match in re.finditer(r"```bash\n(.+?)\n```", before_manual, re.S):
        labels = re.findall(r"\*\*(.+?)\*\*", before_manual[last:match.start()])  # the label just above it
        blocks.append((labels[-1] if labels else None, match.group(1)))
        last = match.end()
    assert [label for label, _ in blocks] == ["Run it", "Test it"]
    run, test = (command for _, command in blocks)
    assert "\n" not in run and "\n" not in test  # one command each: pasting one starts one thing
    assert "news-index add data/sample" in run and "news-search serve --host 127.0.0.1" in run
    assert test.endswith("scripts/test")
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
