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
from ..run_folder import pause_point
from ..stopping import deferred

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


def _spawn_deaf_to_ctrl_c(spawnv_passfds: Callable[..., int], started: list[int]) -> Callable[..., int]:
    """``multiprocessing.util.spawnv_passfds`` with SIGINT ignored for the fork and exec alone: an ignored
    signal stays ignored across exec and Python then installs no handler of its own, so a Ctrl-C while the
    worker imports (before ``_quiet_worker`` runs) cannot kill it (a worker that died there left the pool's
    start writing to it forever). A SIGTERM is held until the worker's pid is in ``started``. No signal mask:
    the workers would inherit it, and ``resource_tracker`` unblocks both signals in the middle anyway."""

    def spawn(path: Any, args: Any, passfds: Any) -> int:
        if "--multiprocessing-fork" not in args:  # the resource tracker: it ignores both signals on its own
            return spawnv_passfds(path, args, passfds)
        with deferred((signal.SIGTERM,)):
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                started.append(spawnv_passfds(path, args, passfds))
            finally:
                signal.signal(signal.SIGINT, previous)
        return started[-1]

    return spawn


@contextlib.contextmanager
def _workers_starting() -> Iterator[list[int]]:
    """Around the start of a pool: Ctrl-C is held back and delivered right after it; yields the pids started.

    The start waits for each spawned worker to import and read its start-up data (about a second for two
    workers). Ignoring SIGINT for all of that kept the workers quiet but lost the Ctrl-C (the full report,
    exit 0); only the fork and exec of each worker ignore it now (:func:`_spawn_deaf_to_ctrl_c`). SIGTERM
    is not held: a group-wide one kills the starting workers, and the start would wait for them forever."""
    started: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield started
        return
    from multiprocessing import util

    original = util.spawnv_passfds
    util.spawnv_passfds = _spawn_deaf_to_ctrl_c(original, started)
    try:
        with deferred((signal.SIGINT,)):
            yield started
    finally:
        util.spawnv_passfds = original


def _end_started(pids: list[int]) -> None:
    """End workers a stopped pool start left behind: the pool never knew them, and one that outlived the main
    process printed ``SemLock._rebuild ... FileNotFoundError`` (its start-up data was gone)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # one still waiting for its start-up data would never see a SIGTERM
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


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
        pool = None
        started: list[int] = []
        try:
            with _workers_starting() as started:
                pool = ctx.Pool(workers, initializer=_quiet_worker, initargs=(initializer, initargs))
                pause_point("workers_starting")
        except BaseException:
            # Stopped while they started: end the workers before it goes on up (the caller has no executor)
            if pool is not None:
                pool.terminate()
            else:
                _end_started(started)
            raise
        self._pool = pool
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
