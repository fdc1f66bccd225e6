"""How the command line stops on Ctrl-C and SIGTERM: once, at a safe point, and quietly.

Python turns SIGINT into KeyboardInterrupt wherever the main thread happens to be. Two places made that
loud:

- inside a lock operation of ``multiprocessing``'s result wait, where it surfaced as ``RuntimeError: release
  unlocked lock`` instead of an interrupt (about one Ctrl-C in 17 with worker processes);
- a second Ctrl-C during the clean-up of the first, which printed "Exception ignored" tracebacks.

SIGTERM (``kill PID``, a scheduler's time limit, ``docker stop``) killed the process outright: no clean-up, no
marker, workers writing into a closed pipe. :func:`installed` makes SIGTERM raise :class:`Terminated` (a
KeyboardInterrupt, so every Ctrl-C clean-up path runs for it), and makes the first signal of either kind the
only one: later ones are ignored while the clean-up runs. :func:`deferred` holds signals back around a wait
that must not be cut in the middle and delivers them right after it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from .errors import Terminated

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


_stopped: list[int] = []  # the signal that stopped the command inside `installed`, if one did


def _stop(signum: int, _frame: FrameType | None) -> None:
    # The first signal stops the work; the clean-up it starts must not be cut short by a second one.
    _stopped.append(signum)
    for sig in _SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if signum == signal.SIGTERM:
        raise Terminated()
    raise KeyboardInterrupt()


def stopping() -> bool:
    """Whether a signal has stopped the command that `installed` is around: its clean-up is running."""
    return bool(_stopped)


def stopped_by() -> int | None:
    """The signal that stopped the command `installed` is around, if one did. typer turns every
    KeyboardInterrupt it sees, SIGTERM's :class:`Terminated` too, into exit 130: this says which it was."""
    return _stopped[0] if _stopped else None


@contextlib.contextmanager
def installed(entry_point: bool = False) -> Iterator[None]:
    """Around one CLI command: SIGINT and SIGTERM stop it once; the previous handlers come back after it.

    ``entry_point`` is for a process's entry point: after the command the process only exits, with the code
    the command settled, so both signals stay ignored. A second Ctrl-C between the handlers coming back and
    the exit killed it by SIGINT (exit -2 and a traceback) instead of 130, and a SIGTERM after an export was
    written killed it by SIGTERM (exit -15, no line). An in-process caller wants its handlers back."""
    if not _in_main_thread():
        yield
        return
    _stopped.clear()
    previous = _replace_handlers(_stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if entry_point else handler)
        if not entry_point:  # the next command in this process starts unstopped (`deferred` asks `stopping`)
            _stopped.clear()


def _replace_handlers(handler: Any, signals: tuple[int, ...] = _SIGNALS) -> dict[int, Any]:
    """Install ``handler`` for SIGINT and SIGTERM; returns the handlers it replaced. A signal the parent
    ignores (`nohup`, a worker started with SIGINT ignored) stays ignored, and one handled outside Python
    (``getsignal`` is None) is left alone, since it could not be put back."""
    previous: dict[int, Any] = {}
    for sig in signals:
        current = signal.getsignal(sig)
        if current is not None and current is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, handler)
    return previous


@contextlib.contextmanager
def deferred(signals: tuple[int, ...] = _SIGNALS) -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM (or just ``signals``) back inside the block and deliver the first one to its own
    handler right after it. The yielded list holds the signals caught so far, so a polling loop inside can
    leave early."""
    caught: list[int] = []
    if not _in_main_thread():
        yield caught
        return

    def hold(signum: int, _frame: FrameType | None) -> None:
        caught.append(signum)

    previous = _replace_handlers(hold, signals)
    try:
        yield caught
    finally:
        # A signal not held here may have stopped the command meanwhile: its clean-up ignores every later one
        stopped = stopping()
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if stopped else handler)
        if caught and not stopped:
            # To the handler that was there: KeyboardInterrupt, Terminated, or the default action of SIGTERM.
            signal.raise_signal(caught[0])
