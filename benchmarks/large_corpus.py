"""Write a large article file from the real data sets, for the 100k-passage store of the search benchmark.

Articles: every SQuAD v1.1 training paragraph (18,896; title = its Wikipedia page) and every BBC News training
article (1,781). Indexed with short passages this passes 100k passages while the encoder work stays within what
a 2-core laptop does in about half an hour:

    python benchmarks/large_corpus.py --out stores/large.jsonl
    news-index add stores/large.jsonl --store stores/large --passage-tokens 48
    python benchmarks/bench_search.py --store stores/large
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Iterator

SQUAD_TRAIN = "qa_extra/squad11_train_from_explorer/train-v1.1.from-explorer.json"
BBC_TRAIN = "bbc_news/train.jsonl"


def squad_articles(path: Path) -> Iterator[dict]:
    """One article per paragraph: the unit a question is asked about."""
    for page in json.loads(path.read_text(encoding="utf-8"))["data"]:
        title = page["title"].replace("_", " ")
        for n, paragraph in enumerate(page["paragraphs"]):
            yield {"id": f"squad-{page['title']}-{n}", "title": title, "body": paragraph["context"],
                   "source": "Wikipedia (SQuAD)", "categories": []}


def bbc_articles(path: Path) -> Iterator[dict]:
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        yield {"id": f"bbc-{record['id']}", "title": record["title"], "body": record["body"], "source": "BBC News",
               "categories": [record["category"]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data", help="the shared data folder")
    parser.add_argument("--out", required=True, help="JSONL file to write")
    args = parser.parse_args()
    data, out = Path(args.data), Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("w", encoding="utf-8") as f:
        for article in [*squad_articles(data / SQUAD_TRAIN), *bbc_articles(data / BBC_TRAIN)]:
            f.write(json.dumps(article, ensure_ascii=False) + "\n")
            count += 1
    print(f"wrote {count} articles to {out}")


if __name__ == "__main__":
    main()
