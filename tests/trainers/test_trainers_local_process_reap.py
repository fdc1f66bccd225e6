"""A finished local job is reaped even when nobody asks about it again (no defunct children under the UI)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from curation.trainers import local_process


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None  # gone: reaped


def test_a_finished_child_does_not_linger_as_a_zombie(tmp_path: Path) -> None:
    pid = local_process.spawn([sys.executable, "-c", "pass"], tmp_path / "job")
    deadline = time.time() + 10
    while time.time() < deadline and _state(pid) is not None:
        time.sleep(0.1)
    assert _state(pid) is None
    assert local_process._children[pid].returncode == 0  # the exit code is still known
    assert not local_process.process_alive(pid, str(tmp_path))


def test_children_started_one_after_another_are_all_reaped(tmp_path: Path) -> None:
    pids = []
    for n in range(3):
        pids.append(local_process.spawn([sys.executable, "-c", "pass"], tmp_path / f"job{n}"))
        time.sleep(1.2)  # past a reaper pass, so a later child arrives after the earlier one was collected
    deadline = time.time() + 10
    while time.time() < deadline and any(_state(p) is not None for p in pids):
        time.sleep(0.1)
    assert [_state(p) for p in pids] == [None, None, None]
