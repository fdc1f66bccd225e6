"""A run folder is a transaction: one run at a time, and export refuses a folder that is not whole.

Kills happen at named pause points (``CURATION_PAUSE_AT``, see ``run_folder.pause_point``): the run, in a
forked child, writes a marker file when it reaches the point and waits there; the test then kills it with
SIGKILL. No timing guesses.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from interrupt import start_paused

from curation import run_folder
from curation.cli import main
from curation.exporters import export_run
from curation.run_folder import RunFolderError

POINTS = ["after_begin", "per_record", "global_decisions", "writing_splits", "writing_rejects", "before_swap",
          "between_swaps", "before_manifest"]
NEW_RECORDS = 68  # 60 distinct + 8 exact duplicates (so the global stages reject some and rejects get written)


def _data(path: Path, n: int, salt: str, dups: int = 0) -> Path:
    lines = [orjson.dumps({"id": f"{salt}{i}", "messages": [
        {"role": "user", "content": f"{salt} question number {i}: how do rivers {i * 7} form?"},
        {"role": "assistant", "content": f"{salt} answer {i}: water {i * 13} carves the valley over time."}]})
        for i in range(n)]
    lines += [orjson.dumps({"id": f"{salt}dup{i}", **{k: v for k, v in orjson.loads(lines[i]).items() if k != "id"}})
              for i in range(dups)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _run_args(data: Path, out: Path) -> list[str]:
    return ["run", "-i", str(data), "--out", str(out), "-q", "--export", "none", "--workers", "1"]


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
    return out, _data(tmp_path / "new.jsonl", 60, "new", dups=8)


@pytest.mark.parametrize("point", POINTS)
def test_kill_during_rerun_never_leaves_a_mixed_folder(first_run: tuple[Path, Path], tmp_path: Path,
                                                       point: str) -> None:
    out, new = first_run
    child = start_paused(_run_args(new, out), point, tmp_path / "marker")
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    with pytest.raises(RunFolderError, match="incomplete"):
        run_folder.verify(out)  # the manifest went first: the folder says it is not whole
    _consistent(out)
    # The next run takes over the dead run's lock, cleans its leftovers and completes.
    assert main(_run_args(new, out)) == 0
    manifest = run_folder.verify(out)
    assert manifest["records"]["in"] == NEW_RECORDS
    assert not list(out.glob("splits/*.tmp")) and not (out / ".work").exists()
    _consistent(out)


def test_second_run_into_a_busy_folder_is_refused(first_run: tuple[Path, Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out, new = first_run
    marker = tmp_path / "marker"
    child = start_paused(_run_args(new, out), "per_record", marker)
    try:
        assert main(_run_args(new, out)) == 2
        err = capsys.readouterr().err
        assert "in use by another `curate run`" in err and str(child.pid) in err and len(err.splitlines()) == 1
    finally:
        marker.unlink()  # let the first run go on
        child.join(60)
    assert child.exitcode == 0
    assert run_folder.verify(out)["records"]["in"] == NEW_RECORDS  # the first run completed intact
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


# ------------------------------------------------------------------ kill -9 of a real `curate run` process

KILL_POINTS = ["per_record", "global_decisions", "writing_splits", "writing_rejects", "before_manifest"]
REPO = Path(__file__).resolve().parents[2]


def _curate(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "curation.cli", *args], capture_output=True, text=True,
                          timeout=180, env={**os.environ, "PYTHONPATH": str(REPO), **env})


def _sealed_and_counted(run: Path) -> dict[str, int]:
    """The folder agrees with itself: every file's lines and sha256 equal the manifest's, recomputed here
    independently, and the counts equal the manifest's and the report's. Returns lines per sealed file."""
    manifest = orjson.loads((run / "manifest.json").read_bytes())
    files = {p.relative_to(run).as_posix(): p for p in [*run.glob("splits/*.jsonl"), run / "rejects.jsonl"]}
    assert set(files) == set(manifest["files"])
    lines = {}
    for name, path in files.items():
        blob = path.read_bytes()
        assert manifest["files"][name]["sha256"] == hashlib.sha256(blob).hexdigest(), name
        assert manifest["files"][name]["lines"] == blob.count(b"\n"), name
        lines[name] = blob.count(b"\n")
        assert all(isinstance(orjson.loads(line), dict) for line in blob.splitlines()), name
    report = orjson.loads((run / "report.json").read_bytes())
    out = sum(v for k, v in lines.items() if k.startswith("splits/"))
    assert out == manifest["records"]["out"] == report["records_out"]
    assert out + lines["rejects.jsonl"] == manifest["records"]["in"] == report["records_in"]
    return lines


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_9_of_a_rerun_then_curate_export(first_run: tuple[Path, Path], point: str) -> None:
    """SIGKILL of a `curate run` re-run into a complete folder (the run kills itself at the named moment):
    `curate export` then refuses the folder (never exports a mix of old and new files); the next run cleans
    the leftovers and `curate export` accepts a folder whose files match the manifest."""
    out, new = first_run
    killed = _curate(_run_args(new, out), CURATION_KILL_AT=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    leftovers = {p.name for p in out.rglob("*") if ".tmp" in p.name or p.name in (".work", ".lock")}
    if point in ("writing_splits", "writing_rejects"):
        assert leftovers >= {"train.jsonl.tmp", ".work", ".lock"}, leftovers
    # (the export takes over the dead run's lock, as a run would, and gives it back)
    refused = _curate(["export", str(out), "--to", "openai"])
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "incomplete" in refused.stderr, refused.stderr
    assert not (out / "exports").exists()
    # The next run takes over the dead run's lock, cleans the staging files and completes.
    again = _curate(_run_args(new, out))
    assert again.returncode == 0, again.stderr
    assert not [p for p in out.rglob("*") if ".tmp" in p.name or p.name in (".work", ".lock")]
    lines = _sealed_and_counted(out)
    assert sum(lines.values()) == NEW_RECORDS and lines["rejects.jsonl"] >= 8  # the 8 duplicates
    exported = _curate(["export", str(out), "--to", "openai,hf"])
    assert exported.returncode == 0, exported.stderr
    train = (out / "exports" / "openai" / "sft" / "train.jsonl").read_bytes().count(b"\n")
    assert train == lines["splits/train.jsonl"]


def test_a_run_never_deletes_files_of_a_folder_no_run_made(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `curate run --out .` in a project folder removed the user's own exports/ and report.md with exit 0
    project = tmp_path / "proj"
    (project / "exports" / "2025").mkdir(parents=True)
    (project / "exports" / "2025" / "q4.csv").write_text("important\n", encoding="utf-8")
    (project / "report.md").write_text("# my notes\n", encoding="utf-8")
    data = _data(tmp_path / "data.jsonl", 20, "p")
    assert main(_run_args(data, project)) == 2
    err = capsys.readouterr().err
    assert "holds exports, report.md but no earlier curate run" in err and "choose an empty or new --out" in err
    assert (project / "exports" / "2025" / "q4.csv").read_text(encoding="utf-8") == "important\n"
    assert (project / "report.md").read_text(encoding="utf-8") == "# my notes\n"
    assert sorted(p.name for p in project.iterdir()) == ["exports", "report.md"]  # no lock or work folder left
    # an empty folder, or one holding only other files, is fine; and a run folder is replaced on a re-run
    (project / "exports" / "2025" / "q4.csv").unlink()
    (project / "exports" / "2025").rmdir()
    (project / "report.md").unlink()
    (project / "notes.txt").write_text("mine\n", encoding="utf-8")
    assert main(_run_args(data, project)) == 0
    assert main(_run_args(data, project)) == 0
    assert (project / "notes.txt").read_text(encoding="utf-8") == "mine\n"
