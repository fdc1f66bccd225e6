"""One error hierarchy. Every error a user can cause carries a hint that says how to fix it.

The CLI prints ``str(error)`` as one line and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations


class CurationError(Exception):
    """A user-facing error: what went wrong, where, and how to fix it.

    Exit codes are a contract (README, "Exit codes"): 2 a usage, config or input error found before any work;
    1 the work ran but something was refused that the user asked to be strict about; 130 interrupted; 143 SIGTERM.
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None, where: str | None = None) -> None:
        self.message = message
        self.hint = hint
        self.where = where
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" (fix: {self.hint})"
        return text


class ConfigError(CurationError):
    """The run config is invalid; raised before any work starts."""


class InputError(CurationError):
    """An input path cannot be read at all (missing, a directory of nothing, unreadable).

    ``code`` is the reason code a run writes when it skips such a file as a file-level reject.
    """

    def __init__(
        self, message: str, *, hint: str | None = None, where: str | None = None, code: str = "unreadable_file"
    ) -> None:
        self.code = code
        super().__init__(message, hint=hint, where=where)


class StageLoadError(CurationError):
    """A stage could not create its resources (``load()`` raised): the run stops before any record is read."""

    def __reduce__(self) -> tuple[object, ...]:  # raised in worker processes: keep message and hint across pickling
        return (_stage_load_error, (self.message, self.hint))


def _stage_load_error(message: str, hint: str | None) -> StageLoadError:
    return StageLoadError(message, hint=hint)


class ExportError(CurationError):
    """A provider rule that makes an export unusable (raised before any file is written)."""


class TrainerError(CurationError):
    """A trainer backend failed; carries the provider's own message."""


class MissingExtraError(CurationError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"this feature needs the optional package {package!r}",
            hint=f"pip install 'curation[{extra}]'",
        )


class RefusedError(CurationError):
    """The work ran and its outputs are written, but something the user asked to be strict about was refused."""

    exit_code = 1


class Interrupted(CurationError):
    """The user interrupted the work (Ctrl-C, exit 130) or it was told to stop (SIGTERM, exit 143); what was
    left is marked incomplete."""

    exit_code = 130

    def __init__(self, message: str, *, hint: str | None = None, where: str | None = None,
                 exit_code: int = 130) -> None:
        super().__init__(message, hint=hint, where=where)
        self.exit_code = exit_code


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill PID``, a scheduler's time limit, a container stopping), raised where Ctrl-C's
    KeyboardInterrupt would be so that every clean-up path for Ctrl-C runs for it too; it exits 143."""
