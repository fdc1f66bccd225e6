"""Ctrl-C during `curate run`: exit 130, one line, no worker traceback, nothing that looks complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from curation.synthetic import write_jsonl

CURATE = [sys.executable, "-c", "import sys; from curation.cli import main; sys.exit(main())"]


def _start(corpus: Path, run_dir: Path) -> subprocess.Popen[bytes]:
    # A new session, so that SIGINT can go to the whole process group, workers included, as a terminal's
    # Ctrl-C does.
    return subprocess.Popen(
        [*CURATE, "run", "--input", str(corpus), "--out", str(run_dir), "--export", "none", "--quiet",
         "--workers", "2", "--set", "runner.executor=processes", "--set", "runner.batch_size=64"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )


def _interrupt_in_per_record_phase(proc: subprocess.Popen[bytes], run_dir: Path) -> tuple[int, str]:
    def spilled() -> bool:  # a worker has written kept records of its shard
        return any(p.stat().st_size > 0 for p in run_dir.glob(".work/shards/*/kept.jsonl"))

    deadline = time.monotonic() + 60
    while not spilled():
        assert proc.poll() is None, f"the run ended before it could be interrupted: {proc.communicate()}"
        assert time.monotonic() < deadline, "the run never reached the per-record phase"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode("utf-8", "replace")


def test_sigint_exits_130_with_one_line_and_nothing_complete(tmp_path: Path,
                                                              sentence_pool: dict[str, list[str]]) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(corpus, 20000, sentence_pool, seed=1)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # A finished run's outputs are there first: an interrupted re-run must not leave them beside partial splits.
    (run_dir / "manifest.json").write_text("{}", encoding="utf-8")
    (run_dir / "report.json").write_text("{}", encoding="utf-8")

    code, err = _interrupt_in_per_record_phase(_start(corpus, run_dir), run_dir)

    assert code == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted"), err
    assert "re-run" in lines[0]
    left = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*"))
    # Only the marker and the workers' shards (a re-run with the same config and inputs resumes from them).
    assert [p for p in left if not p.startswith(".work/shards")] == [".work", ".work/INTERRUPTED"]

    # The next run into the folder says what it found before it starts over.
    small = tmp_path / "small.jsonl"
    write_jsonl(small, 40, sentence_pool, seed=2)
    rerun = subprocess.run(
        [*CURATE, "run", "--input", str(small), "--out", str(run_dir), "--export", "none",
         "--set", "runner.progress=false"],
        capture_output=True, text=True, timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"the previous run in {run_dir} was interrupted: its partial outputs were removed" in rerun.stderr
    assert (run_dir / "manifest.json").exists() and not (run_dir / ".work").exists()


def _signal_when_spilled(proc: subprocess.Popen[bytes], run_dir: Path, send: Callable[[], None]) -> tuple[int, str]:
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size > 0 for p in run_dir.glob(".work/shards/*/kept.jsonl")):
        assert proc.poll() is None, f"the run ended before it could be stopped: {proc.communicate()}"
        assert time.monotonic() < deadline, "the run never reached the per-record phase"
        time.sleep(0.05)
    send()
    _out, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode("utf-8", "replace")


def _one_clean_line(err: str) -> str:
    assert "Traceback" not in err and "Exception ignored" not in err and "KeyboardInterrupt" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("whole_group", [False, True], ids=["kill-pid", "kill-group"])
def test_sigterm_exits_143_and_marks_the_folder_like_ctrl_c(tmp_path: Path, sentence_pool: dict[str, list[str]],
                                                            whole_group: bool) -> None:
    # `kill PID` (a scheduler's time limit) used to kill the run outright: no marker, workers writing into a
    # closed pipe. A container stop sends SIGTERM to every process, workers included.
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(corpus, 20000, sentence_pool, seed=1)
    run_dir = tmp_path / "run"
    proc = _start(corpus, run_dir)
    code, err = _signal_when_spilled(
        proc, run_dir,
        lambda: os.killpg(proc.pid, signal.SIGTERM) if whole_group else os.kill(proc.pid, signal.SIGTERM))

    assert code == 143
    line = _one_clean_line(err)
    assert line.startswith("terminated (SIGTERM)") and "re-run" in line
    assert (run_dir / ".work" / "INTERRUPTED").read_text(encoding="utf-8").startswith("this run was terminated")
    assert not (run_dir / "manifest.json").exists() and not (run_dir / "splits").exists()


def test_a_second_ctrl_c_during_the_clean_up_changes_nothing(tmp_path: Path,
                                                             sentence_pool: dict[str, list[str]]) -> None:
    # An impatient user presses Ctrl-C twice: the second one used to cut the clean-up of the first short and
    # print "Exception ignored" tracebacks.
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(corpus, 20000, sentence_pool, seed=1)
    run_dir = tmp_path / "run"
    proc = _start(corpus, run_dir)

    def twice() -> None:
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)

    code, err = _signal_when_spilled(proc, run_dir, twice)

    assert code == 130
    assert _one_clean_line(err).startswith("interrupted")
    assert (run_dir / ".work" / "INTERRUPTED").exists() and not (run_dir / "manifest.json").exists()


def test_ctrl_c_while_exporting_leaves_no_manifest_beside_a_partial_export(
        tmp_path: Path, sentence_pool: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    # The manifest is written when the splits are; the export and the report come after it. An interrupt there
    # left a sealed-looking folder with half an export and no report.
    from curation import report
    from curation.config import load_config
    from curation.errors import Interrupted
    from curation.pipeline.finish import finish_run
    from curation.pipeline.runner import run_pipeline

    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(corpus, 60, sentence_pool, seed=3)
    run_dir = tmp_path / "run"
    config = load_config(None, values={"inputs": [str(corpus)], "out": str(run_dir),
                                       "runner.executor": "inprocess", "export.formats": ["openai"]})
    result = run_pipeline(config, quiet=True)
    assert (run_dir / "manifest.json").exists()

    def ctrl_c(_run_dir: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "render_report", ctrl_c)
    with pytest.raises(Interrupted) as stopped:
        finish_run(result, config)

    assert stopped.value.exit_code == 130
    assert "re-run the same command" in str(stopped.value)
    assert not (run_dir / "manifest.json").exists()
    assert not (run_dir / "exports").exists() and not (run_dir / "splits").exists()
    assert (run_dir / ".work" / "INTERRUPTED").exists()
    assert not (run_dir / ".lock").exists()  # the folder's lock is given back
