"""`curate inspect`: what is in these files, what is wrong with it, and what training on it would cost.

:func:`inspect_paths` reads every input through the readers, checks every record (``checks``), counts its
chat tokens for the target model (``tokens``) and returns one JSON-ready report: totals and the same per
file. Records read = valid + invalid always; a line that is not JSON is one invalid record.

Work is split like the runner's: the main process streams raw payloads (cheap), and batches of payloads
are converted, checked and counted in worker processes once an input has more than
``PARALLEL_THRESHOLD`` payloads. Results come back in submission order, so the report is the same for
any number of workers.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import CODES, check_record, finding_from_reader_error
from .errors import CurationError, InputError
from .records import record_messages
from .tokens import ModelInfo, chat_tokens, estimate_cost, get_encoding, resolve_model

PARALLEL_THRESHOLD = 5_000  # payloads read in-process before a worker pool pays for itself
PARALLEL_BYTES = 8 << 20  # uncompressed text this large holds well over PARALLEL_THRESHOLD records: pool at once
BATCH_SIZE = 1_000
FIRST_LOCATIONS = 5

# One record's outcome, as small as possible because it crosses a process boundary:
# (where, format, valid, ((code, message), ...) one per code, chat tokens or None, turns or None)
Result = tuple[str, str, bool, tuple[tuple[str, str], ...], int | None, int | None]


@dataclass(frozen=True, slots=True)
class _Task:
    path: str
    fmt: str | None
    mapping: Any
    encoding: str
    max_tokens: int
    batch: list[tuple[int | None, int, Any]]


def analyse_record(record: Any, encoding: Any, max_tokens: int) -> tuple[bool, list[tuple[str, str]], int, int]:
    """Check and count one canonical record: (valid, [(code, message)] one per code, tokens, turns)."""
    n_tokens = chat_tokens(record, encoding) if isinstance(record, dict) else 0
    findings = check_record(record, token_count=n_tokens, max_tokens=max_tokens)
    valid = True
    codes: dict[str, str] = {}
    for finding in findings:
        if finding.severity == "error":
            valid = False
        if finding.code not in codes:
            codes[finding.code] = finding.message
    turns = len(record_messages(record)) if isinstance(record, dict) else 0
    return valid, list(codes.items()), n_tokens, turns


def _run_task(task: _Task) -> list[Result]:
    from .readers import convert_payload

    encoding = get_encoding(task.encoding)
    results: list[Result] = []
    for line, index, payload in task.batch:
        for item in convert_payload(payload, task.fmt, task.mapping, path=task.path, line=line, index=index):
            if item.record is None:
                code, detail = item.error or ("unknown_format", "unreadable record")
                finding = finding_from_reader_error(code, detail)
                results.append((item.where, item.format, False, ((finding.code, finding.message),), None, None))
                continue
            try:
                valid, codes, n_tokens, turns = analyse_record(item.record, encoding, task.max_tokens)
            except Exception as exc:  # noqa: BLE001 - one record never stops inspect; the code says it is ours
                message = f"checking this record failed: {type(exc).__name__}: {exc} (a bug: please report it)"
                results.append((item.where, item.format, False, (("check_error", message),), None, None))
                continue
            results.append((item.where, item.format, valid, tuple(codes), n_tokens, turns))
    return results


def _distribution(values: list[int]) -> dict[str, float | int] | None:
    if not values:
        return None
    import numpy as np

    array = np.asarray(values, dtype=np.int64)
    p50, p95 = np.percentile(array, [50, 95])
    return {
        "min": int(array.min()),
        "mean": round(float(array.mean()), 1),
        "p50": round(float(p50), 1),
        "p95": round(float(p95), 1),
        "max": int(array.max()),
    }


@dataclass(slots=True)
class _Stats:
    """Counts for one file or for everything."""

    path: str | None = None
    format: str | None = None
    records: int = 0
    valid: int = 0
    invalid: int = 0
    by_code: Counter[str] = field(default_factory=Counter)
    first: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    formats: Counter[str] = field(default_factory=Counter)
    tokens: list[int] = field(default_factory=list)
    valid_tokens: list[int] = field(default_factory=list)
    turns: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, result: Result) -> None:
        where, fmt, valid, codes, n_tokens, turns = result
        self.records += 1
        self.formats[fmt] += 1
        if valid:
            self.valid += 1
        else:
            self.invalid += 1
        for code, message in codes:
            self.by_code[code] += 1
            located = self.first.setdefault(code, [])
            if len(located) < FIRST_LOCATIONS:
                located.append({"where": where, "message": message})
        if n_tokens is not None:
            self.tokens.append(n_tokens)
            self.turns.append(turns or 0)
            if valid:
                self.valid_tokens.append(n_tokens)

    def merge(self, other: _Stats) -> None:
        self.records += other.records
        self.valid += other.valid
        self.invalid += other.invalid
        self.by_code.update(other.by_code)
        for code, located in other.first.items():
            mine = self.first.setdefault(code, [])
            mine.extend(located[: FIRST_LOCATIONS - len(mine)])
        self.formats.update(other.formats)
        self.tokens.extend(other.tokens)
        self.valid_tokens.extend(other.valid_tokens)
        self.turns.extend(other.turns)

    def to_dict(self, model: ModelInfo) -> dict[str, Any]:
        over = sum(1 for n in self.tokens if n > model.max_tokens_per_example)
        estimate = estimate_cost(self.valid_tokens, model)
        by_code = dict(sorted(self.by_code.items(), key=lambda kv: (-kv[1], kv[0])))
        codes = {}
        for code in by_code:
            severity, hint, description = CODES.get(code, ("error", "fix the record", code))
            codes[code] = {
                "severity": severity,
                "records": by_code[code],
                "hint": hint,
                "description": description,
                "first": self.first.get(code, []),
            }
        report: dict[str, Any] = {}
        if self.path is not None:
            report["path"] = self.path
            report["format"] = self.format
        report.update(
            {
                "records": self.records,
                "valid": self.valid,
                "invalid": self.invalid,
                "formats": dict(sorted(self.formats.items())),
                "findings_by_code": by_code,
                "codes": codes,
                "tokens": {
                    "total": sum(self.tokens),
                    "valid_total": sum(self.valid_tokens),
                    "distribution": _distribution(self.tokens),
                    "over_limit": over,
                },
                "turns": {"total": sum(self.turns), "distribution": _distribution(self.turns)},
                "training": {
                    "examples": estimate.examples,
                    "epochs": estimate.epochs,
                    "tokens_per_epoch": estimate.tokens_per_epoch,
                    "billed_tokens": estimate.billed_tokens,
                    "price_per_1m": estimate.price_per_1m,
                    "cost_usd": estimate.cost_usd,
                },
                "notes": list(self.notes),
            }
        )
        return report


def _tasks(
    files: list[Path], fmt: str | None, mapping: Any, model: ModelInfo, stats: list[_Stats]
) -> Iterator[tuple[int, _Task]]:
    """Batches of payloads, file by file, in order; sniffs each file's format first."""
    from .readers import iter_payloads, sniff_format
    from .readers.containers import detect_container

    for number, path in enumerate(files):
        name = str(path)
        try:
            container = detect_container(path)
            file_fmt = fmt or sniff_format(path, container, mapping)
            stats[number].format = file_fmt or "unknown"
            batch: list[tuple[int | None, int, Any]] = []
            for item in iter_payloads(path, container):
                batch.append(item)
                if len(batch) >= BATCH_SIZE:
                    yield number, _Task(name, file_fmt, mapping, model.encoding, model.max_tokens_per_example, batch)
                    batch = []
        except CurationError:
            raise
        except (OSError, EOFError, ValueError) as exc:  # truncated gzip, zstd errors, broken parquet...
            raise InputError(
                f"cannot read file: {exc}", hint="check the file is complete and readable", where=name
            ) from None
        if batch:
            yield number, _Task(name, file_fmt, mapping, model.encoding, model.max_tokens_per_example, batch)


def _total_bytes(files: list[Path]) -> int:
    """Size on disk of plain inputs; compressed ones count as 0 (their record count is unknown up front)."""
    from .readers.files import compression_of

    total = 0
    for path in files:
        if path.is_file():
            with open(path, "rb") as fh:
                if compression_of(fh.read(8)) is None:
                    total += path.stat().st_size
    return total


def _pool_workers(workers: int | None) -> int:
    from .pipeline.executors import default_workers

    return max(1, workers) if workers is not None else default_workers()


def inspect_paths(
    paths: list[str | Path],
    *,
    model: str = "gpt-4o-mini",
    format: str | None = None,
    mapping: Any = None,
    extra_models: dict[str, Any] | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Read, check and count every record under ``paths``; the report ``curate inspect --json`` prints."""
    from .readers import check_readable, expand_inputs

    info = resolve_model(model, extra_models)
    files = expand_inputs(list(paths))
    for path in files:
        check_readable(path)
    get_encoding(info.encoding)  # load once here: forked workers inherit it
    stats = [_Stats(path=str(path)) for path in files]
    n_workers = _pool_workers(workers)

    tasks = _tasks(files, format, mapping, info, stats)
    if n_workers > 1 and _total_bytes(files) >= PARALLEL_BYTES:
        _run_parallel(tasks, stats, n_workers)
    else:
        # Small or compressed inputs: start in-process and switch to a pool only once it pays for itself.
        done = 0
        for number, task in tasks:
            for result in _run_task(task):
                stats[number].add(result)
            done += len(task.batch)
            if done >= PARALLEL_THRESHOLD and n_workers > 1:
                _run_parallel(tasks, stats, n_workers)
                break

    total = _Stats()
    for file_stats in stats:
        if file_stats.records == 0:
            file_stats.notes.append("empty file: no records")
            total.notes.append(f"{file_stats.path}: empty file, no records")
        elif len(file_stats.formats) > 1:
            mixed = ", ".join(f"{name} {count}" for name, count in sorted(file_stats.formats.items()))
            file_stats.notes.append(f"records in several formats: {mixed}")
        total.merge(file_stats)
    if total.valid < info.min_examples:
        total.notes.append(
            f"too_few_examples: {total.valid} valid example(s); {info.provider} needs at least {info.min_examples}"
        )
    if info.training_price_per_1m is None:
        total.notes.append(f"no published training price for {info.name}: cost not estimated")

    report = total.to_dict(info)
    report["model"] = {
        "name": info.name,
        "provider": info.provider,
        "encoding": info.encoding,
        "max_tokens_per_example": info.max_tokens_per_example,
        "training_price_per_1m": info.training_price_per_1m,
    }
    report["files"] = [s.to_dict(info) for s in stats]
    return report


def _run_parallel(tasks: Iterator[tuple[int, _Task]], stats: list[_Stats], workers: int) -> None:
    """Run the remaining tasks on a pool, a bounded window in flight, merging results in submission order."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    window = workers * 3
    with context.Pool(workers) as pool:
        pending: deque[tuple[int, Any]] = deque()
        for number, task in tasks:
            pending.append((number, pool.apply_async(_run_task, (task,))))
            if len(pending) >= window:
                done_number, async_result = pending.popleft()
                for result in async_result.get():
                    stats[done_number].add(result)
        while pending:
            done_number, async_result = pending.popleft()
            for result in async_result.get():
                stats[done_number].add(result)
