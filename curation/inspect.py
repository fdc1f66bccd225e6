"""`curate inspect`: what is in these files, what is wrong with it, and what training on it would cost.

:func:`inspect_paths` reads every input through the readers, checks every record (``checks``), counts its
chat tokens for the target model (``tokens``) and returns one JSON-ready report: totals and the same per
file. Records read = valid + invalid always; a line that is not JSON is one invalid record.

Work is split like the runner's, on the same executors (``pipeline/executors.py``: in-process, spawned
worker processes, Ray): the main process streams raw payloads (cheap), and batches of payloads are
converted, checked and counted by the executor; under ``auto``, in this process until an input has shown
more than ``PARALLEL_THRESHOLD`` payloads. Results come back in submission order, so the report is the same
for any executor and number of workers.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import CODES, check_record, finding_from_reader_error
from .records import record_messages
from .tokens import DROPS_REASONING, ModelInfo, chat_token_counts, estimate_cost, get_encoding, resolve_model

PARALLEL_THRESHOLD = 5_000  # payloads read in-process before a worker pool pays for itself
PARALLEL_BYTES = 8 << 20  # uncompressed text this large holds well over PARALLEL_THRESHOLD records: pool at once
BATCH_SIZE = 1_000
FIRST_LOCATIONS = 5

# One record's outcome, as small as possible because it crosses a process boundary:
# (where, format, valid, ((code, message), ...) one per code, chat tokens or None, turns or None,
#  the code `curate run` rejects it with or None, what the reader left out of it (metadata.left_out) or None)
Result = tuple[str, str, bool, tuple[tuple[str, str], ...], int | None, int | None, str | None,
               dict[str, int] | None]


@dataclass(frozen=True, slots=True)
class _Task:
    path: str
    fmt: str | None
    mapping: Any
    encoding: str
    max_tokens: int
    batch: list[tuple[int | None, int, Any]]
    repairs: tuple[Any, ...] = ()  # the run's repair stages (normalise), applied before validation
    reasoning: bool = True  # whether reasoning counts to the tokens (not for OpenAI and Azure models)


def _judge(record: Any, encoding: Any, max_tokens: int, reasoning: bool = True,
           ) -> tuple[list[Any], int, int, str | None]:
    """Findings, tokens, turns and the reason code `curate run` would reject the record with: its first
    validation error, else over_token_limit (the run's length stage), else None."""
    from .pipeline.judge import reject_reason

    n_tokens = chat_token_counts(record, encoding, reasoning)[0] if isinstance(record, dict) else 0
    findings = check_record(record, token_count=n_tokens, max_tokens=max_tokens)
    verdict = reject_reason([f for f in findings if f.code != "over_token_limit"])
    reason = verdict[0] if verdict else ("over_token_limit" if any(f.code == "over_token_limit" for f in findings)
                                         else None)
    turns = len(record_messages(record)) if isinstance(record, dict) else 0
    return findings, n_tokens, turns, reason


def analyse_record(record: Any, encoding: Any, max_tokens: int) -> tuple[bool, list[tuple[str, str]], int, int]:
    """Check and count one canonical record: (valid, [(code, message)] one per code, tokens, turns)."""
    findings, n_tokens, turns, _reason = _judge(record, encoding, max_tokens)
    return _summarise(findings) + (n_tokens, turns)


def _summarise(findings: list[Any]) -> tuple[bool, list[tuple[str, str]]]:
    valid = True
    codes: dict[str, str] = {}
    for finding in findings:
        if finding.severity == "error":
            valid = False
        if finding.code not in codes:
            codes[finding.code] = finding.message
    return valid, list(codes.items())


def _problem_result(problem: Any) -> Result:
    """A file that cannot be read: one invalid record under the file-level code, as in `curate run`."""
    return (problem.path, "unknown", False, ((problem.code, problem.message),), None, None, problem.code, None)


def _run_task(task: _Task) -> list[Result]:
    from .pipeline.judge import repair
    from .readers import FileProblem, convert_payload

    encoding = _WORKER_ENCODINGS.get(task.encoding) or get_encoding(task.encoding)
    repairs = list(task.repairs)
    results: list[Result] = []
    for line, index, payload in task.batch:
        if isinstance(payload, FileProblem):
            results.append(_problem_result(payload))
            continue
        for item in convert_payload(payload, task.fmt, task.mapping, path=task.path, line=line, index=index):
            if item.record is None:
                code, detail = item.error or ("unknown_format", "unreadable record")
                finding = finding_from_reader_error(code, detail)
                results.append((item.where, item.format, False, ((finding.code, finding.message),), None, None,
                                finding.code, None))
                continue
            repair(item.record, repairs)
            try:
                findings, n_tokens, turns, reason = _judge(item.record, encoding, task.max_tokens, task.reasoning)
            except Exception as exc:  # noqa: BLE001 - one record never stops inspect; the code says it is ours
                message = f"checking this record failed: {type(exc).__name__}: {exc} (a bug: please report it)"
                results.append((item.where, item.format, False, (("check_error", message),), None, None,
                                "check_error", None))
                continue
            valid, codes = _summarise(findings)
            left_out = (item.record.get("metadata") or {}).get("left_out")
            results.append((item.where, item.format, valid, tuple(codes), n_tokens, turns, reason,
                            left_out if isinstance(left_out, dict) and left_out else None))
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
    rejected_by_code: Counter[str] = field(default_factory=Counter)  # what `curate run` rejects each with
    bad_files: list[dict[str, str]] = field(default_factory=list)
    first: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    formats: Counter[str] = field(default_factory=Counter)
    tokens: list[int] = field(default_factory=list)
    valid_tokens: list[int] = field(default_factory=list)
    turns: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    left_out: Counter[str] = field(default_factory=Counter)  # support-desk notes, bots, images: never training text

    def add(self, result: Result) -> None:
        where, fmt, valid, codes, n_tokens, turns, reason, left_out = result
        self.records += 1
        if left_out:
            self.left_out.update(left_out)
        if reason is not None:
            self.rejected_by_code[reason] += 1
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
        self.rejected_by_code.update(other.rejected_by_code)
        self.bad_files.extend(other.bad_files)
        for code, located in other.first.items():
            mine = self.first.setdefault(code, [])
            mine.extend(located[: FIRST_LOCATIONS - len(mine)])
        self.formats.update(other.formats)
        self.tokens.extend(other.tokens)
        self.valid_tokens.extend(other.valid_tokens)
        self.turns.extend(other.turns)
        self.left_out.update(other.left_out)

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
                # The reason code `curate run` rejects each invalid record with (its first error): the
                # numbers to compare with the run's ingest + validate funnel.
                "rejected_by_code": dict(sorted(self.rejected_by_code.items(), key=lambda kv: (-kv[1], kv[0]))),
                "bad_files": list(self.bad_files),
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
                "left_out": dict(sorted(self.left_out.items())),
                "notes": list(self.notes),
            }
        )
        return report


def _tasks(
    specs: list[tuple[Path, str | None, Any]], model: ModelInfo, stats: list[_Stats], repairs: tuple[Any, ...]
) -> Iterator[tuple[int, _Task]]:
    """Batches of payloads, file by file, in order; sniffs each file's format first. A file that cannot be
    read (at all, or from some point on) ends in one ``FileProblem`` payload, as in `curate run`."""
    from .readers import FileProblem, iter_payloads_or_problem, probe_input

    reasoning = model.provider not in DROPS_REASONING
    for number, (path, fmt, mapping) in enumerate(specs):
        name = str(path)
        probed = probe_input(path, fmt, mapping)
        if isinstance(probed, FileProblem):
            stats[number].format = "unreadable"
            stats[number].bad_files.append(probed.to_dict())
            yield number, _Task(name, fmt, mapping, model.encoding, model.max_tokens_per_example, [(None, 0, probed)],
                                reasoning=reasoning)
            continue
        container, file_fmt = probed
        stats[number].format = file_fmt or "unknown"
        batch: list[tuple[int | None, int, Any]] = []
        for item in iter_payloads_or_problem(path, container, file_fmt, mapping):
            if isinstance(item[2], FileProblem):
                stats[number].bad_files.append(item[2].to_dict())
            batch.append(item)
            if len(batch) >= BATCH_SIZE:
                yield number, _Task(name, file_fmt, mapping, model.encoding, model.max_tokens_per_example, batch,
                                    repairs, reasoning)
                batch = []
        if batch:
            yield number, _Task(name, file_fmt, mapping, model.encoding, model.max_tokens_per_example, batch, repairs,
                            reasoning)


def _total_bytes(files: list[Path]) -> int:
    """Size on disk of plain inputs; compressed ones count as 0 (their record count is unknown up front)."""
    from .readers.files import compression_of

    total = 0
    for path in files:
        if path.is_file():
            try:
                with open(path, "rb") as fh:
                    if compression_of(fh.read(8)) is None:
                        total += path.stat().st_size
            except OSError:  # unreadable: reported as a file-level reject
                continue
    return total


def inspect_paths(
    paths: list[str | Path],
    *,
    model: str = "azure/gpt-4.1-mini",
    format: str | None = None,
    mapping: Any = None,
    extra_models: dict[str, Any] | None = None,
    workers: int | None = None,
    normalise: Any = None,
    executor: str = "auto",
    address: str | None = None,
) -> dict[str, Any]:
    """Read, check and count every record under ``paths``; the report ``curate inspect --json`` prints.

    ``normalise`` is the run's ``NormaliseConfig`` (default: the run's default): its repairs happen before
    validation, exactly as in `curate run`, so both count the same codes. ``executor``, ``workers`` and
    ``address`` mean what ``runner.*`` means for `curate run`; the report is the same for any of them.
    """
    from .readers import expand_inputs

    specs = [(path, format, mapping) for path in expand_inputs(list(paths))]
    return _inspect(specs, resolve_model(model, extra_models), normalise, _Where(executor, workers, address))


def inspect_config(
    config: Any, *, workers: int | None = None, executor: str | None = None, address: str | None = None
) -> dict[str, Any]:
    """Inspect the inputs of a run config with its formats, mappings, model and normalise settings; where it
    runs comes from the config's ``runner`` unless ``workers``, ``executor`` or ``address`` say otherwise."""
    from .errors import ConfigError
    from .readers import expand_inputs

    if not config.inputs:
        raise ConfigError("the config lists no inputs", hint="add `inputs:` to the config or pass FILE arguments")
    specs = [(path, spec.format, spec.mapping) for spec in config.inputs for path in expand_inputs([spec.path])]
    info = resolve_model(config.model, {k: v.model_dump() for k, v in config.models.items()})
    runner = config.runner
    where = _Where(executor or runner.executor, workers if workers is not None else runner.workers,
                   address or runner.address)
    return _inspect(specs, info, config.normalise, where)


def _repairs(normalise: Any) -> tuple[Any, ...]:
    from .pipeline.stages.normalise import NormaliseConfig, NormaliseStage

    config = normalise if normalise is not None else NormaliseConfig()
    return (NormaliseStage(config),) if config.enabled else ()


@dataclass(frozen=True, slots=True)
class _Where:
    """Where the batches run: ``runner.executor``, ``runner.workers`` and ``runner.address`` of `curate run`."""

    executor: str = "auto"
    workers: int | None = None
    address: str | None = None


_WORKER_ENCODINGS: dict[str, Any] = {}  # in a worker: the encoding the main process sent, by name


def _init_worker(name: str, pickled: bytes | None = None) -> None:
    """Have the encoding when a worker starts (spawned workers inherit nothing), not with its first batch.
    Unpickling the main process's copy skips reading, verifying and parsing the rank file again (about half
    of the cost of loading it)."""
    if pickled is not None:
        import pickle

        _WORKER_ENCODINGS[name] = pickle.loads(pickled)  # noqa: S301 - our own bytes, from the main process
    else:
        get_encoding(name)


def _run_numbered(item: tuple[int, _Task]) -> tuple[int, list[Result]]:
    number, task = item
    return number, _run_task(task)


def _inspect(
    specs: list[tuple[Path, str | None, Any]], info: ModelInfo, normalise: Any, where: _Where
) -> dict[str, Any]:
    from .pipeline.executors import resolve_kind

    files = [path for path, _fmt, _mapping in specs]
    get_encoding(info.encoding)  # load it once here, before any batch runs in this process
    stats = [_Stats(path=str(path)) for path in files]

    tasks = _tasks(specs, info, stats, _repairs(normalise))
    # Plain inputs this large hold well over PARALLEL_THRESHOLD records: workers start at once. Smaller or
    # compressed ones (their record count is unknown) start in this process under ``auto``, and move to
    # workers only once PARALLEL_THRESHOLD payloads showed that they pay for themselves.
    small_input = _total_bytes(files) < PARALLEL_BYTES
    if small_input and resolve_kind(where.executor, where.workers, small_input=True) == "inprocess":
        grows = resolve_kind(where.executor, where.workers, small_input=False) != "inprocess"
        done = 0
        for number, task in tasks:
            for result in _run_task(task):
                stats[number].add(result)
            done += len(task.batch)
            if grows and done >= PARALLEL_THRESHOLD:
                break
        small_input = False  # what is left, if anything, comes after PARALLEL_THRESHOLD payloads
    _run_on_executor(tasks, stats, info.encoding, where, small_input)

    total = _Stats()
    for file_stats in stats:
        for bad in file_stats.bad_files:
            file_stats.notes.append(f"unreadable file: {bad['reason']}: {bad['detail']} (fix: {bad['fix']})")
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
    if total.left_out:
        parts = ", ".join(f"{name} {n}" for name, n in sorted(total.left_out.items()))
        total.notes.append(f"left out of the records read, never training text (each record names its own in "
                           f"metadata.left_out): {parts}")

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


def _run_on_executor(
    tasks: Iterator[tuple[int, _Task]], stats: list[_Stats], encoding: str, where: _Where, small_input: bool
) -> None:
    """Run the remaining tasks on the executor `curate run` would use, merging results in submission order
    (a bounded window in flight). Ctrl-C or an error ends the workers before it goes on up (exit 130 for
    Ctrl-C: the CLI says so in one line; workers ignore SIGINT, so none prints a traceback)."""
    first = next(tasks, None)
    if first is None:  # nothing left: no worker starts
        return
    from .pipeline.executors import make_executor, resolve_kind
    from .run_folder import pause_point

    initargs: tuple[Any, ...] = (encoding,)
    if resolve_kind(where.executor, where.workers, small_input) != "inprocess":
        import pickle

        initargs = (encoding, pickle.dumps(get_encoding(encoding)))  # pickled once, not once per worker
    executor = make_executor(where.executor, where.workers, _init_worker, initargs, small_input=small_input,
                             address=where.address)
    try:
        for number, results in executor.map_ordered(_run_numbered, itertools.chain((first,), tasks)):
            for result in results:
                stats[number].add(result)
            pause_point("inspect_batch")
        executor.close()
    except BaseException:
        terminate = getattr(executor, "terminate", None)
        if terminate is not None:
            terminate()
        raise
