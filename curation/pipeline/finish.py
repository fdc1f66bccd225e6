"""After the splits are written: apply human review decisions, export, and render the report.

Kept out of the runner so that the runner stays about records and stages; the CLI and the UI call
``finish_run`` after ``run_pipeline``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .. import run_folder
from ..errors import CurationError

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
    finally:
        run_folder.release(result.run_dir)


def _finish(result: RunResult, config: RunConfig) -> RunResult:
    run_dir = result.run_dir
    if config.apply_review:
        changed = apply_review_decisions(run_dir)
        if changed:
            result.warnings.append(f"applied {changed} review decisions from review.sqlite")
    export_error: CurationError | None = None
    if config.export.formats:
        from ..exporters import ExportOptions, export_run
        from ..exporters.base import ExportCheckError

        options = ExportOptions(model=config.model, azure_bom=config.export.azure_bom, method=config.export.method,
                                allow_warnings=not config.export.strict)
        exported = None
        try:
            exported = export_run(run_dir, config.export.formats, options)
        except ExportCheckError as exc:
            mixed = options.method == "auto" and any(
                i.code == "method_mismatch" for i in exc.issues if i.severity == "error")
            if not mixed:
                export_error = exc
            else:
                # One provider file holds one kind. With `auto`, a run holding both exports its conversations
                # and says how to export the pairs, rather than refusing after all the curation work.
                options = options.model_copy(update={"method": "sft"})
                try:
                    exported = export_run(run_dir, config.export.formats, options)
                except CurationError as again:
                    export_error = again
                else:
                    result.warnings.append(
                        "the run holds conversations and preference pairs; the exports hold the conversations. "
                        f"Export the pairs with: curate export {run_dir} --to openai --method dpo "
                        "(or set export.method)")
        except CurationError as exc:
            # The splits, rejects and report are complete and worth keeping; the export error is still an error.
            export_error = exc
        if exported is not None:
            result.export_paths = {name: [str(p) for p in paths] for name, paths in exported.paths.items()}
            result.warnings.extend(f"{issue.exporter}: {issue.message}" for issue in exported.warnings)
    from ..report import render_report

    render_report(run_dir)
    if export_error is not None:
        raise export_error
    return result
