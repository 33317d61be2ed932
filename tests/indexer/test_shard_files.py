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


def test_the_folders_go_when_nothing_waits_in_them(tmp_path: Path) -> None:
    shards = tmp_path / "shards"
    for model in ("m1", "m2"):
        (shards / model).mkdir(parents=True)
    write_atomic(shards / "m2" / "a.parquet", b"x")  # another model's shard, waiting
    drop_spent_parts(shards / "m1")
    assert not (shards / "m1").exists() and (shards / "m2" / "a.parquet").exists()
    (shards / "m2" / "a.parquet").unlink()
    drop_spent_parts(shards / "m2")
    assert not shards.exists() and tmp_path.exists()
    drop_spent_parts(shards / "m3")  # a folder no run made: nothing to do
