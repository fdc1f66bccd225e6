"""After the splits are written: apply human review decisions, export, and render the report.

Kept out of the runner so that the runner stays about records and stages; the CLI and the UI call
``finish_run`` after ``run_pipeline``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import RunConfig
    from .runner import RunResult


def apply_review_decisions(run_dir: Path) -> int:
    """Apply decisions stored in RUN_DIR/review.sqlite; returns how many records they changed."""
    if not (run_dir / "review.sqlite").exists():
        return 0
    from ..review.apply import apply_decisions

    result = apply_decisions(run_dir)
    return int(getattr(result, "changed", 0) or 0)


def finish_run(result: RunResult, config: RunConfig, *, quiet: bool = False) -> RunResult:
    run_dir = result.run_dir
    if config.apply_review:
        changed = apply_review_decisions(run_dir)
        if changed:
            result.warnings.append(f"applied {changed} review decisions from review.sqlite")
    if config.export.formats:
        from ..exporters import ExportOptions, export_run

        options = ExportOptions(model=config.model, azure_bom=config.export.azure_bom)
        exported = export_run(run_dir, config.export.formats, options, strict=config.export.strict)
        result.export_paths = {name: [str(p) for p in paths] for name, paths in exported.paths.items()}
        result.warnings.extend(exported.warnings)
    from ..report import render_report

    render_report(run_dir)
    return result
