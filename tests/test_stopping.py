"""Signals held back around a wait and delivered after it; SIGTERM stops a command once, as Terminated."""

from __future__ import annotations

import os
import signal

import pytest

from curation.errors import Terminated
from curation.stopping import deferred, installed


def test_a_signal_inside_deferred_arrives_right_after_the_block() -> None:
    reached_end = False
    with pytest.raises(KeyboardInterrupt), deferred() as caught:
        os.kill(os.getpid(), signal.SIGINT)
        assert caught == [signal.SIGINT]  # held, not raised inside the block
        reached_end = True
    assert reached_end


def test_installed_turns_sigterm_into_terminated_and_ignores_the_next_signal() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with installed():
        with pytest.raises(Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
        # The clean-up after the first signal is not cut short by a second one.
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_terminated_is_seen_through_clicks_abort() -> None:
    import typer

    from curation.cli import _stopped_code

    try:
        try:
            raise Terminated()
        except KeyboardInterrupt as exc:
            raise typer.Abort() from exc
    except typer.Abort as abort:
        assert _stopped_code(abort) == 143
    assert _stopped_code(KeyboardInterrupt()) == 130


def test_a_process_entry_point_stays_deaf_after_a_stop_until_it_exits() -> None:
    # `curate` returns 130 and the process exits; a second Ctrl-C between the handlers coming back and the exit
    # used to kill it by SIGINT (exit -2, a KeyboardInterrupt traceback) instead of 130.
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with installed(entry_point=True):
            with pytest.raises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGINT)  # ignored
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def test_a_process_entry_point_stays_deaf_after_a_command_that_finished() -> None:
    # `curate export` had written everything and was exiting: a SIGTERM then killed it by SIGTERM (exit -15,
    # no line) although the export was whole. The command's own exit code stands.
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with installed(entry_point=True):
            pass
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def test_an_in_process_caller_gets_its_handlers_back() -> None:
    with installed():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
