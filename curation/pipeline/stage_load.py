"""Stage loading checked up front: a stage whose ``load()`` raises stops the run with one line.

Stages are loaded once in the main process before any worker starts (on copies, so that what a stage loads
is never pickled to workers). A worker that still fails to load (a resource only the main process reaches)
keeps the error and raises it with the first batch, instead of dying in the pool's initialiser, which a
spawn pool answers by restarting the worker forever.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from ..errors import CurationError, StageLoadError
from .base import RecordStage


def _load_error(stage: RecordStage, exc: Exception, where: str) -> StageLoadError:
    if isinstance(exc, CurationError):
        what, hint = (f"{exc.where}: {exc.message}" if exc.where else exc.message), exc.hint
    else:
        what, hint = f"{type(exc).__name__}: {exc}", None
    what = " ".join(str(what).split())  # one line, whatever the exception text holds
    hint = hint or (f"check the `{stage.name}:` settings of the config (model paths, installed extras), "
                    f"or disable the {stage.name} stage")
    return StageLoadError(f"the {stage.name} stage could not load{where}: {what}", hint=hint)


def load_in_main(stages: Sequence[RecordStage]) -> list[RecordStage]:
    """Load a copy of every stage here; return the loaded copies (for running in this process)."""
    loaded = []
    for stage in stages:
        twin = copy.deepcopy(stage)
        try:
            twin.load()
        except Exception as exc:  # noqa: BLE001 - any load failure is one clear error
            raise _load_error(stage, exc, "") from None
        loaded.append(twin)
    return loaded


def load_in_worker(stages: Sequence[RecordStage]) -> StageLoadError | None:
    """Load the stages in a worker; return the error to raise with the first batch, or None."""
    for stage in stages:
        try:
            stage.load()
        except Exception as exc:  # noqa: BLE001 - kept and raised per batch: the pool must not restart us
            return _load_error(stage, exc, " in a worker")
    return None
