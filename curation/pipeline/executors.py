"""*How* batches run, kept apart from *what* runs.

An executor maps a picklable function over batches and yields results in submission order, keeping
only a bounded number of batches in flight so that a 10 GB input never sits in memory. The Ray executor
(``ray_executor.py``) implements the same two methods.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from ..errors import CurationError
from ..stopping import deferred, stopping

_POLL_SECONDS = 0.5  # how often a wait for a batch looks for a dead worker


class WorkerCrashedError(CurationError):
    """A worker process died while it held a batch (killed, out of memory, a crash in native code)."""

    exit_code = 1


class Executor(Protocol):
    def map_ordered(self, fn: Callable[[Any], Any], batches: Iterable[Any]) -> Iterator[Any]: ...

    def close(self) -> None: ...


class InProcessExecutor:
    """Runs everything in the calling process: small inputs, debugging, and tests."""

    def __init__(self, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()) -> None:
        if initializer is not None:
            initializer(*initargs)

    def map_ordered(self, fn: Callable[[Any], Any], batches: Iterable[Any]) -> Iterator[Any]:
        for batch in batches:
            yield fn(batch)

    def close(self) -> None:
        pass


def _quiet_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """Workers ignore Ctrl-C: the terminal sends SIGINT to the whole process group, and the main process
    alone decides what happens (it terminates the pool), so no worker prints a KeyboardInterrupt traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Start workers with SIGINT ignored. A spawned worker is a fresh interpreter that takes a while to import;
    a Ctrl-C in that window (before ``_quiet_worker`` runs) killed it or printed its KeyboardInterrupt
    traceback. An ignored signal stays ignored across exec, and Python then installs no handler of its own."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        # A SIGTERM meanwhile has begun the clean-up, which ignores every later signal: keep SIGINT ignored.
        if not stopping():
            signal.signal(signal.SIGINT, previous)


class ProcessExecutor:
    """Worker processes (spawned, so no lock or thread of the parent leaks into them)."""

    def __init__(
        self,
        workers: int,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        max_in_flight: int | None = None,
    ) -> None:
        self.max_in_flight = max_in_flight or workers * 3
        ctx = mp.get_context("spawn")
        with _ctrl_c_ignored():
            self._pool = ctx.Pool(workers, initializer=_quiet_worker, initargs=(initializer, initargs))
        self._workers = list(getattr(self._pool, "_pool", []))  # the Process objects keep their exit codes

    def map_ordered(self, fn: Callable[[Any], Any], batches: Iterable[Any]) -> Iterator[Any]:
        pending: deque[Any] = deque()
        for batch in batches:
            pending.append(self._pool.apply_async(fn, (batch,)))
            if len(pending) >= self.max_in_flight:
                yield self._result(pending.popleft())
        while pending:
            yield self._result(pending.popleft())

    def _result(self, async_result: Any) -> Any:
        """The batch's result. A pool replaces a worker that died but never hands its batch to another one,
        so a plain ``get()`` would wait forever: between short waits, look for a worker that is gone.

        Ctrl-C and SIGTERM are held back during the wait: raised inside its lock operations they became
        ``RuntimeError: release unlocked lock``. They arrive right after it, within one poll."""
        with deferred() as caught:
            while not caught:
                try:
                    return async_result.get(timeout=_POLL_SECONDS)
                except mp.TimeoutError:
                    if not caught:  # a group-wide SIGTERM also kills the workers: that is not a crash
                        self._check_workers()
        return None  # not reached: leaving ``deferred`` with a caught signal raises it

    def _check_workers(self) -> None:
        # Pool workers only exit when the pool ends (no maxtasksperchild): any exit code is a crash. The pool
        # may have replaced the dead one already (``_pool`` is its own list of worker processes).
        current = list(getattr(self._pool, "_pool", []))
        dead = [w for w in self._workers if w.exitcode is not None]
        if dead or any(w not in self._workers for w in current):
            code = dead[0].exitcode if dead else None
            how = f"killed by signal {-code}" if code is not None and code < 0 else (
                f"exit code {code}" if code is not None else "it was replaced")
            raise WorkerCrashedError(
                f"a worker process died ({how}): the batches it held would never come back",
                hint="check memory (dmesg shows the out-of-memory killer), or re-run with fewer --workers or "
                "--executor inprocess to see the error")

    def close(self) -> None:
        self._pool.close()
        self._pool.join()

    def terminate(self) -> None:
        self._pool.terminate()


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _main_is_importable() -> bool:
    import sys

    path = getattr(sys.modules.get("__main__"), "__file__", None)
    return path is None or os.path.exists(path)  # no __file__: an interactive session, which spawn handles


def make_executor(
    kind: str,
    workers: int | None,
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
    small_input: bool = False,
    address: str | None = None,
) -> Executor:
    """``auto`` uses worker processes only when the input is big enough to repay starting them; ``ray`` runs
    batches as Ray actor tasks on the cluster at ``address`` (or a local Ray)."""
    n = workers or default_workers()
    resolved = resolve_kind(kind, workers, small_input)
    if resolved == "inprocess":
        return InProcessExecutor(initializer, initargs)
    if resolved == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(initializer, initargs, address=address, workers=workers)
    return ProcessExecutor(n, initializer, initargs)


def resolve_kind(kind: str, workers: int | None, small_input: bool = False) -> str:
    """The executor ``make_executor`` starts for this request: ``inprocess``, ``processes`` or ``ray``."""
    if kind == "ray":  # asked for by name: Ray workers import curation, never the main script
        return "ray"
    n = workers or default_workers()
    if kind != "inprocess" and not _main_is_importable():
        # Spawned workers re-import the main script; a script read from stdin cannot be, and the pool would
        # restart its workers forever. Run in this process instead.
        return "inprocess"
    if kind == "inprocess" or (kind == "auto" and (n < 2 or small_input)):
        return "inprocess"
    return kind if kind != "auto" else "processes"
