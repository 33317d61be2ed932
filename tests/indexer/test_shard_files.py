"""The files --engine ray keeps between annotating and merging (the rows' round trip is tested through the engine,
tests/indexer/test_ray_engine.py)."""
from pathlib import Path

from indexer.shard_files import drop_spent_parts, write_atomic


def test_parts_go_with_their_shard_and_templates_go_at_the_end_of_a_run(tmp_path: Path) -> None:
    for name in ("a.parquet", "a.k1.part", "b.k1.part", "c.k0.part", "template.k1.faiss"):
        write_atomic(tmp_path / name, b"x")
    drop_spent_parts(tmp_path)
    # shard a still waits to be merged, so its part stays; b and c were merged (or their part is stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.k1.part", "a.parquet"]
    assert not list(tmp_path.glob("*.tmp"))
