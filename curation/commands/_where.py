"""Where `curate inspect` and `curate export` run their batches: the options `curate run` reads as ``runner.*``."""

from __future__ import annotations

from ..errors import ConfigError

EXECUTOR_HELP = ("Where batches run, as runner.executor of `curate run`: auto (worker processes when the input is "
                 "big enough to repay them), inprocess, processes or ray.")
WORKERS_HELP = "Worker processes (ray: actors); default: all cores."


def executor_kinds() -> tuple[str, ...]:
    """The executor kinds, read from the run config's own definition (one list for run, inspect and export)."""
    from typing import get_args

    from ..config import RunnerConfig

    return get_args(RunnerConfig.model_fields["executor"].annotation)


def check_where(workers: int | None, executor: str | None) -> None:
    """Refuse a bad --workers or --executor before any work, in one line that names the fix."""
    if workers is not None and workers < 1:
        raise ConfigError("--workers must be at least 1", hint="e.g. --workers 2")
    if executor is not None:
        kinds = executor_kinds()
        if executor not in kinds:
            from ..suggest import did_you_mean

            raise ConfigError(f"unknown --executor {executor!r}{did_you_mean(executor, list(kinds))}",
                              hint=f"use one of: {', '.join(kinds)}")
