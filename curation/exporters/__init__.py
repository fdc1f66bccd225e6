"""Exporters: provider-ready files from a run folder, checked against each provider's rules first.

``export_run(run_dir, ["openai", "hf"], options)`` reads the curated splits once to check every chosen
format (any error stops it before a single file is written), then writes each format into
``RUN_DIR/exports/<format>/`` through a temporary folder renamed into place, so a crash leaves either the
previous export or the new one, never half of one. Exporters are found through :mod:`curation.plugins`
(entry-point group ``curation.exporters``); the built-ins register the same way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import plugins
from ..errors import CurationError
from .base import (
    ExportCheckError,
    Exporter,
    ExportIssue,
    ExportOptions,
    IssueCollector,
    RecordChecker,
    atomic_writer,
    iter_lines,
    read_json,
    split_paths,
)

__all__ = [
    "ExportCheckError",
    "ExportIssue",
    "ExportOptions",
    "ExportResult",
    "Exporter",
    "IssueCollector",
    "RecordChecker",
    "atomic_writer",
    "available_exporters",
    "check_run",
    "export_run",
    "get_exporter",
]


@dataclass(slots=True)
class ExportResult:
    """What an export wrote (per format), the warnings it carries, and how long each step took."""

    run_dir: Path
    paths: dict[str, list[Path]] = field(default_factory=dict)
    issues: list[ExportIssue] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def warnings(self) -> list[ExportIssue]:
        return [i for i in self.issues if i.severity == "warning"]


def available_exporters() -> list[str]:
    return plugins.available(plugins.EXPORTER_GROUP)


def get_exporter(name: str) -> Exporter:
    cls = plugins.get_exporter(name)
    exporter = cls() if isinstance(cls, type) else cls
    if not isinstance(getattr(exporter, "name", None), str):
        raise CurationError(f"exporter {name!r} does not follow the Exporter interface", hint="check the plugin")
    return exporter


def _options_for(run_dir: Path, options: ExportOptions | None) -> ExportOptions:
    options = options or ExportOptions()
    if options.run_model is None:
        report = read_json(Path(run_dir) / "report.json")
        model = report.get("model")
        if isinstance(model, str) and model:
            options = options.model_copy(update={"run_model": model})
    return options


def check_run(
    run_dir: Path | str, formats: list[str], options: ExportOptions | None = None
) -> tuple[list[ExportIssue], float]:
    """Check every chosen format in one pass over the splits; returns the issues and the seconds spent."""
    run_dir = Path(run_dir)
    options = _options_for(run_dir, options)
    exporters = [get_exporter(f) for f in formats]
    started = time.perf_counter()
    checkers = [e.checker(options) for e in exporters]
    for split, path in split_paths(run_dir).items():
        for raw, record in iter_lines(path):
            for checker in checkers:
                checker.add(split, record, raw)
    issues = [i for c in checkers for i in c.finish()]
    return issues, time.perf_counter() - started


def _parse_formats(formats: list[str] | str) -> list[str]:
    items = formats.split(",") if isinstance(formats, str) else formats
    names: list[str] = []
    for item in items:
        name = item.strip()
        if name and name not in names:
            names.append(name)
    if not names:
        raise CurationError(
            "no export format chosen", hint=f"use --to with one of: {', '.join(available_exporters())}"
        )
    return names


def export_run(run_dir: Path | str, formats: list[str] | str, options: ExportOptions | None = None) -> ExportResult:
    """Check, then write every chosen format into ``RUN_DIR/exports/<format>/``.

    Raises :class:`ExportCheckError` (an ``ExportError``) with every issue when a check fails (or, with
    ``allow_warnings=False``, when anything is flagged), before any file is written.
    """
    run_dir = Path(run_dir)
    names = _parse_formats(formats)
    options = _options_for(run_dir, options)
    exporters = {name: get_exporter(name) for name in names}  # unknown names fail here, before reading
    result = ExportResult(run_dir)
    issues, seconds = check_run(run_dir, names, options)
    result.issues = issues
    result.seconds["check"] = round(seconds, 3)
    blocking = [i for i in issues if i.severity == "error" or not options.allow_warnings]
    if blocking:
        raise ExportCheckError(issues)
    exports = run_dir / "exports"
    exports.mkdir(exist_ok=True)
    for name, exporter in exporters.items():
        started = time.perf_counter()
        result.paths[name] = _export_atomically(exporter, run_dir, exports / name, options)
        exporter.after_export(exports / name, options)
        result.seconds[name] = round(time.perf_counter() - started, 3)
    return result


def _export_atomically(exporter: Exporter, run_dir: Path, final: Path, options: ExportOptions) -> list[Path]:
    """Write into a hidden sibling folder, then swap it in with renames (old copy removed last)."""
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        written = exporter.export(run_dir, tmp, options)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(old)
    return [final / Path(p).relative_to(tmp) for p in written]
