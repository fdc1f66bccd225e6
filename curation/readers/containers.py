"""The container layer: stream raw payloads out of a file without holding it whole.

A payload is what one record was written as: the raw bytes of a JSONL line or of one JSON array element
(parsed later, in worker processes), or a row dict from parquet, CSV, Arrow or a datasets folder.
The container is decided by content, not the extension: parquet and Arrow by magic bytes, a JSON array by
its leading ``[``, a pretty-printed single object by a first line that is not a whole JSON value.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from curation.errors import InputError
from curation.readers.files import (
    ARROW_FILE_MAGIC,
    PARQUET_MAGIC,
    UTF8_BOM,
    _is_tabular_name,
    is_hf_disk_folder,
    open_binary,
)

Payload = bytes | dict[str, Any] | Any
CONTAINERS = ("jsonl", "json", "json_object", "parquet", "csv", "tsv", "arrow", "hf_disk")

# A pretty-printed single object is loaded whole; past this size it is much more likely a JSONL file whose
# first line is broken, so we read it line by line instead and report that line.
SINGLE_OBJECT_LIMIT = 256 << 20
ROW_BATCH = 1000


def _first_line(path: str | Path, limit: int = 1 << 20) -> tuple[bytes, bytes]:
    """The first non-blank line (up to ``limit`` bytes, BOM stripped) and the next non-blank one's start."""
    with open_binary(path) as fh:
        first = b""
        second = b""
        start = True
        while True:
            line = fh.readline(limit)
            if not line:
                break
            if start and line.startswith(UTF8_BOM):
                line = line[len(UTF8_BOM) :]
            start = False
            if not line.strip():
                continue
            if not first:
                first = line
                if not line.endswith(b"\n"):  # longer than limit or last line: no second line to look at
                    break
                continue
            second = line[:16]
            break
    return first, second


def _parses(data: bytes) -> bool:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return True


def detect_container(path: str | Path) -> str:
    """How a path stores its records: one of ``CONTAINERS``."""
    path = Path(path)
    if path.is_dir():
        if is_hf_disk_folder(path):
            return "hf_disk"
        raise InputError("a directory is not one input", hint="pass it through expand_inputs()", where=str(path))
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic.startswith(PARQUET_MAGIC):
        return "parquet"
    if magic.startswith(ARROW_FILE_MAGIC) or path.suffix.lower() == ".arrow":
        return "arrow"
    if _is_tabular_name(path):
        return "tsv" if ".tsv" in path.name.lower() else "csv"
    first, second = _first_line(path)
    stripped = first.strip()
    if stripped.startswith(b"["):
        # A JSONL file whose lines are arrays is still JSONL (every line then reports a data_type error).
        if second.strip().startswith(b"[") and _parses(stripped):
            return "jsonl"
        return "json"
    if stripped.startswith(b"{") and not _parses(stripped) and first.endswith(b"\n"):
        return "json_object"
    return "jsonl"


def iter_payloads(path: str | Path, container: str | None = None) -> Iterator[tuple[int | None, int, Payload]]:
    """Yield ``(line, index, payload)``: 1-based line (None outside JSONL), 0-based index, raw payload."""
    container = container or detect_container(path)
    if container == "jsonl":
        yield from _iter_jsonl(path)
    elif container == "json":
        yield from _iter_json_array(path)
    elif container == "json_object":
        yield from _iter_json_object(path)
    elif container == "parquet":
        yield from _iter_parquet(path)
    elif container in ("csv", "tsv"):
        yield from _iter_csv(path, "\t" if container == "tsv" else ",")
    elif container == "arrow":
        yield from _iter_arrow(path)
    elif container == "hf_disk":
        yield from _iter_hf_disk(path)
    else:
        raise InputError(f"unknown container {container!r}", hint=f"use one of {', '.join(CONTAINERS)}")


def _iter_jsonl(path: str | Path) -> Iterator[tuple[int | None, int, bytes]]:
    index = 0
    with open_binary(path) as fh:
        for number, line in enumerate(fh, 1):
            if number == 1 and line.startswith(UTF8_BOM):
                line = line[len(UTF8_BOM) :]
            if line.isspace() or not line:
                continue
            yield number, index, line
            index += 1


def _iter_json_object(path: str | Path) -> Iterator[tuple[int | None, int, bytes]]:
    with open_binary(path) as fh:
        data = fh.read(SINGLE_OBJECT_LIMIT + 1)
        if len(data) > SINGLE_OBJECT_LIMIT:
            # Too big to be one pretty-printed record: treat it as JSONL (its first line is then reported).
            yield from _iter_jsonl(path)
            return
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    if data.strip():
        yield None, 0, data


# Tokens that matter for finding element boundaries in a JSON array: whole strings (so brackets and
# commas inside them are skipped in C), brackets and commas. An unterminated string at the end of the
# buffer matches with an empty closing group, which means "read more".
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*("?)|[\[\]{},]', re.DOTALL)
_CHUNK = 1 << 20


def _iter_json_array(path: str | Path) -> Iterator[tuple[int | None, int, bytes]]:
    """Stream the elements of a top-level JSON array as raw bytes, holding about one element at a time."""
    with open_binary(path) as fh:
        buf = fh.read(_CHUNK)
        if buf.startswith(UTF8_BOM):
            buf = buf[len(UTF8_BOM) :]
        eof = False
        pos = buf.find(b"[")
        if pos < 0:
            return
        pos += 1
        depth = 1
        start = pos  # where the current element begins in buf
        index = 0
        chunk = _CHUNK
        while depth > 0:
            match = _TOKENS.search(buf, pos)
            incomplete = match is None or (match.group(0)[:1] == b'"' and not match.group(1))
            if incomplete:
                if eof:
                    break
                more = fh.read(chunk)
                chunk = min(chunk * 2, 64 << 20)  # grow so a 50 MB string is not rescanned a thousand times
                if not more:
                    eof = True
                # Drop what is already yielded so the buffer holds about one element.
                buf = buf[start:] + more
                pos -= start
                start = 0
                continue
            chunk = _CHUNK
            token = match.group(0)
            pos = match.end()
            if token[:1] == b'"':
                continue
            if token in (b"{", b"["):
                depth += 1
            elif token in (b"}", b"]"):
                depth -= 1
            if (depth == 1 and token == b",") or depth == 0:
                element = buf[start : match.start()].strip()
                if element or token == b",":
                    yield None, index, element
                    index += 1
                start = pos
        # A truncated array: whatever is left is one (broken) element, reported by the converter.
        rest = buf[start:].strip()
        if depth > 0 and rest:
            yield None, index, rest


def _iter_rows(batches: Iterator[Any]) -> Iterator[tuple[int | None, int, dict[str, Any]]]:
    index = 0
    for batch in batches:
        for row in batch.to_pylist():
            yield None, index, row
            index += 1


def _iter_parquet(path: str | Path) -> Iterator[tuple[int | None, int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    with pq.ParquetFile(str(path)) as pf:
        yield from _iter_rows(pf.iter_batches(batch_size=ROW_BATCH))


def _iter_arrow(path: str | Path) -> Iterator[tuple[int | None, int, dict[str, Any]]]:
    import pyarrow as pa

    with pa.memory_map(str(path), "r") as source:
        try:
            reader = pa.ipc.open_file(source)
            batches: Iterator[Any] = (reader.get_batch(i) for i in range(reader.num_record_batches))
        except pa.ArrowInvalid:  # the datasets cache writes the IPC *stream* format
            source.seek(0)
            batches = iter(pa.ipc.open_stream(source))
        yield from _iter_rows(batches)


def _iter_csv(path: str | Path, delimiter: str) -> Iterator[tuple[int | None, int, dict[str, Any]]]:
    # The csv module keeps every cell a string (no type guessing) and streams; a BOM is dropped by utf-8-sig.
    with open_binary(path) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
        for index, row in enumerate(csv.DictReader(text, delimiter=delimiter)):
            yield None, index, row


def _iter_hf_disk(path: str | Path) -> Iterator[tuple[int | None, int, dict[str, Any]]]:
    from datasets import DatasetDict, load_from_disk

    loaded = load_from_disk(str(path))
    parts = [loaded[name] for name in loaded] if isinstance(loaded, DatasetDict) else [loaded]
    index = 0
    for part in parts:
        for batch in part.with_format("arrow").iter(batch_size=ROW_BATCH):
            for row in batch.to_pylist():
                yield None, index, row
                index += 1
