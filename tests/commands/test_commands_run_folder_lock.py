"""`curate export` and `curate retarget` hold the run folder's lock as `curate run` does: none of the three
works in a folder another one is changing.

The holder is a forked child paused at a named point (``CURATION_PAUSE_AT``, see ``run_folder.pause_point``):
no timing guesses. An export that read a run's half-replaced splits called the empty export "written" (exit 0).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from interrupt import start_paused

from curation import run_folder
from curation.cli import main

REAL_FILE = "hiyouga__LLaMA-Factory/identity.json"  # 91 real conversations


def _run_args(real_dir: Path, out: Path) -> list[str]:
    return ["run", "-i", str(real_dir / REAL_FILE), "--out", str(out), "-q", "--export", "none", "--workers", "1"]


@pytest.fixture
def paused(tmp_path: Path) -> Iterator[object]:
    """Start ``curate ARGS`` in a forked child paused at ``point``; it goes on when the test ends."""
    started: list[tuple[multiprocessing.Process, Path]] = []

    def start(args: list[str], point: str) -> multiprocessing.Process:
        marker = tmp_path / f"paused-{len(started)}"
        child = start_paused(args, point, marker)
        started.append((child, marker))
        return child

    yield start
    for child, marker in started:
        marker.unlink(missing_ok=True)
        child.join(60)


@pytest.fixture
def finished_run(tmp_path: Path, real_dir: Path) -> Path:
    out = tmp_path / "run"
    assert main(_run_args(real_dir, out)) == 0
    return out


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("command", [["export", "--to", "openai"], ["retarget", "--to", "together"]])
def test_export_and_retarget_are_refused_while_a_run_holds_the_folder(
        command: list[str], finished_run: Path, real_dir: Path, paused: object,
        capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    run = paused(_run_args(real_dir, finished_run), "per_record")  # type: ignore[operator]
    assert main([command[0], str(finished_run), *command[1:]]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "in use by another `curate run`" in line and f"pid {run.pid}" in line, line
    assert not (finished_run / "exports").exists()  # nothing was written beside the run's half-done splits


@pytest.mark.parametrize("command,by", [(["export", "--to", "openai"], "curate export"),
                                        (["retarget", "--to", "together"], "curate retarget")])
def test_a_run_is_refused_while_an_export_holds_the_folder(
        command: list[str], by: str, finished_run: Path, real_dir: Path, paused: object,
        capsys: pytest.CaptureFixture[str]) -> None:
    exporter = paused([command[0], str(finished_run), *command[1:]], "export_locked")  # type: ignore[operator]
    capsys.readouterr()
    assert main(_run_args(real_dir, finished_run)) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"in use by another `{by}`" in line and f"pid {exporter.pid}" in line, line
    assert run_folder.verify(finished_run)  # the run the export reads is untouched


def test_a_second_export_into_a_folder_an_export_holds_is_refused(
        finished_run: Path, paused: object, capsys: pytest.CaptureFixture[str]) -> None:
    paused(["export", str(finished_run), "--to", "openai"], "export_locked")  # type: ignore[operator]
    capsys.readouterr()
    assert main(["export", str(finished_run), "--to", "hf"]) == 2
    assert "in use by another `curate export`" in _one_line(capsys.readouterr().err)


def test_the_export_at_the_end_of_a_run_keeps_the_runs_lock(finished_run: Path, real_dir: Path) -> None:
    # `curate run --export` exports under its own lock; the export must neither refuse it nor give it back
    args = _run_args(real_dir, finished_run)
    args[args.index("--export") + 1] = "hf"
    assert main(args) == 0
    assert (finished_run / "exports" / "hf").is_dir()
    assert not (finished_run / run_folder.LOCK).exists()
    assert main(["export", str(finished_run), "--to", "hf"]) == 0
    assert not (finished_run / run_folder.LOCK).exists()
