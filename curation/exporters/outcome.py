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


def record_outcome(run_dir: Path, result: ExportResult) -> None:
    """What each export target came to, in report.json: the files written (relative to the run folder), or the
    rule that refused it with its fix, so a report read later says why there is no export. Targets exported
    before keep their entry."""
    import orjson

    from .base import atomic_writer, read_json

    report_path = Path(run_dir) / "report.json"
    report = read_json(report_path)
    if not report:
        return
    outcome: dict[str, object] = dict(report.get("exports") or {})
    written: dict[str, list[str]] = {}
    for name, paths in sorted(result.paths.items()):
        for path in paths:
            inside = Path(path).is_relative_to(run_dir)
            parts = Path(path).relative_to(run_dir).parts if inside else ()
            key = f"{parts[1]}/{parts[2]}" if len(parts) > 3 and parts[0] == "exports" else name  # format/kind
            written.setdefault(key, []).append(Path(*parts).as_posix() if inside else str(path))
    for key, files in written.items():
        entry: dict[str, object] = {"status": "written", "files": sorted(files)}
        # what the console said of this export (reasoning dropped, weights ignored): kept where a report reads it
        said = [{"code": i.code, "message": i.message, "count": i.count, "fix": i.hint}
                for i in result.warnings if i.exporter == key.split("/")[0]]
        if said:
            entry["warnings"] = said
        outcome[key] = entry
    for name, issues in result.refused.items():
        first = next((i for i in issues if i.severity == "error"), issues[0])
        outcome[name] = {"status": "refused", "code": first.code, "message": first.message, "fix": first.hint,
                         "rules": sorted({i.code for i in issues})}
    report["exports"] = dict(sorted(outcome.items()))
    with atomic_writer(report_path) as fh:
        fh.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
