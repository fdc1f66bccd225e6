"""Ctrl-C a `curate` command while its executor's workers hold batches, with no timing guess."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CURATE = [sys.executable, "-c", "import sys; from curation.cli import main; sys.exit(main())"]


def _main_child(args: list[str], env: dict[str, str]) -> None:
    os.environ.update(env)
    from curation.cli import main

    os._exit(main(args))


def start_paused(args: list[str], point: str, marker: Path) -> multiprocessing.Process:
    """``curate ARGS`` in a forked child, returned once it waits at the pause point ``point``
    (``run_folder.pause_point``); removing ``marker`` lets it go on."""
    child = multiprocessing.get_context("fork").Process(
        target=_main_child, args=(args, {"CURATION_PAUSE_AT": point, "CURATION_PAUSE_FILE": str(marker)}))
    child.start()
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.is_alive(), f"it ended before reaching {point}"
        assert time.monotonic() < deadline, f"it never reached {point}"
        time.sleep(0.02)
    return child


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _ignores_sigint(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    mask = next(int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(mask & (1 << (signal.SIGINT - 1)))


def interrupt_when_workers_are_busy(args: list[str], pause_at: str, tmp_path: Path) -> tuple[int, str, list[int]]:
    """Start ``curate ARGS`` paused at ``pause_at`` (``run_folder.pause_point``), wait until every child ignores
    SIGINT (the workers are up), then Ctrl-C the whole process group as a terminal does (a new session stands
    for the terminal). Returns the exit code, stderr and the worker pids."""
    return signal_at_pause(args, pause_at, tmp_path)


def signal_at_pause(args: list[str], pause_at: str, tmp_path: Path, sig: int = signal.SIGINT, group: bool = True,
                    release: bool = False) -> tuple[int, str, list[int]]:
    """:func:`interrupt_when_workers_are_busy` with another signal, sent to the main process alone unless
    ``group``; ``release`` then lets the paused command go on (a signal it holds back must still stop it)."""
    marker = tmp_path / "paused"
    env = {**os.environ, "CURATION_PAUSE_AT": pause_at, "CURATION_PAUSE_FILE": str(marker)}
    proc = subprocess.Popen([*CURATE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env=env)
    deadline = time.monotonic() + 120
    while not marker.exists() or not all(_ignores_sigint(c) for c in _children(proc.pid)):
        assert proc.poll() is None, f"it ended before it could be interrupted: {proc.communicate()}"
        assert time.monotonic() < deadline, f"it never reached {pause_at}"
        time.sleep(0.05)
    # Pool workers, not multiprocessing's resource tracker (it exits on its own once the main process is gone)
    workers = [c for c in _children(proc.pid) if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
    if group:
        os.killpg(proc.pid, sig)
    else:
        os.kill(proc.pid, sig)
    if release:
        marker.unlink()
    try:
        _out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _out, err = proc.communicate()
        raise AssertionError(f"it hung after the signal: {err.decode('utf-8', 'replace')}") from None
    return proc.returncode, err.decode("utf-8", "replace"), workers
