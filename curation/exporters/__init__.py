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

from .. import plugins, run_folder
from ..errors import CurationError
from . import parallel
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
from .jsonl import JsonlChecker, JsonlExporter

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
    "run_kinds",
]


@dataclass(slots=True)
class ExportResult:
    """What an export wrote (per format), the warnings it carries, and how long each step took."""

    run_dir: Path
    paths: dict[str, list[Path]] = field(default_factory=dict)
    issues: list[ExportIssue] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    # "<format>/<kind>" -> the issues that refused it (export_run(each=True) only)
    refused: dict[str, list[ExportIssue]] = field(default_factory=dict)
    not_taken: list[str] = field(default_factory=list)  # kinds a format does not take (method auto)

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
    report = read_json(Path(run_dir) / "report.json")
    if not options.models:
        # a user-defined model (a fine-tuned ft:... id) the run curated for: the export must know it as well
        manifest = read_json(Path(run_dir) / "manifest.json")
        config = manifest.get("config") if isinstance(manifest, dict) else None
        models = config.get("models") if isinstance(config, dict) else None
        if isinstance(models, dict) and models:
            options = options.model_copy(update={"models": models})
    if options.run_model is None:
        model = report.get("model")
        if isinstance(model, str) and model:
            options = options.model_copy(update={"run_model": model})
    if options.max_train_examples and options.train_records is None:
        train = (report.get("splits") or {}).get("train") or {}
        n = train.get("records") if isinstance(train, dict) else None
        if not isinstance(n, int):
            with split_paths(run_dir)["train"].open("rb") as fh:
                n = sum(1 for line in fh if line.strip())
        options = options.model_copy(update={"train_records": n})
    return options


def check_run(
    run_dir: Path | str, formats: list[str], options: ExportOptions | None = None
) -> tuple[list[ExportIssue], float]:
    """Check every chosen format in one pass over the splits; returns the issues and the seconds spent."""
    run_dir = Path(run_dir)
    options = _options_for(run_dir, options)
    checkers = [get_exporter(f).checker(options) for f in formats]
    started = time.perf_counter()
    _one_pass(run_dir, checkers)
    issues = [i for c in checkers for i in c.finish()]
    return issues, time.perf_counter() - started


def _one_pass(run_dir: Path, checkers: list[RecordChecker]) -> None:
    for split, path in split_paths(run_dir).items():
        for raw, record in iter_lines(path):
            for checker in checkers:
                checker.add(split, record, raw)


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


def run_kinds(run_dir: Path) -> list[str]:
    """Which kinds the run's splits hold, ``sft`` and/or ``dpo``, by a byte count (no JSON parsing): a
    preference pair has one top-level ``"chosen":`` key, and a quote inside a string is always escaped."""
    lines = pairs = 0
    for path in split_paths(run_dir).values():
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):  # noqa: B023 - fh is bound per file
                lines += block.count(b"\n")
                pairs += block.count(b'"chosen":')
    kinds = (["sft"] if lines > pairs else []) + (["dpo"] if pairs else [])
    return kinds or ["sft"]


def export_run(
    run_dir: Path | str, formats: list[str] | str, options: ExportOptions | None = None, *, each: bool = False,
    executor: str = "auto", workers: int | None = None, address: str | None = None,
) -> ExportResult:
    """Check every chosen format, then put each into ``RUN_DIR/exports/<format>/<kind>/`` (kind: sft or dpo).

    ``method: auto`` exports each kind the run holds into its own folder (a provider file holds one kind),
    skipping a kind a provider does not take. One pass over the splits checks all formats of a kind; JSONL
    formats stage their converted lines into hidden folders (``exports/.<format>.tmp-<pid>``) during that same
    pass, so the data is parsed once, and folders are renamed into place only after the checks.

    ``each=False``: any error (or, with ``allow_warnings=False``, any issue) raises :class:`ExportCheckError`
    and nothing of that kind is written. ``each=True``: each format is written or refused on its own;
    ``result.refused`` says which and why (the CLI prints one line per format).

    ``executor``, ``workers`` and ``address`` say where the check-and-stage pass runs, as ``runner.*`` does
    for `curate run`; the files written are the same for any of them.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise run_folder.RunFolderError("not a run folder (not a directory)",
                                        hint="pass the --out folder of `curate run`", where=str(run_dir))
    try:
        with run_folder.locked(run_dir, "curate export"):  # a `curate run` into the folder waits its turn
            return _export_run(run_dir, formats, options, each=each, where=(executor, workers, address))
    except OSError as exc:  # read-only or full disk, ulimit -f, permissions: one line naming the path
        raise run_folder.os_error(exc, run_dir / "exports", "check the run folder's disk and permissions") from None


def _export_run(run_dir: Path, formats: list[str] | str, options: ExportOptions | None, *, each: bool,
                where: tuple[str, int | None, str | None]) -> ExportResult:
    names = _parse_formats(formats)
    options = _options_for(run_dir, options)
    exporters = {name: get_exporter(name) for name in names}  # unknown names fail here, before reading
    if (run_dir / "splits").is_dir():  # (not a run folder at all: split_paths says so)
        run_folder.verify(run_dir)  # an interrupted run, or files that differ from the manifest: refused
    split_paths(run_dir)  # a folder without splits fails here, before anything is created
    run_folder.clean_stale(run_dir)  # staging folders of a killed export
    result = ExportResult(run_dir)
    auto = options.method == "auto"
    kinds = run_kinds(run_dir) if auto else [options.method]
    for kind in kinds:
        wanted = [n for n in names if not auto or kind in getattr(exporters[n], "kinds", {"sft", "dpo"})]
        for name in names:
            if name not in wanted:
                result.not_taken.append(f"{name} takes no {'preference pairs' if kind == 'dpo' else 'conversations'}"
                                        f"; the run's {kind.upper()} records were not exported to it")
        if wanted:
            _export_kind(run_dir, {n: exporters[n] for n in wanted}, options.model_copy(update={"method": kind}),
                         kind, result, each=each, split_kinds=auto, where=where)
    return result


def _export_kind(run_dir: Path, exporters: dict[str, Exporter], options: ExportOptions, kind: str,
                 result: ExportResult, *, each: bool, split_kinds: bool,
                 where: tuple[str, int | None, str | None]) -> None:
    names = list(exporters)
    exports = run_dir / "exports"
    created_exports = not exports.exists()
    checkers = {name: e.checker(options) for name, e in exporters.items()}
    staging: dict[str, Path] = {}
    try:
        for name, checker in checkers.items():
            if isinstance(checker, JsonlChecker) and type(exporters[name]).export is JsonlExporter.export:
                staging[name] = exports / f".{name}.{kind}.tmp-{os.getpid()}"
                shutil.rmtree(staging[name], ignore_errors=True)
                checker.stage(staging[name])
        started = time.perf_counter()
        splits = split_paths(run_dir)
        executor, workers, address = where
        size = sum(p.stat().st_size for p in splits.values())
        if parallel.uses_workers(executor, workers, size, checkers):
            parallel.parallel_pass(names, checkers, staging, splits, options, executor=executor, workers=workers,
                                   address=address)
        else:
            _one_pass(run_dir, list(checkers.values()))
        # When the kinds are split here, the other kind's records are exported in their own pass, not skipped.
        issues = [i for c in checkers.values() for i in c.finish() if not (split_kinds and i.code == "method_skipped")]
        result.issues.extend(issues)
        result.seconds[f"check:{kind}"] = round(time.perf_counter() - started, 3)

        def blocks(issue: ExportIssue) -> bool:
            return issue.severity == "error" or not options.allow_warnings

        if not each and any(blocks(i) for i in issues):
            raise ExportCheckError(issues)
        for name, exporter in exporters.items():
            mine = [i for i in issues if i.exporter == name]
            if any(blocks(i) for i in mine):
                result.refused[f"{name}/{kind}"] = mine
                continue
            started = time.perf_counter()
            final = exports / name / kind
            final.parent.mkdir(parents=True, exist_ok=True)
            if name in staging:
                checker = checkers[name]
                assert isinstance(checker, JsonlChecker)
                written = checker.close_staged()
                paths = _swap_in(staging.pop(name), final, written)
            else:
                paths = _export_atomically(exporter, run_dir, final, options)
            run_folder.seal_export(run_dir, f"{name}/{kind}")  # a file deleted or edited later is noticed
            exporter.after_export(final, options)
            result.paths.setdefault(name, []).extend(paths)
            result.seconds[f"{name}/{kind}"] = round(time.perf_counter() - started, 3)
    finally:
        for name, folder in staging.items():
            checker = checkers[name]
            if isinstance(checker, JsonlChecker):
                checker.abort_staged()
            shutil.rmtree(folder, ignore_errors=True)
        if created_exports and exports.is_dir() and not any(exports.iterdir()):
            exports.rmdir()


def _swap_in(tmp: Path, final: Path, written: list[Path]) -> list[Path]:
    """Rename a finished hidden folder into place; an older export is moved aside first and removed last."""
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(old)
    return [final / Path(p).relative_to(tmp) for p in written]


def _export_atomically(exporter: Exporter, run_dir: Path, final: Path, options: ExportOptions) -> list[Path]:
    """Write into a hidden sibling folder, then swap it in with renames (old copy removed last)."""
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        written = exporter.export(run_dir, tmp, options)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return _swap_in(tmp, final, written)
