"""Phase 1 over shards: byte ranges numbered as the whole file, and outputs that do not depend on the shard
size or the worker count."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from curation import readers as readers_mod
from curation.config import load_config
from curation.pipeline import columns
from curation.pipeline.columns import UniqueIds
from curation.pipeline.runner import run_pipeline
from curation.pipeline.shards import iter_shard, plan_shards

OUTPUTS = ["splits/train.jsonl", "splits/validation.jsonl", "splits/test.jsonl", "rejects.jsonl", "report.json"]


def _line(i: int, rid: str | None = None, text: str | None = None) -> bytes:
    record = {"messages": [{"role": "user", "content": text or f"question number {i} about topic {i * 7}"},
                           {"role": "assistant", "content": f"answer {i}: the value is {i * 13} and more words"}]}
    if rid is not None:
        record["id"] = rid
    return orjson.dumps(record)


def _awkward_jsonl(path: Path) -> Path:
    """A BOM, blank and whitespace lines, broken JSON, repeated ids, exact duplicates, no ids."""
    lines = [b"\xef\xbb\xbf" + _line(0, "a")]
    for i in range(1, 120):
        if i % 17 == 0:
            lines.append(b"")
        if i % 23 == 0:
            lines.append(b"   \t")
        if i % 19 == 0:
            lines.append(b'{"messages": [broken')
        rid = "dup" if i % 11 == 0 else ("a" if i % 29 == 0 else (None if i % 13 == 0 else f"r{i}"))
        lines.append(_line(i, rid, "the same question again" if i % 9 == 0 else None))
    lines.append(_line(1000, "dup~2"))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _files(path: Path) -> list[tuple[Path, str | None, None, str]]:
    probed = readers_mod.probe_input(path)
    assert not isinstance(probed, readers_mod.FileProblem)
    return [(path, probed[1], None, probed[0])]


@pytest.mark.parametrize("shard_bytes", [1, 300, 5000])
def test_byte_ranges_read_the_same_payloads_with_the_same_lines_and_indices(tmp_path: Path,
                                                                           shard_bytes: int) -> None:
    path = _awkward_jsonl(tmp_path / "a.jsonl")
    whole = list(readers_mod.iter_payloads(path, "jsonl"))
    shards = plan_shards(_files(path), shard_bytes)
    assert len(shards) > 1 and shards[0].start == 0 and shards[-1].end == path.stat().st_size
    assert all(a.end == b.start for a, b in zip(shards, shards[1:], strict=False))
    assert [p for shard in shards for p in iter_shard(shard)] == whole


def test_small_compressed_and_array_files_are_one_shard_each(tmp_path: Path, real_dir: Path) -> None:
    path = _awkward_jsonl(tmp_path / "a.jsonl")
    gz = next(real_dir.rglob("*.jsonl.gz"))
    shards = plan_shards(_files(path) + _files(gz), 10 ** 9)
    assert [(s.file_no, s.start) for s in shards] == [(0, None), (1, None)]
    assert len(plan_shards(_files(gz), 100)) == 1  # a compressed file is never cut


def test_a_utf16_file_is_never_cut_and_runs_like_its_utf8_copy(tmp_path: Path) -> None:
    # byte ranges of a UTF-16 file would cut characters in half; it is read whole, decoded
    (tmp_path / "plain").mkdir()
    plain = _awkward_jsonl(tmp_path / "plain" / "a.jsonl")
    wide = tmp_path / "wide" / "a.jsonl"
    wide.parent.mkdir()
    wide.write_bytes(plain.read_bytes().decode("utf-8-sig").encode("utf-16"))
    assert len(plan_shards(_files(wide), 300)) == 1
    one = _run([plain], tmp_path / "one", executor="inprocess", shard_bytes=300)
    two = _run([wide], tmp_path / "two", executor="inprocess", shard_bytes=300)
    for name in [*OUTPUTS[:3], "rejects.jsonl"]:  # the same records and rejects, from the other folder
        assert (one / name).read_bytes() == (two / name).read_bytes().replace(b"/wide/", b"/plain/"), name


def _run(inputs: list[Path], out: Path, **runner: object) -> Path:
    config = load_config(None, values={
        "inputs": [str(p) for p in inputs], "out": str(out), "export.formats": [], "runner.progress": False,
        "split.train": 0.8, "split.test": 0.1, **{f"runner.{k}": v for k, v in runner.items()}})
    run_pipeline(config, quiet=True)
    return out


def test_outputs_are_byte_identical_whatever_the_shard_size_and_worker_count(tmp_path: Path,
                                                                            real_dir: Path) -> None:
    inputs = [_awkward_jsonl(tmp_path / "a.jsonl"), real_dir / "lm-sys__FastChat", real_dir / "anthropics__hh-rlhf"]
    one = _run(inputs, tmp_path / "one", executor="inprocess")
    tiny = _run(inputs, tmp_path / "tiny", executor="inprocess", shard_bytes=700)
    two = _run(inputs, tmp_path / "two", executor="processes", workers=2, shard_bytes=20_000)
    for name in OUTPUTS:
        assert (one / name).read_bytes() == (tiny / name).read_bytes(), name
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    rejects = [orjson.loads(line) for line in (one / "rejects.jsonl").read_bytes().splitlines()]
    ids = [r["id"] for r in rejects] + [orjson.loads(line)["id"] for s in OUTPUTS[:3]
                                        for line in (one / s).read_bytes().splitlines()]
    assert len(ids) == len(set(ids))  # ids unique over splits and rejects, across shards
    assert {"dup", "dup~2", "dup~3", "dup~2~2"} <= set(ids)
    broken = [r for r in rejects if r["source"]["path"].endswith("a.jsonl") and r["stage"] == "ingest"]
    assert broken and all(r["id"] == f"a.jsonl:{r['source']['line']}" for r in broken)
    assert not (one / ".work").exists()


def test_unique_ids_match_the_sequential_rule_and_survive_hash_collisions(monkeypatch) -> None:
    def sequential(bases: list[str]) -> list[str]:
        seen: set[str] = set()
        out = []
        for base in bases:
            uid, n = base, 2
            while uid in seen:
                uid, n = f"{base}~{n}", n + 1
            seen.add(uid)
            out.append(uid)
        return out

    batches = [["a", "b", "a"], ["a", "a~2", "c"], [], ["b~2", "b", "c", "a~3"]]
    for hashing in ("real", "colliding"):
        if hashing == "colliding":  # every id the same hash: only the exact check tells them apart
            monkeypatch.setattr(columns, "_hash", lambda value: 42)
        unique = UniqueIds()
        got = [uid for batch in batches for uid in unique.assign(batch)]
        assert got == sequential([b for batch in batches for b in batch]), hashing
        assert list(unique.store) == got


def test_default_shard_size_gives_two_workers_many_tasks_on_mid_size_inputs() -> None:
    from curation.pipeline.runner import auto_shard_bytes

    # A fixed 32 MB made 3 tasks of a 71 MB file: one worker ran the last alone for a third of the run.
    assert 71_000_000 // auto_shard_bytes(71_000_000) >= 30
    assert auto_shard_bytes(100_000) == 2_000_000  # small inputs: few tasks, each worth starting
    assert auto_shard_bytes(10_000_000_000) == 32_000_000  # big inputs: bounded memory per task
