"""The check-and-stage pass on the run's executors: byte ranges of the split files, merged in order.

Each batch is a byte range of one split file (cut at line ends); a worker checks and converts its lines
with fresh checkers and writes its converted lines as a numbered piece; the parent merges the counts in
range order and joins the pieces in order. Output files and issues (counts, first ids) are identical to a
single-process pass. Where the batches run is ``pipeline/executors.py``'s business, as for `curate run`
(spawned worker processes that ignore Ctrl-C, or Ray): workers read the splits and write the pieces by
path, so a Ray cluster needs the run folder on a filesystem every node shares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from .. import run_folder
from ..errors import CurationError
from .base import ExportOptions

CHUNK_BYTES = 32 * 1024 * 1024
MIN_PARALLEL_BYTES = 64 * 1024 * 1024  # below this, starting processes costs more than it saves


def byte_ranges(path: Path, chunk: int | None = None) -> list[tuple[int, int]]:
    chunk = chunk or CHUNK_BYTES
    size = path.stat().st_size
    ranges, start = [], 0
    with open(path, "rb") as fh:
        while start < size:
            fh.seek(min(start + chunk, size))
            fh.readline()  # move to the end of the line the cut fell in
            end = min(fh.tell(), size)
            ranges.append((start, end))
            start = end
    return ranges


# (names, options, stage dirs by name, split, path, start, end, piece number): picklable, for spawned workers
RangeJob = tuple[list[str], dict[str, Any], dict[str, str], str, str, int, int, int]


def uses_workers(executor: str, workers: int | None, size: int, checkers: dict[str, Any]) -> bool:
    """Whether the pass goes to the executor: JSONL formats only, and under ``auto`` splits big enough to
    repay starting workers (``MIN_PARALLEL_BYTES``); ``processes`` or ``ray`` asked for by name always."""
    from ..pipeline.executors import resolve_kind
    from .jsonl import JsonlChecker

    if not all(isinstance(c, JsonlChecker) for c in checkers.values()):
        return False
    return resolve_kind(executor, workers, small_input=size < MIN_PARALLEL_BYTES) != "inprocess"


def _init_worker(names: list[str]) -> None:
    """Find the exporters when a worker starts (plugins are looked up once), not with its first range."""
    from . import get_exporter

    for name in names:
        get_exporter(name)


def _check_range(job: RangeJob) -> list[Any]:
    from . import get_exporter

    names, options_dict, stage_dirs, split, path, start, end, part = job
    options = ExportOptions.model_validate(options_dict)
    checkers = []
    for name in names:
        checker = get_exporter(name).checker(options)
        if name in stage_dirs:
            checker.stage_dir = Path(stage_dirs[name])
            checker.part = part
        checkers.append(checker)
    loads = orjson.loads
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    for number, line in enumerate(data.splitlines(keepends=True)):
        if not line.strip():
            continue
        try:
            record = loads(line)
        except orjson.JSONDecodeError as exc:
            raise _damaged(path, start, number, f"line is not valid JSON ({exc})") from None
        if not isinstance(record, dict):
            raise _damaged(path, start, number, f"line is a JSON {type(record).__name__}, not a record object")
        for checker in checkers:
            checker.add(split, record, line)
    return [c.state() for c in checkers]


def _damaged(path: str, start: int, index: int, message: str) -> CurationError:
    """The error the one-process pass (``iter_lines``) gives for this line, with its line number in the file."""
    with open(path, "rb") as fh:
        before = fh.read(start).count(b"\n")
    return CurationError(message, hint="the run folder is damaged; re-run `curate run`",
                         where=f"{path}:{before + index + 1}")


def range_jobs(names: list[str], stage_dirs: dict[str, Path], splits: dict[str, Path], options: ExportOptions,
               ) -> list[RangeJob]:
    jobs: list[RangeJob] = []
    options_dict = options.model_dump()
    dirs = {k: str(v) for k, v in stage_dirs.items()}
    for split, path in splits.items():
        for start, end in byte_ranges(path):
            jobs.append((names, options_dict, dirs, split, str(path), start, end, len(jobs)))
    return jobs


def parallel_pass(
    names: list[str],
    checkers: dict[str, Any],
    stage_dirs: dict[str, Path],
    splits: dict[str, Path],
    options: ExportOptions,
    *,
    executor: str = "processes",
    workers: int | None = None,
    address: str | None = None,
) -> None:
    """Run the one pass on the executor and merge everything into ``checkers`` (JsonlCheckers), in range
    order. Ctrl-C or an error ends the workers before it goes on up (the CLI exits 130 for Ctrl-C)."""
    from ..pipeline.executors import make_executor

    jobs = range_jobs(names, stage_dirs, splits, options)
    pool = make_executor(executor, workers, _init_worker, (names,), small_input=False, address=address)
    try:
        for states in pool.map_ordered(_check_range, jobs):
            for name, state in zip(names, states, strict=True):
                checkers[name].merge(state)
            run_folder.pause_point("export_batch")
        pool.close()
    except BaseException:
        terminate = getattr(pool, "terminate", None)
        if terminate is not None:
            terminate()
        raise
    for name in stage_dirs:
        checkers[name].join_parts(list(splits))
