"""Local job processes: start detached, tell alive from dead, stop.

A local job runs in its own process group so the CLI or UI that started it can exit. Whether it is
still running is decided from its pid (a zombie or a reused pid counts as dead: the command line must
name the job folder) and from a heartbeat file the worker touches every few seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from .base import Job, TrainerBackend

# Children started by this process, so their exit is reaped (no zombies) and their exit code read.
_children: dict[int, subprocess.Popen[bytes]] = {}

_reaper: threading.Thread | None = None
_reaper_lock = threading.Lock()

HEARTBEAT = "heartbeat"
LOG = "worker.log"


def spawn(cmd: list[str], job_dir: Path, env: dict[str, str] | None = None) -> int:
    job_dir.mkdir(parents=True, exist_ok=True)
    with (job_dir / LOG).open("ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=job_dir,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    _children[proc.pid] = proc
    _start_reaper()
    return proc.pid


def reap() -> None:
    """Collect the exit of every finished child (``poll`` keeps its return code), so none lingers as a
    zombie under a long-lived UI server that never asks about that job again."""
    for proc in list(_children.values()):
        proc.poll()


def _reap_forever() -> None:
    while True:  # one daemon thread for the process's life: no window in which a new child goes unwatched
        time.sleep(1.0)
        reap()


def _start_reaper() -> None:
    global _reaper
    with _reaper_lock:
        if _reaper is None:
            _reaper = threading.Thread(target=_reap_forever, name="curation-job-reaper", daemon=True)
            _reaper.start()


def process_alive(pid: int | None, marker: str) -> bool:
    """True while ``pid`` runs and its command line contains ``marker`` (guards against pid reuse)."""
    if not pid:
        return False
    proc = _children.get(pid)
    if proc is not None:
        return proc.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc_dir = Path(f"/proc/{pid}")
    if proc_dir.is_dir():
        try:
            stat = (proc_dir / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return False
            return marker in (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            return False
    return True


def heartbeat_age(job_dir: Path) -> float | None:
    try:
        return time.time() - (job_dir / HEARTBEAT).stat().st_mtime
    except OSError:
        return None


def terminate(pid: int | None, *, grace: float = 5.0) -> None:
    """SIGTERM the job's process group, then SIGKILL after ``grace`` seconds."""
    if not pid:
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.time() + grace
    while time.time() < deadline:
        proc = _children.get(pid)
        if proc is not None and proc.poll() is not None:
            return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class LocalProcessBackend(TrainerBackend):
    """A backend whose jobs run as a detached local process in ``RUN_DIR/train/<job id>/``, logging to
    :data:`LOG`; subclasses say how to start one and how to read its status."""

    @staticmethod
    def job_dir(job: Job) -> Path:
        return Path(job.run_dir) / "train" / job.id

    def cancel(self, job: Job) -> Job:
        terminate(job.pid)
        job.status = "cancelled"
        return job

    def logs(self, job: Job) -> list[str]:
        path = self.job_dir(job) / LOG
        return path.read_text(errors="replace").splitlines() if path.exists() else []
