"""The check-and-stage pass on two (or more) processes: byte ranges of the split files, merged in order.

Each worker gets a byte range of one split file (cut at line ends), checks and converts its lines with
fresh checkers and writes its converted lines as a numbered piece; the parent merges the counts in range
order and joins the pieces in order. Output files and issues (counts, first ids) are identical to a
single-process pass.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import orjson

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


def _check_range(args: tuple[list[str], dict[str, Any], dict[str, str], str, str, int, int, int]) -> list[Any]:
    from . import get_exporter

    names, options_dict, stage_dirs, split, path, start, end, part = args
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
    for line in data.splitlines(keepends=True):
        if not line.strip():
            continue
        record = loads(line)
        for checker in checkers:
            checker.add(split, record, line)
    return [c.state() for c in checkers]


def workers() -> int:
    return max(
        1,
        min(
            os.cpu_count() or 1,
            2 if os.environ.get("CURATION_EXPORT_WORKERS") is None else int(os.environ["CURATION_EXPORT_WORKERS"]),
        ),
    )


def parallel_pass(
    names: list[str],
    checkers: dict[str, Any],
    stage_dirs: dict[str, Path],
    splits: dict[str, Path],
    options: ExportOptions,
    n_workers: int,
) -> None:
    """Run the one pass in ``n_workers`` processes and merge everything into ``checkers`` (JsonlCheckers)."""
    jobs = []
    part = 0
    for split, path in splits.items():
        for start, end in byte_ranges(path):
            jobs.append(
                (
                    names,
                    options.model_dump(),
                    {k: str(v) for k, v in stage_dirs.items()},
                    split,
                    str(path),
                    start,
                    end,
                    part,
                )
            )
            part += 1
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=get_context("fork")) as pool:
        for states in pool.map(_check_range, jobs):
            for name, state in zip(names, states, strict=True):
                checkers[name].merge(state)
    for name in stage_dirs:
        checkers[name].join_parts(list(splits))
