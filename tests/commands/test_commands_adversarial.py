"""Regression tests for what scripts/adversarial.py found: each bad input, flag, folder or environment ends as
one error line and a non-zero exit (or a correct result), never a traceback or a hang."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from curation import run_folder
from curation.cli import main
from curation.ui_guard import check_serving, login_from_env

REPO = Path(__file__).resolve().parents[2]


def _data(path: Path, n: int = 12) -> Path:
    path.write_bytes(b"".join(orjson.dumps({"id": f"r{i}", "messages": [
        {"role": "user", "content": f"question {i}: why does river {i * 7} bend to the east?"},
        {"role": "assistant", "content": f"answer {i}: the valley {i * 13} slopes that way."}]}) + b"\n"
        for i in range(n)))
    return path


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _curate(args: list[str], tmp_path: Path, *, fsize: int | None = None, stdout: object = subprocess.PIPE,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "curation.cli", *args], cwd=tmp_path, env=env, text=True,
                          stdout=stdout, stderr=subprocess.PIPE, timeout=timeout, preexec_fn=limit)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def good_run(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    assert main(["run", "-i", str(_data(tmp_path / "good.jsonl", 40)), "--out", str(out), "-q", "--export",
                 "none", "--workers", "1"]) == 0
    return out


# ------------------------------------------------------------------------------------------ inputs


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "/dev/urandom"])
def test_run_on_a_special_file_finishes_and_says_so(tmp_path: Path, special: str) -> None:
    """A FIFO or endless device used to hang the run (hashing the input for the manifest never ended); nothing in
    it reads as a record, so the run exits 1."""
    path = special
    if special == "fifo":
        path = str(tmp_path / "pipe.jsonl")
        os.mkfifo(path)
    done = _curate(["run", "-i", path, "--out", str(tmp_path / "out"), "--export", "none", "--workers", "1"],
                   tmp_path, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    text = " ".join(done.stderr.split())
    assert "skipped unreadable file" in text and ("FIFO" in text or "a device" in text), text
    manifest = run_folder.verify(tmp_path / "out")
    assert manifest["records"] == {"in": 1, "out": 0, "rejected": 1}  # one file-level reject
    assert manifest["inputs"][0]["sha256"] is None
    strict = _curate(["run", "-i", path, "--out", str(tmp_path / "out2"), "-q", "--export", "none", "--strict",
                      "--workers", "1"], tmp_path, timeout=60)
    assert strict.returncode == 1 and "could not be read" in strict.stderr and "Traceback" not in strict.stderr


# ------------------------------------------------------------------------------------------ config


@pytest.mark.parametrize("flags", [["--seed", "-1"], ["--seed", str(2**70)], ["--set", f"split.seed={2**64}"],
                                   ["--set", "near_dedup.seed=-5"]])
def test_seed_out_of_range_is_an_error_before_work(tmp_path: Path, flags: list[str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["run", "-i", str(_data(tmp_path / "d.jsonl")), "--out", str(out), "-q", "--export", "none",
                 *flags])
    assert code == 2
    line = _one_line(capsys)
    assert "seed" in line and ("greater than or equal to 0" in line or "4294967295" in line), line
    assert not out.exists()  # refused at config load, before the output folder is touched


def test_a_yaml_error_spanning_lines_is_printed_as_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_bytes(b"\x00\x01\x02")
    assert main(["run", str(config), "-q"]) == 2
    assert "not valid YAML" in _one_line(capsys)


# ------------------------------------------------------------------------------------------ output folder


def test_out_that_is_a_symlink_loop_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert main(["run", "-i", str(_data(tmp_path / "d.jsonl")), "--out", str(loop), "-q", "--export", "none"]) == 2
    line = _one_line(capsys)
    assert str(loop) in line and ("symlink loop" in line or "symbolic links" in line), line


def test_export_of_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _data(tmp_path / "d.jsonl")
    assert main(["export", str(data), "--to", "openai"]) == 2
    assert "not a run folder" in _one_line(capsys)


def test_export_under_ulimit_f_is_one_line(good_run: Path, tmp_path: Path) -> None:
    done = _curate(["export", str(good_run), "--to", "openai,hf"], tmp_path, fsize=4096)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and "Traceback" not in done.stderr and len(lines) == 1, done.stderr
    assert "ulimit -f" in lines[0] and str(good_run) in lines[0]


def test_export_os_error_names_the_path_and_the_fix(good_run: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A read-only or full disk (simulated: an unprivileged test cannot mount one) is one line with the fix."""
    import errno

    from curation import exporters

    for code, words in ((errno.EROFS, "read-only"), (errno.ENOSPC, "no space left")):
        def fail(*_args: object, _code: int = code, **_kwargs: object) -> None:
            raise OSError(_code, os.strerror(_code), str(good_run / "exports"))

        monkeypatch.setattr(exporters, "_export_kind", fail)
        assert main(["export", str(good_run), "--to", "openai"]) == 2
        line = _one_line(capsys)
        assert words in line and str(good_run / "exports") in line and "fix:" in line, line


def test_stdout_on_a_full_device_is_one_line(tmp_path: Path) -> None:
    data = _data(tmp_path / "d.jsonl")
    with open("/dev/full", "wb") as full:
        done = _curate(["inspect", str(data)], tmp_path, stdout=full)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "no space left" in done.stderr, done.stderr


# ------------------------------------------------------------------------------------------ jobs


@pytest.mark.parametrize("kind", ["garbage", "folder", "/dev/null", "under_a_file"])
def test_jobs_list_with_a_bad_db_is_one_line(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    if kind == "garbage":
        db = tmp_path / "jobs.sqlite"
        db.write_bytes(b"this is not a database\n" * 100)
    elif kind == "folder":
        db = tmp_path
    elif kind == "under_a_file":
        (tmp_path / "file").write_text("x")
        db = tmp_path / "file" / "jobs.sqlite"
    else:
        db = Path(kind)
    assert main(["jobs", "list", "--db", str(db)]) == 2
    line = _one_line(capsys)
    assert "job database" in line and str(db) in line, line


# ------------------------------------------------------------------------------------------ UI


@pytest.mark.parametrize("port", ["70000", "-1", "0"])
def test_ui_port_out_of_range_is_a_usage_error(good_run: Path, port: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui", str(good_run), "--port", port]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Invalid value for '--port'" in err, err


def test_ui_port_in_use_is_one_line(good_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["ui", str(good_run), "--port", str(port)]) == 2
    line = _one_line(capsys)
    assert f"cannot serve on 127.0.0.1:{port}" in line and "another --port" in line, line


def test_ui_unresolvable_host_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from curation.errors import CurationError

    monkeypatch.setenv("CURATION_UI_USER", "alice")
    monkeypatch.setenv("CURATION_UI_PASSWORD", "pw")
    with pytest.raises(CurationError, match="cannot be resolved"):
        check_serving("no-such-host.invalid", 7860)


def test_ui_non_loopback_host_without_login_is_refused(good_run: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CURATION_UI_USER", raising=False)
    monkeypatch.delenv("CURATION_UI_PASSWORD", raising=False)
    assert main(["ui", str(good_run), "--host", "0.0.0.0"]) == 2
    line = _one_line(capsys)
    assert "without a login" in line and "--insecure-no-auth" in line
    check_serving("0.0.0.0", _free_port(), insecure_no_auth=True)  # said on purpose: allowed
    check_serving("127.0.0.1", _free_port())  # loopback needs no login
    monkeypatch.setenv("CURATION_UI_USER", "alice")
    monkeypatch.setenv("CURATION_UI_PASSWORD", "pw")
    check_serving("0.0.0.0", _free_port())  # with a login: allowed


@pytest.mark.parametrize("env", [{"CURATION_UI_USER": "alice"}, {"CURATION_UI_PASSWORD": "pw"}])
def test_ui_half_a_login_is_an_error(good_run: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CURATION_UI_USER", raising=False)
    monkeypatch.delenv("CURATION_UI_PASSWORD", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["ui", str(good_run)]) == 2
    line = _one_line(capsys)
    assert "CURATION_UI_PASSWORD" in line and "CURATION_UI_USER" in line, line
    with pytest.raises(Exception, match="is not"):
        login_from_env()


def test_run_refuses_a_disk_too_small_before_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(run_folder.shutil, "disk_usage", lambda _path: usage(10**9, 10**9 - 1000, 1000))
    out = tmp_path / "out"
    assert main(["run", "-i", str(_data(tmp_path / "d.jsonl")), "--out", str(out), "-q", "--export", "none"]) == 2
    line = _one_line(capsys)
    assert "not enough free space" in line and str(out) in line and "fix:" in line, line
    assert not (out / "splits").exists() and not (out / run_folder.LOCK).exists()
    monkeypatch.undo()
    assert main(["run", "-i", str(_data(tmp_path / "d.jsonl")), "--out", str(out), "-q", "--export", "none"]) == 0


def test_train_refuses_an_incomplete_run_folder_before_loading_anything(
        good_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (good_run / "manifest.json").unlink()
    assert main(["train", str(good_run), "--backend", "hf-local", "--model", str(tmp_path / "no-model"),
                 "--db", str(tmp_path / "jobs.sqlite")]) == 2
    assert "incomplete" in _one_line(capsys)
