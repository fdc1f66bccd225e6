"""One line per export target: written (where, how many records) or refused (the first blocking rule and the
fix, `--skip-invalid` named where it would help). The CLI's `run` and `export` print the same lines."""

from __future__ import annotations

from pathlib import Path

from . import ExportIssue, ExportResult

# Rules that --skip-invalid can meet by leaving records out (record-level errors, not file-level ones).
_FILE_LEVEL = ("too_few_examples", "nothing_to_export", "method_mismatch", "file_too_large")


def refusal_line(target: str, issues: list[ExportIssue], allow_warnings: bool) -> str:
    blocking = [i for i in issues if i.severity == "error"] or ([] if allow_warnings else issues) or issues
    first = blocking[0]
    fixes = [first.hint] if first.hint else []
    if not first.code.startswith(_FILE_LEVEL) and first.count:
        fixes.append(f"or leave those {first.count} record(s) out with --skip-invalid (written to "
                     f"exports/{target}/skipped.jsonl)")
    more = f" (+{len(blocking) - 1} more rule(s))" if len(blocking) > 1 else ""
    return f"{target}: refused, {first.code}: {first.message}{more}" + (f" (fix: {' '.join(fixes)})" if fixes else "")


def outcome_lines(result: ExportResult, allow_warnings: bool = True) -> list[tuple[bool, str]]:
    """``(ok, line)`` per target and kind, written ones first, in the order they were written."""
    lines: list[tuple[bool, str]] = []
    exports = result.run_dir / "exports"
    written = sorted({Path(p).relative_to(exports).parts[:2] for ps in result.paths.values() for p in ps
                      if Path(p).is_relative_to(exports) and len(Path(p).relative_to(exports).parts) > 2})
    for name, kind in written:
        folder = exports / name / kind
        files = sorted(p.name for p in folder.glob("*.jsonl"))
        lines.append((True, f"{name}/{kind}: written to {folder}" + (f" ({', '.join(files)})" if files else "")))
    for target, issues in result.refused.items():
        lines.append((False, refusal_line(target, issues, allow_warnings)))
    for note in result.not_taken:
        lines.append((True, note))
    return lines
