"""After the splits are written: apply human review decisions, export, and render the report.

Kept out of the runner so that the runner stays about records and stages; the CLI and the UI call
``finish_run`` after ``run_pipeline``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .. import run_folder
from ..errors import RefusedError

if TYPE_CHECKING:
    from ..config import RunConfig
    from .runner import RunResult


def apply_review_decisions(run_dir: Path) -> int:
    """Apply decisions stored in RUN_DIR/review.sqlite; returns how many records they changed."""
    if not (run_dir / "review.sqlite").exists():
        return 0
    from ..review.apply import apply_decisions

    return apply_decisions(run_dir).changed


def finish_run(result: RunResult, config: RunConfig) -> RunResult:
    """Apply decisions, export and render; then give back the run folder's lock that run_pipeline took."""
    try:
        return _finish(result, config)
    except KeyboardInterrupt as exc:
        # A run is whole or marked incomplete: splits and a manifest beside half an export (or no report) would
        # pass for a finished run.
        from .interrupt import mark_interrupted

        raise mark_interrupted(result.run_dir, exc) from None
    finally:
        run_folder.release(result.run_dir)


def _finish(result: RunResult, config: RunConfig) -> RunResult:
    run_dir = result.run_dir
    if config.apply_review:
        changed = apply_review_decisions(run_dir)
        if changed:
            result.warnings.append(f"applied {changed} review decisions from review.sqlite")
    refused: list[str] = []
    if config.export.formats:
        from ..exporters import ExportOptions, export_run
        from ..exporters.outcome import outcome_lines, record_outcome

        options = ExportOptions(model=config.model, azure_bom=config.export.azure_bom, method=config.export.method,
                                allow_warnings=not config.export.strict,
                                max_train_examples=config.export.max_train_examples)
        # The same decisions as `curate export`: each format (and kind) is written or refused on its own.
        # runner.executor: inprocess and runner.workers hold for the export too; otherwise its size decides
        # (`auto`), so a small export never pays for starting workers or a Ray session again.
        executor = "inprocess" if config.runner.executor == "inprocess" else "auto"
        exported = export_run(run_dir, config.export.formats, options, each=True, executor=executor,
                              workers=config.runner.workers)
        result.export_paths = {name: [str(p) for p in paths] for name, paths in exported.paths.items()}
        result.warnings.extend(f"{issue.exporter}: {issue.message}" for issue in exported.warnings)
        result.export_lines = [line for _ok, line in outcome_lines(exported, options.allow_warnings)]
        refused = list(exported.refused)
        record_outcome(run_dir, exported)
    from ..report import render_report

    render_report(run_dir)
    if refused and config.export.strict:
        raise RefusedError(f"export refused for {', '.join(refused)} (the run and the other exports are written)",
                           hint="fix the rules printed above, or set export.strict: false to accept the rest")
    if refused and not any(result.export_paths.values()) and result.records_out:  # no record at all: the CLI says
        # the export was asked for and none was written: `curate run && curate train` must not go on
        raise RefusedError(f"no export was written: {', '.join(refused)} refused (the run's splits are written)",
                           hint="fix the rules printed above, or export another target with `curate export`")
    return result
