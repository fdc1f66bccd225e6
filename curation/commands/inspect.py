"""`curate inspect` (placeholder until its module lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:  # replaced by the real command
    pass
