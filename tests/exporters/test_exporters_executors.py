"""`curate export` on the run's executors: the same files on each, no workers for a small run, Ctrl-C exits 130,
a damaged line read by a worker is the same one-line error as in one process."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from export_fixtures import preference_records, sft_records, write_run
from interrupt import interrupt_when_workers_are_busy, signal_at_pause

from curation import run_folder
from curation.cli import main
from curation.errors import CurationError
from curation.exporters import ExportOptions, export_run, parallel
from curation.pipeline import executors

FORMATS = "openai,azure-openai,mistral,vertex-gemini"


class _Spy:
    """Counts the worker pools started (and still starts them, so the export is real)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started = 0
        real = executors.ProcessExecutor

        def start(*args: Any, **kwargs: Any) -> executors.ProcessExecutor:
            self.started += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(executors, "ProcessExecutor", start)


def _files(run: Path) -> dict[str, bytes]:
    return {p.relative_to(run).as_posix(): p.read_bytes() for p in sorted((run / "exports").rglob("*")) if p.is_file()}


def test_the_files_are_byte_identical_on_every_executor(tmp_path: Path, real_dir: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run", sft_records(real_dir) + preference_records(real_dir))
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 8_000)  # many pieces per split, joined in order
    spy = _Spy(monkeypatch)
    written = {}
    for kind in ("inprocess", "processes", "auto"):
        assert main(["export", str(run), "--to", FORMATS, "--azure-bom", "--skip-invalid", "--executor", kind,
                     "--workers", "2"]) == 0
        written[kind] = (_files(run), capsys.readouterr())
    assert spy.started == 2  # processes, once per kind (sft, dpo); auto keeps a run this small in this process
    assert written["processes"] == written["inprocess"] == written["auto"]
    files = written["inprocess"][0]
    assert "exports/openai/sft/train.jsonl" in files and "exports/openai/dpo/train.jsonl" in files
    assert files["exports/azure-openai/sft/train.jsonl"].startswith(b"\xef\xbb\xbf")  # the BOM once, not per piece


def test_a_small_run_starts_no_worker(tmp_path: Path, real_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = write_run(tmp_path / "run", sft_records(real_dir)[:10])
    spy = _Spy(monkeypatch)
    result = export_run(run, ["openai", "hf"], ExportOptions(), each=True, workers=4)
    assert spy.started == 0 and result.paths


def test_a_damaged_line_read_by_a_worker_is_the_one_process_error(tmp_path: Path, real_dir: Path) -> None:
    run = write_run(tmp_path / "run", sft_records(real_dir))
    train = run / "splits" / "train.jsonl"
    lines = train.read_bytes().splitlines(keepends=True)
    lines[40] = b'{"messages": [\n'
    train.write_bytes(b"".join(lines))
    run_folder.write_manifest(run, {"tool": "curation"})  # sealed as damaged: only the reading finds it
    errors = []
    for kind in ("inprocess", "processes"):
        with pytest.raises(CurationError) as caught:
            export_run(run, ["openai"], executor=kind, workers=2)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]
    assert errors[0].startswith(f"{train}:41: line is not valid JSON")


def test_ctrl_c_ends_the_workers_and_exits_130(tmp_path: Path, real_dir: Path) -> None:
    run = write_run(tmp_path / "run", sft_records(real_dir))
    code, err, workers = interrupt_when_workers_are_busy(
        ["export", str(run), "--to", "openai", "--executor", "processes", "--workers", "2"], "export_batch",
        tmp_path)
    assert code == 130
    assert workers, "no worker process was running"
    assert [line for line in err.splitlines() if line.strip()] == ["interrupted"], err
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]  # terminated and reaped, none left
    assert not (run / "exports").exists()  # nothing half-written is left behind


def test_sigterm_ends_the_workers_and_exits_143(tmp_path: Path, real_dir: Path) -> None:
    run = write_run(tmp_path / "run", sft_records(real_dir))
    code, err, workers = signal_at_pause(
        ["export", str(run), "--to", "openai", "--executor", "processes", "--workers", "2"], "export_batch",
        tmp_path, sig=signal.SIGTERM, group=False)
    assert code == 143  # was 130 and "interrupted"
    assert [line for line in err.splitlines() if line.strip()] == ["terminated (SIGTERM)"], err
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert not (run / "exports").exists()
