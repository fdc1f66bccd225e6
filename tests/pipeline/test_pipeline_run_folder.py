"""A run folder is a transaction: one run at a time, and export refuses a folder that is not whole.

Kills happen at named pause points (``CURATION_PAUSE_AT``, see ``run_folder.pause_point``): the run, in a
forked child, writes a marker file when it reaches the point and waits there; the test then kills it with
SIGKILL. No timing guesses.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
from pathlib import Path

import orjson
import pytest

from curation import run_folder
from curation.cli import main
from curation.exporters import export_run
from curation.run_folder import RunFolderError

POINTS = ["after_begin", "per_record", "before_swap", "between_swaps", "before_manifest"]


def _data(path: Path, n: int, salt: str) -> Path:
    lines = [orjson.dumps({"id": f"{salt}{i}", "messages": [
        {"role": "user", "content": f"{salt} question number {i}: how do rivers {i * 7} form?"},
        {"role": "assistant", "content": f"{salt} answer {i}: water {i * 13} carves the valley over time."}]})
        for i in range(n)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _run_args(data: Path, out: Path) -> list[str]:
    return ["run", "-i", str(data), "--out", str(out), "-q", "--export", "none", "--workers", "1"]


def _child(args: list[str], env: dict[str, str]) -> None:
    os.environ.update(env)
    os._exit(main(args))


def _start_paused(args: list[str], point: str, marker: Path) -> multiprocessing.Process:
    context = multiprocessing.get_context("fork")
    child = context.Process(target=_child, args=(args, {"CURATION_PAUSE_AT": point,
                                                        "CURATION_PAUSE_FILE": str(marker)}))
    child.start()
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.is_alive(), f"the run ended before reaching {point}"
        assert time.monotonic() < deadline, f"the run never reached {point}"
        time.sleep(0.02)
    return child


def _consistent(run: Path) -> None:
    """Either export refuses the folder, or everything in it agrees with the manifest."""
    try:
        export_run(run, ["openai"])
    except RunFolderError as exc:
        assert "incomplete" in str(exc) or "does not match" in str(exc) or "missing" in str(exc)
        return
    manifest = run_folder.verify(run)
    report = orjson.loads((run / "report.json").read_bytes())
    lines = {name: entry["lines"] for name, entry in manifest["files"].items()}
    assert sum(v for k, v in lines.items() if k.startswith("splits/")) == report["records_out"]
    assert sum(lines.values()) == report["records_in"] == manifest["records"]["in"]


@pytest.fixture
def first_run(tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "run"
    assert main(_run_args(_data(tmp_path / "old.jsonl", 40, "old"), out)) == 0
    run_folder.verify(out)
    return out, _data(tmp_path / "new.jsonl", 60, "new")


@pytest.mark.parametrize("point", POINTS)
def test_kill_during_rerun_never_leaves_a_mixed_folder(first_run: tuple[Path, Path], tmp_path: Path,
                                                       point: str) -> None:
    out, new = first_run
    child = _start_paused(_run_args(new, out), point, tmp_path / "marker")
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    with pytest.raises(RunFolderError, match="incomplete"):
        run_folder.verify(out)  # the manifest went first: the folder says it is not whole
    _consistent(out)
    # The next run takes over the dead run's lock, cleans its leftovers and completes.
    assert main(_run_args(new, out)) == 0
    manifest = run_folder.verify(out)
    assert manifest["records"]["in"] == 60
    assert not list(out.glob("splits/*.tmp")) and not (out / ".work").exists()
    _consistent(out)


def test_second_run_into_a_busy_folder_is_refused(first_run: tuple[Path, Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out, new = first_run
    marker = tmp_path / "marker"
    child = _start_paused(_run_args(new, out), "per_record", marker)
    try:
        assert main(_run_args(new, out)) == 2
        err = capsys.readouterr().err
        assert "in use by another `curate run`" in err and str(child.pid) in err and len(err.splitlines()) == 1
    finally:
        marker.unlink()  # let the first run go on
        child.join(60)
    assert child.exitcode == 0
    assert run_folder.verify(out)["records"]["in"] == 60  # the first run completed intact
    assert not (out / run_folder.LOCK).exists()


def test_stale_lock_of_a_dead_process_is_taken_over(first_run: tuple[Path, Path]) -> None:
    out, new = first_run
    context = multiprocessing.get_context("fork")
    dead = context.Process(target=os._exit, args=(0,))
    dead.start()
    dead.join()
    (out / run_folder.LOCK).write_bytes(orjson.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    assert main(_run_args(new, out)) == 0


def test_lock_of_a_live_process_on_another_host_is_respected(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / run_folder.LOCK).write_bytes(orjson.dumps({"pid": 1, "host": "elsewhere"}))
    with pytest.raises(RunFolderError, match="elsewhere"):
        run_folder.acquire(out)


@pytest.mark.parametrize("damage", ["garbled", "other_version", "truncated_split", "bad_line", "missing"])
def test_export_refuses_a_damaged_folder(first_run: tuple[Path, Path], damage: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = first_run
    manifest = out / "manifest.json"
    if damage == "garbled":
        manifest.write_bytes(manifest.read_bytes()[:40])
    elif damage == "other_version":
        data = orjson.loads(manifest.read_bytes())
        data["manifest_version"] = 99
        manifest.write_bytes(orjson.dumps(data))
    elif damage == "truncated_split":
        train = out / "splits" / "train.jsonl"
        train.write_bytes(b"".join(train.read_bytes().splitlines(keepends=True)[:-3]))
    elif damage == "bad_line":
        with (out / "splits" / "train.jsonl").open("ab") as fh:
            fh.write(b"42\nnull\n")
    else:
        manifest.unlink()
    assert main(["export", str(out), "--to", "openai"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "re-run" in err
    assert not (out / "exports" / "openai").exists()


def test_stale_export_staging_is_cleaned(first_run: tuple[Path, Path]) -> None:
    out, _ = first_run
    stale = out / "exports" / ".openai.tmp-999999999"
    stale.mkdir(parents=True)
    (stale / "train.jsonl").write_bytes(b"{}\n")
    try:
        export_run(out, ["openai"])
    except Exception:  # noqa: BLE001 - too few examples for OpenAI is fine here: cleaning comes first
        pass
    assert not stale.exists()


def test_same_file_twice_is_read_once(tmp_path: Path) -> None:
    data = _data(tmp_path / "a.jsonl", 12, "x")
    out = tmp_path / "run"
    assert main(["run", "-i", str(data), "-i", str(data), "-i", str(tmp_path), "--out", str(out), "-q",
                 "--export", "none"]) == 0
    assert run_folder.verify(out)["records"]["in"] == 12
