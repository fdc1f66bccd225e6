"""A run interrupted in phase 1 resumes from the shards that completed (issue 14, item 3)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from interrupt import signal_at_pause

from curation import readers as readers_mod
from curation.config import load_config
from curation.errors import Interrupted
from curation.pipeline import runner
from curation.pipeline.runner import run_pipeline
from curation.synthetic import write_jsonl

OUTPUTS = ["splits/train.jsonl", "splits/validation.jsonl", "splits/test.jsonl", "rejects.jsonl", "report.json"]
CURATE = [sys.executable, "-c", "import sys; from curation.cli import main; sys.exit(main())"]
SHARD_BYTES = 6000


def _config(corpus: Path, out: Path, **values: Any) -> Any:
    return load_config(None, values={
        "inputs": [str(corpus)], "out": str(out), "export.formats": [], "runner.progress": False,
        "runner.executor": "inprocess", "runner.shard_bytes": SHARD_BYTES, "runner.batch_size": 16,
        "split.train": 0.8, "split.test": 0.1, **values})


@pytest.fixture
def corpus(tmp_path: Path, sentence_pool: dict[str, list[str]]) -> Path:
    path = tmp_path / "corpus.jsonl"
    write_jsonl(path, 300, sentence_pool, seed=3)
    return path


class _Shards:
    """Counts the shards really computed; raises KeyboardInterrupt (a Ctrl-C) before shard ``stop_at``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, stop_at: int | None = None) -> None:
        self.ran: list[int] = []
        real = runner.run_shard

        def run_shard(task: tuple[Any, str, int]) -> Any:
            if task[0].number == stop_at:
                raise KeyboardInterrupt
            self.ran.append(task[0].number)
            return real(task)

        monkeypatch.setattr(runner, "run_shard", run_shard)


def _ctrl_c_at(point: str) -> Any:
    def pause_point(name: str) -> None:
        if name == point:
            raise KeyboardInterrupt

    return pause_point


def _outputs(run_dir: Path) -> dict[str, bytes]:
    return {name: (run_dir / name).read_bytes() for name in OUTPUTS}


def _clean_outputs(corpus: Path, run_dir: Path) -> tuple[dict[str, bytes], int]:
    """An uninterrupted run into ``run_dir`` (then removed, so the next run starts in an empty folder)."""
    run_pipeline(_config(corpus, run_dir), quiet=True)
    outputs = _outputs(run_dir)
    shutil.rmtree(run_dir)
    probed = readers_mod.probe_input(corpus)
    assert not isinstance(probed, readers_mod.FileProblem)
    return outputs, len(runner.plan_shards([(corpus, probed[1], None, probed[0])], SHARD_BYTES))


def _interrupt(monkeypatch: pytest.MonkeyPatch, corpus: Path, run_dir: Path, stop_at: int, **values: Any) -> None:
    with monkeypatch.context() as m:
        _Shards(m, stop_at)
        with pytest.raises(Interrupted):
            run_pipeline(_config(corpus, run_dir, **values), quiet=True)
    done = sorted(int(p.parent.name) for p in run_dir.glob(".work/shards/*/done"))
    assert done == list(range(stop_at))


def test_ctrl_c_then_rerun_reuses_done_shards_and_writes_identical_outputs(
        tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    clean, n = _clean_outputs(corpus, run_dir)
    assert n >= 5, "the corpus must make several shards"
    (run_dir / "review.sqlite").parent.mkdir(parents=True, exist_ok=True)
    (run_dir / "review.sqlite").write_bytes(b"decisions")  # human review decisions survive every re-run

    _interrupt(monkeypatch, corpus, run_dir, stop_at=3)
    assert not (run_dir / "manifest.json").exists() and (run_dir / ".work" / "INTERRUPTED").exists()
    left = {p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*")}
    assert {p for p in left if not p.startswith(".work/shards")} == {".work", ".work/INTERRUPTED", "review.sqlite"}
    done_inodes = {k: os.stat(run_dir / ".work" / "shards" / str(k) / "done").st_ino for k in range(3)}

    # Resume, and stop again in phase 2 to look at the shard folders before the run removes .work.
    capsys.readouterr()
    with monkeypatch.context() as m:
        shards = _Shards(m)
        m.setattr(runner.run_folder, "pause_point", _ctrl_c_at("global_decisions"))
        with pytest.raises(Interrupted):
            run_pipeline(_config(corpus, run_dir))
    assert f"resuming: 3 of {n} shards already done" in capsys.readouterr().err
    assert shards.ran == list(range(3, n))  # the done shards were not computed again
    for k, inode in done_inodes.items():
        assert os.stat(run_dir / ".work" / "shards" / str(k) / "done").st_ino == inode

    # Every shard is done now: the next run computes none and writes what an uninterrupted run wrote.
    with monkeypatch.context() as m:
        shards = _Shards(m)
        run_pipeline(_config(corpus, run_dir))
    assert f"resuming: {n} of {n} shards already done" in capsys.readouterr().err
    assert shards.ran == []
    assert _outputs(run_dir) == clean
    assert (run_dir / "manifest.json").exists() and not (run_dir / ".work").exists()
    assert (run_dir / "review.sqlite").read_bytes() == b"decisions"


def _edited(data: bytes) -> bytes:
    """The same bytes with "a" and "e" swapped inside message texts: the same size, other content, valid rows."""
    swap = bytes.maketrans(b"ae", b"ea")
    return re.sub(rb'(?<="content":")(?:[^"\\]|\\.)*', lambda m: m.group(0).translate(swap), data)


def _cli_args(corpus: Path, run_dir: Path) -> list[str]:
    return ["run", "--input", str(corpus), "--out", str(run_dir), "--export", "none",
            "--set", "runner.progress=false", "--set", "runner.executor=inprocess",
            "--set", f"runner.shard_bytes={SHARD_BYTES}", "--set", "runner.batch_size=16",
            "--set", "split.train=0.8", "--set", "split.test=0.1"]


def test_killed_run_resumes_from_the_cli(tmp_path: Path, corpus: Path) -> None:
    run_dir = tmp_path / "run"
    clean, n = _clean_outputs(corpus, run_dir)
    args = [*CURATE, *_cli_args(corpus, run_dir)]
    killed = subprocess.run(args, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "CURATION_KILL_AT": "after_shard_1"})
    assert killed.returncode == -9, killed.stderr
    assert sorted(p.parent.name for p in run_dir.glob(".work/shards/*/done")) == ["0", "1"]

    rerun = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resuming: 2 of {n} shards already done" in rerun.stderr
    assert _outputs(run_dir) == clean


@pytest.mark.parametrize("change", ["config", "input", "eval_file", "no_resume"])
def test_a_changed_config_or_input_or_no_resume_starts_over(
        tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        sentence_pool: dict[str, list[str]], change: str) -> None:
    run_dir = tmp_path / "run"
    eval_file = tmp_path / "eval.jsonl"
    write_jsonl(eval_file, 5, sentence_pool, seed=9)
    values: dict[str, Any] = {"decontaminate.paths": [str(eval_file)]}
    _interrupt(monkeypatch, corpus, run_dir, 2, **values)
    if change == "eval_file":  # its content is not in the config hash
        write_jsonl(eval_file, 6, sentence_pool, seed=10)
    elif change == "config":
        values["split.seed"] = 12345
    elif change == "input":
        stat = corpus.stat()
        os.utime(corpus, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    capsys.readouterr()
    with monkeypatch.context() as m:
        shards = _Shards(m)
        run_pipeline(_config(corpus, run_dir, **values), resume=change != "no_resume")
    err = capsys.readouterr().err
    n = len(shards.ran)
    assert shards.ran == list(range(n)) and n >= 5  # every shard computed again
    assert "resuming" not in err
    if change != "no_resume":
        assert "starting over: the config or inputs changed" in err
    assert (run_dir / "manifest.json").exists() and not (run_dir / ".work").exists()


def test_a_folder_input_is_keyed_by_the_files_inside(tmp_path: Path) -> None:
    """A datasets folder (save_to_disk) keeps its own mtime when a file inside is rewritten in place: the
    resume key must see the file, or a re-run would reuse shards of the old data."""
    from curation.pipeline.shards import plan_key

    folder = tmp_path / "ds"
    (folder / "train").mkdir(parents=True)
    data = folder / "train" / "data-00000-of-00001.arrow"
    data.write_bytes(b"x" * 100)
    files = [(folder, "datasets", None, None)]
    before = plan_key("h", files, [], "v")
    stat = folder.stat()
    data.write_bytes(b"y" * 101)
    os.utime(folder, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert folder.stat().st_mtime_ns == stat.st_mtime_ns
    assert plan_key("h", files, [], "v") != before
    assert plan_key("h", files, [], "v") == plan_key("h", files, [], "v")


def test_an_input_rewritten_with_its_old_size_and_mtime_starts_over(
        tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`cp -p` or `rsync -t` of an edited file keeps size and mtime: only the content tells the shards are stale."""
    run_dir = tmp_path / "run"
    _interrupt(monkeypatch, corpus, run_dir, 3)
    stat = corpus.stat()
    data = corpus.read_bytes()
    edited = _edited(data)  # the same length, other text in every shard
    assert edited != data and len(edited) == len(data)
    corpus.write_bytes(edited)
    os.utime(corpus, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (corpus.stat().st_size, corpus.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    capsys.readouterr()
    with monkeypatch.context() as m:
        shards = _Shards(m)
        run_pipeline(_config(corpus, run_dir))
    err = capsys.readouterr().err
    assert "resuming" not in err
    assert f"input {corpus} changed (same size and mtime, different content)" in err
    assert shards.ran == list(range(len(shards.ran))) and len(shards.ran) >= 5  # every shard computed again
    resumed = _outputs(run_dir)
    fresh_dir = tmp_path / "fresh"
    run_pipeline(_config(corpus, fresh_dir), quiet=True)
    assert resumed == _outputs(fresh_dir)  # the edited text everywhere, nothing of the old shards
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    assert manifest["inputs"][0]["sha256"] == hashlib.sha256(edited).hexdigest()


def test_ctrl_c_then_cp_p_of_an_edited_input_starts_over_from_the_cli(tmp_path: Path, corpus: Path) -> None:
    run_dir = tmp_path / "run"
    edited_source = tmp_path / "edited.jsonl"
    edited_source.write_bytes(_edited(corpus.read_bytes()))
    code, err, _workers = signal_at_pause(_cli_args(corpus, run_dir), "after_shard_1", tmp_path)
    assert code == 130, err
    assert sorted(p.parent.name for p in run_dir.glob(".work/shards/*/done")) == ["0", "1"]
    stat = corpus.stat()
    shutil.copyfile(edited_source, corpus)
    os.utime(corpus, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as `cp -p` of an edit made with the old mtime
    rerun = subprocess.run([*CURATE, *_cli_args(corpus, run_dir)], capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr + rerun.stdout
    assert "resuming" not in rerun.stderr
    assert "(same size and mtime, different content)" in rerun.stderr
    clean, _n = _clean_outputs(corpus, tmp_path / "clean")
    assert _outputs(run_dir) == clean
    assert b'"content"' in clean["splits/train.jsonl"]  # the edited rows are valid: kept, not all rejected
