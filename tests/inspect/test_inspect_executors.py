"""`curate inspect` on the run's executors: the same report on each, no workers for a small file, Ctrl-C exits 130."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from interrupt import interrupt_when_workers_are_busy, signal_at_pause

from curation import inspect as inspect_module
from curation.cli import main
from curation.errors import ConfigError
from curation.inspect import inspect_paths
from curation.pipeline import executors

REAL_FILES = ("anthropics__hh-rlhf/harmless-base_test.jsonl.gz", "hiyouga__LLaMA-Factory/identity.json")


class _Spy:
    """Counts the worker pools started (and still starts them, so the run is real)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started = 0
        real = executors.ProcessExecutor

        def start(*args: Any, **kwargs: Any) -> executors.ProcessExecutor:
            self.started += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(executors, "ProcessExecutor", start)


@pytest.mark.parametrize("name", REAL_FILES)
def test_the_report_is_byte_identical_on_every_executor(real_dir: Path, name: str, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(inspect_module, "BATCH_SIZE", 150)  # several batches, so order across workers matters
    outputs = {}
    spy = _Spy(monkeypatch)
    for kind in ("inprocess", "processes", "auto"):
        assert main(["inspect", str(real_dir / name), "--json", "--executor", kind, "--workers", "2"]) == 0
        outputs[kind] = capsys.readouterr().out.encode()
    assert spy.started == 1  # processes only: auto keeps a file this small in this process
    assert outputs["processes"] == outputs["inprocess"] == outputs["auto"]
    assert b'"records"' in outputs["inprocess"]


def test_a_small_file_starts_no_worker(tmp_path: Path, real_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = tmp_path / "ten.jsonl"
    lines = (real_dir / "axolotl-ai-cloud__axolotl/mistral_example_data.jsonl").read_bytes().splitlines(True)[:10]
    small.write_bytes(b"".join(lines))
    spy = _Spy(monkeypatch)
    report = inspect_paths([small], workers=4)  # auto: four workers allowed, none worth starting
    assert spy.started == 0
    assert report["records"] == 10


def test_auto_moves_to_workers_once_the_input_proves_big(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus.jsonl.gz"  # compressed: its size says nothing, the first payloads decide
    import gzip

    with gzip.open(corpus, "wt", encoding="utf-8") as out:
        for i in range(120):
            out.write(f'{{"messages": [{{"role": "user", "content": "q{i}"}}, '
                      f'{{"role": "assistant", "content": "a{i}"}}]}}\n')
    monkeypatch.setattr(inspect_module, "BATCH_SIZE", 20)
    monkeypatch.setattr(inspect_module, "PARALLEL_THRESHOLD", 40)
    serial = inspect_paths([corpus], workers=1)
    spy = _Spy(monkeypatch)
    switched = inspect_paths([corpus], workers=2)  # 40 payloads here, the other 80 on two workers
    assert spy.started == 1
    assert switched == serial and serial["records"] == 120


def test_a_config_runner_section_says_where(tmp_path: Path, real_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from curation.config import load_config
    from curation.inspect import inspect_config

    config = load_config(None, values={"inputs": [str(real_dir / REAL_FILES[1])], "runner.executor": "processes",
                                       "runner.workers": 2})
    spy = _Spy(monkeypatch)
    from_config = inspect_config(config)
    assert spy.started == 1
    assert inspect_config(config, executor="inprocess") == from_config and spy.started == 1


def test_a_bad_executor_or_worker_count_is_one_line_with_the_fix(real_dir: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(real_dir / REAL_FILES[1]), "--executor", "proc"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: unknown --executor 'proc' (did you mean 'processes'?) (fix: use one of: auto, inprocess, processes, "
        "ray)"]
    with pytest.raises(ConfigError, match="--workers must be at least 1"):
        inspect_command_check(0)


def inspect_command_check(workers: int) -> None:
    from curation.commands._where import check_where

    check_where(workers, None)


def test_ctrl_c_ends_the_workers_and_exits_130(tmp_path: Path, real_dir: Path) -> None:
    code, err, workers = interrupt_when_workers_are_busy(
        ["inspect", str(real_dir / REAL_FILES[0]), "--json", "--executor", "processes", "--workers", "2"],
        "inspect_batch", tmp_path)
    assert code == 130
    assert workers, "no worker process was running"
    assert [line for line in err.splitlines() if line.strip()] == ["interrupted"], err
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]  # terminated and reaped, none left


def _inspect_args(real_dir: Path) -> list[str]:
    return ["inspect", str(real_dir / REAL_FILES[0]), "--json", "--executor", "processes", "--workers", "2"]


def test_ctrl_c_while_the_workers_start_is_not_lost(tmp_path: Path, real_dir: Path) -> None:
    # The pool's start ignored SIGINT for about a second: a Ctrl-C then was lost (the full report, exit 0).
    code, err, workers = signal_at_pause(_inspect_args(real_dir), "workers_starting", tmp_path, release=True)
    assert code == 130
    assert [line for line in err.splitlines() if line.strip()] == ["interrupted"], err
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


@pytest.mark.parametrize("pause_at", ["workers_starting", "inspect_batch"])
def test_sigterm_exits_143_with_one_line(tmp_path: Path, real_dir: Path, pause_at: str) -> None:
    # `kill PID` reached the main process alone: it said "interrupted" and exited 130, and a SIGTERM while the
    # workers started left some that printed a SemLock traceback.
    code, err, workers = signal_at_pause(_inspect_args(real_dir), pause_at, tmp_path, sig=signal.SIGTERM,
                                         group=False)
    assert code == 143
    assert [line for line in err.splitlines() if line.strip()] == ["terminated (SIGTERM)"], err
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
