"""The container layer: stream raw payloads out of a file without holding it whole.

A payload is what one record was written as: the raw bytes of a JSONL line or of one JSON array element
(parsed later, in worker processes), or a row dict from parquet, CSV, Arrow or a datasets folder.
The container is decided by content, not the extension: parquet and Arrow by magic bytes, a JSON array by
its leading ``[``, a pretty-printed single object by a first line that is not a whole JSON value.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from curation.errors import InputError
from curation.readers.files import (
    ARROW_FILE_MAGIC,
    PARQUET_MAGIC,
    UTF8_BOM,
    ZIP_MAGIC,
    _is_tabular_name,
    check_regular,
    is_column_names,
    is_hf_disk_folder,
    is_xlsx,
    open_binary,
)


@dataclass(frozen=True, slots=True)
class BrokenPayload:
    """What the container layer could not cut out as one record: the converter turns it into a reject.

    Yielded instead of raising, so that the records before it are kept and the file still ends in a
    reason, never in a hang or a traceback (a malformed array, a record over ``MAX_RECORD_BYTES``).
    """

    code: str
    detail: str
    raw: bytes = b""
    # a bracket break where a second array starts ("[...][...]", "[...],[...]"): in a file of bare turns it
    # ends one chat and starts the next, where a stray ']' or '}' between two turns does not
    new_array: bool = False


Payload = bytes | dict[str, Any] | BrokenPayload | Any
CONTAINERS = ("jsonl", "json", "json_object", "parquet", "csv", "tsv", "arrow", "xlsx", "hf_disk")

# A pretty-printed single object is loaded whole; past this size it is much more likely a JSONL file whose
# first line is broken, so we read it line by line instead and report that line.
SINGLE_OBJECT_LIMIT = 256 << 20
ROW_BATCH = 1000
# One JSONL line or one array element over this size is refused as a record (memory stays bounded on a 1 GB
# line or /dev/zero-like input); the largest real chat records we have seen are a few MB.
MAX_RECORD_BYTES = 64 << 20
_RAW_KEEP = 2000  # bytes of a broken payload kept for the reject's `raw`


def _too_large(where: str, size: int) -> str:
    return (f"{where}: {size:,} bytes or more, over the {MAX_RECORD_BYTES >> 20} MiB limit for one record "
            "(a missing newline? split the file into one JSON object per line)")


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
    check_regular(path)  # a FIFO would block this open forever
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic.startswith(PARQUET_MAGIC):
        return "parquet"
    if magic.startswith(ARROW_FILE_MAGIC) or path.suffix.lower() == ".arrow":
        return "arrow"
    if magic.startswith(ZIP_MAGIC) and is_xlsx(path):
        return "xlsx"  # check_readable refuses any other zip archive
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
        return "json_object" if _is_single_object(path, second) else "jsonl"
    if path.suffix.lower() == ".txt" and is_column_names(stripped.split(b"\t")):
        return "tsv"  # Excel's "Unicode Text (*.txt)": UTF-16 with a BOM, tab-separated, a row of column names first
    return "jsonl"


def _is_single_object(path: str | Path, second: bytes) -> bool:
    """A first line that is not a whole object: one pretty-printed object, or JSONL with a broken first line?"""
    with open_binary(path) as fh:
        data = fh.read(SINGLE_OBJECT_LIMIT + 1)
    if len(data) <= SINGLE_OBJECT_LIMIT and _parses(data.removeprefix(UTF8_BOM)):
        return True
    # Not valid as a whole either: JSONL when the next line starts a new object, else one broken object.
    return not second.lstrip().startswith(b"{")


def iter_payloads(path: str | Path, container: str | None = None) -> Iterator[tuple[int | None, int, Payload]]:
    """Yield ``(line, index, payload)``: 1-based line (None outside JSONL), 0-based index, raw payload."""
    container = container or detect_container(path)
    if container == "jsonl":
        yield from _iter_jsonl(path)
    elif container == "json":
        yield from _one_conversation_or_elements(_iter_json_array(path))
    elif container == "json_object":
        yield from _iter_json_object(path)
    elif container == "parquet":
        yield from _iter_parquet(path)
    elif container in ("csv", "tsv"):
        yield from _iter_csv(path, "\t" if container == "tsv" else ",")
    elif container == "arrow":
        yield from _iter_arrow(path)
    elif container == "xlsx":
        yield from _iter_xlsx(path)
    elif container == "hf_disk":
        yield from _iter_hf_disk(path)
    else:
        raise InputError(f"unknown container {container!r}", hint=f"use one of {', '.join(CONTAINERS)}")


# The keys a single chat turn holds; an object with only these (and a speaker and some text) is a turn. Chat apps
# stamp each exported message with its own id and time, which name the message, not a conversation (a key naming
# the conversation makes a message table, grouped by its assembler).
_TURN_KEYS = frozenset({"role", "from", "content", "value", "name", "tool_calls", "tool_call_id", "function_call",
                        "weight", "reasoning_content", "reasoning", "thinking", "refusal", "id", "message_id",
                        "timestamp", "created_at", "create_time", "time", "date"})

# A Vercel AI SDK UIMessage: its words are in typed parts, its bookkeeping in metadata (a saved useChat history)
_UI_TURN_KEYS = _TURN_KEYS | {"parts", "metadata", "toolInvocations", "createdAt", "experimental_attachments",
                              "annotations"}


def is_bare_turn(obj: Any) -> bool:
    """``{"role": "user", "content": "hi"}`` alone: one message, not a record (no conversation id, no
    ``messages``), as a file holding one conversation as a bare list of turns writes it."""
    return (type(obj) is dict and ("role" in obj or "from" in obj) and ("content" in obj or "value" in obj
            or "tool_calls" in obj) and _TURN_KEYS.issuperset(obj)) or (
        ui_parts(obj) and _UI_TURN_KEYS.issuperset(obj)) or lc_type(obj) is not None


def lc_type(obj: Any) -> str | None:
    """The LangChain type of a dumped message: ``messages_to_dict``'s ``{"type": "human", "data": {...}}`` gives
    ``human``, ``dumpd``'s ``{"lc": 1, "id": [..., "HumanMessage"], "kwargs": {...}}`` gives ``HumanMessage``; None
    for anything else."""
    if type(obj) is not dict:
        return None
    if "lc" in obj:
        path = obj.get("id")
        name = path[-1] if type(path) is list and path else None
        return name if (type(name) is str and name.endswith(("Message", "MessageChunk"))
                        and type(obj.get("kwargs")) is dict) else None
    kind, data = obj.get("type"), obj.get("data")
    return kind if (type(kind) is str and type(data) is dict and "content" in data and len(obj) == 2) else None


def ui_parts(message: Any) -> bool:
    """A Vercel AI SDK UIMessage's ``parts``: each a typed part (Gemini's untyped ``{"text"}`` parts are not
    these), beside no content or SDK 4's text copy of them."""
    if type(message) is not dict or type(message.get("role")) is not str:
        return False
    parts = message.get("parts")
    if not (type(parts) is list and parts and all(type(p) is dict and type(p.get("type")) is str for p in parts)):
        return False
    content = message.get("content")
    if content is None or content == "":
        return True
    if type(content) is not str:
        return False
    # SDK 4 keeps a text copy of the parts in `content`; a content that says something else is the turn's own,
    # and the parts are kept aside, not read over it.
    said = "".join(p["text"] for p in parts if p["type"] == "text" and type(p.get("text")) is str)
    return "".join(content.split()) == "".join(said.split())


def _one_conversation_or_elements(
    elements: Iterator[tuple[int | None, int, bytes | BrokenPayload]],
) -> Iterator[tuple[int | None, int, bytes | BrokenPayload]]:
    """A JSON file whose array holds bare turns is one conversation (an exported chat), not one record per
    message: its elements are joined into one payload, which the converter reads as ``messages``. A bracket
    break the array reader stepped over (``[U, A][U, A]``: chats appended) ends one conversation and starts the
    next."""
    first = next(elements, None)
    if first is None:
        return
    if not isinstance(first[2], bytes) or not is_bare_turn(_loads_or_none(first[2])):
        yield first
        yield from (item for item in elements if item[2] is not _ARRAY_STARTS)
        return
    held = [first]
    size = len(first[2])
    for item in elements:
        if isinstance(item[2], BrokenPayload) and item[2].code == "not_json":
            if item[2].new_array:
                yield from _joined_turns(held)
                if item[2] is not _ARRAY_STARTS:
                    yield item
                held, size = [], 0
            else:
                held.append(item)  # a stray bracket between two turns of one chat: named after the chat
            continue
        held.append(item)
        size += len(item[2]) if isinstance(item[2], bytes) else MAX_RECORD_BYTES
        turn = _loads_or_none(item[2]) if isinstance(item[2], bytes) else None
        if size > MAX_RECORD_BYTES or not is_bare_turn(turn):
            yield from held  # not all turns after all (or too large for one record): element by element
            yield from (item for item in elements if item[2] is not _ARRAY_STARTS)
            return
    yield from _joined_turns(held)


def _joined_turns(
    held: list[tuple[int | None, int, bytes | BrokenPayload]],
) -> Iterator[tuple[int | None, int, bytes | BrokenPayload]]:
    turns = [item for item in held if isinstance(item[2], bytes)]
    if not turns:
        yield from held
        return
    if not any(_answers(_loads_or_none(item[2])) for item in turns):  # type: ignore[arg-type]
        yield from held  # a list of prompts, not a conversation: each stays its own element
        return
    yield None, turns[0][1], b"[" + b",".join(item[2] for item in turns) + b"]"  # type: ignore[misc]
    yield from (item for item in held if not isinstance(item[2], bytes))


_ANSWERING = frozenset({"assistant", "gpt", "model", "bot", "chatbot", "ai", "aimessage", "aimessagechunk"})


def _answers(turn: dict[str, Any]) -> bool:
    speaker = turn.get("role", turn.get("from")) or lc_type(turn)
    return isinstance(speaker, str) and speaker.lower() in _ANSWERING


def _loads_or_none(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _iter_jsonl(path: str | Path) -> Iterator[tuple[int | None, int, bytes | BrokenPayload]]:
    index = 0
    limit = MAX_RECORD_BYTES
    with open_binary(path) as fh:
        # readline(limit) keeps memory bounded on a line with no end; at C speed like plain iteration.
        for number, line in enumerate(iter(lambda: fh.readline(limit), b""), 1):
            if len(line) >= limit and not line.endswith(b"\n"):
                head, size = line[:_RAW_KEEP], len(line)
                while line and not line.endswith(b"\n"):  # skip the rest of the line, a chunk at a time
                    line = fh.readline(limit)
                    size += len(line)
                yield number, index, BrokenPayload("record_too_large", _too_large(f"line {number}", size), head)
                index += 1
                continue
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
    if not data.strip():
        return
    values = None if _parses(data) else _concatenated(data)
    if values is None:
        yield None, 0, data
        return
    for index, (line, value) in enumerate(values):
        yield line, index, value


_TEXT_SPACE = re.compile(r"\s*")


# Where the next record of a pretty-printed sequence starts: an opener at the start of a line (records are
# written at the left margin; what they hold is indented).
_NEXT_RECORD = re.compile(r"\n(?=[{\[])")


def _concatenated(data: bytes) -> list[tuple[int, bytes]] | None:
    """Pretty-printed objects one after another (``json.dump(record, indent=2)`` per record, saved as .jsonl):
    ``(first line, bytes)`` of each, or None when the text is not such a sequence (the caller then reports it as
    one broken object, as before). Line breaks typed raw inside a string are read as what they are; a record
    that does not parse runs to the next record at the left margin and is passed on as it is, for its own
    reject: one broken record no longer costs the file."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    decoder = json.JSONDecoder(strict=False)
    out: list[tuple[int, bytes]] = []
    pos, line, parsed = 0, 1, 0
    while True:
        start = _TEXT_SPACE.match(text, pos).end()  # type: ignore[union-attr]
        if start >= len(text):
            break
        line += text.count("\n", pos, start)
        try:
            _value, end = decoder.raw_decode(text, start)
            parsed += 1
        except (json.JSONDecodeError, RecursionError):
            following = _NEXT_RECORD.search(text, start + 1)
            end = following.start() if following else len(text)
        out.append((line, text[start:end].encode("utf-8")))
        line += text.count("\n", start, end)
        pos = end
    return out if len(out) > 1 and parsed else None


# Tokens that matter for finding where an element ends: whole strings (so brackets and commas inside them
# are skipped in C), brackets and commas. An unterminated string at the end of the buffer matches with an
# empty closing group, which means "read more".
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*("?)|[\[\]{},]', re.DOTALL)
_SPACE = re.compile(rb"\s*")
_CHUNK = 1 << 20


class _ArrayStream:
    """A growing window over a decompressed file, holding about one array element at a time."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.buf = fh.read(_CHUNK)
        if self.buf.startswith(UTF8_BOM):
            self.buf = self.buf[len(UTF8_BOM) :]
        self.eof = not self.buf
        self.chunk = _CHUNK
        self.consumed = 0  # bytes dropped from the front of buf by compact(), for byte offsets in errors

    def more(self) -> bool:
        """Append the next chunk (chunks grow so a 50 MB string is not rescanned a thousand times)."""
        if self.eof:
            return False
        data = self.fh.read(self.chunk)
        self.chunk = min(self.chunk * 2, 64 << 20)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def skip_space(self, pos: int) -> int:
        while True:
            pos = _SPACE.match(self.buf, pos).end()  # type: ignore[union-attr]
            if pos == len(self.buf) and pos > _CHUNK:  # a long run of blanks: drop it, memory stays bounded
                self.consumed += pos
                self.buf = b""
                pos = 0
            if pos < len(self.buf) or not self.more():
                return pos

    def compact(self, pos: int) -> int:
        if pos > _CHUNK:
            self.buf = self.buf[pos:]
            self.consumed += pos
            self.chunk = _CHUNK
            return 0
        return pos

    def fast_end(self, pos: int) -> int:
        """End of the element at ``pos`` found by layout, confirmed by parsing it; -1 when layout gives no answer.

        Pretty-printed arrays close an element at its own indentation; JSONL-like arrays hold one per line.
        A candidate that parses as one JSON value is exactly the element (JSON values cannot be extended).
        """
        buf = self.buf
        opener = buf[pos : pos + 1]
        if opener not in (b"{", b"["):
            return -1
        line_start = buf.rfind(b"\n", 0, pos) + 1
        indent = buf[line_start:pos]
        if line_start > 0 and not indent.strip():
            needle = b"\n" + indent + (b"}" if opener == b"{" else b"]")
            found = buf.find(needle, pos)
            if found >= 0 and _parses(buf[pos : found + len(needle)]):
                return found + len(needle)
        newline = buf.find(b"\n", pos)
        if newline >= 0:
            segment = buf[pos:newline].rstrip()
            for cut in (segment[:-1].rstrip(), segment) if segment[-1:] in (b",", b"]") else (segment,):
                if cut and _parses(cut):
                    return pos + len(cut)
        return -1

    def scan_end(self, pos: int) -> int:
        """End of the element at ``pos`` by tracking brackets outside strings; -1 if the file ends first, -2 if
        the element grows past ``MAX_RECORD_BYTES``."""
        depth = 0
        cursor = pos
        while True:
            match = _TOKENS.search(self.buf, cursor)
            if match is None or (match.group(0)[:1] == b'"' and not match.group(1)):
                if len(self.buf) - pos > MAX_RECORD_BYTES:
                    return -2
                if not self.more():
                    return -1
                continue  # rescan from cursor: the string (or the rest) is longer than the buffer
            token = match.group(0)
            cursor = match.end()
            if token[:1] == b'"':
                if depth == 0:
                    return cursor
            elif token in (b"{", b"["):
                depth += 1
            elif token in (b"}", b"]"):
                if depth == 0:
                    return len(self.buf[: match.start()].rstrip())  # a bare scalar before the closing bracket
                depth -= 1
                if depth == 0:
                    return cursor
            elif depth == 0:  # a comma after a bare scalar
                return len(self.buf[: match.start()].rstrip())

_MAX_BREAKS = 100
# Yielded, without an index of its own, for a second array past the cap: no reject names it, but a file of bare
# turns still needs to know where one chat ends. Only _one_conversation_or_elements sees it.
_ARRAY_STARTS = BrokenPayload("not_json", "", new_array=True)


def _skip_break_run(stream: _ArrayStream, pos: int) -> tuple[int, int, int]:
    """Past a run of "][" / "]," breaks with no element between them ("[...][][][]"), which is one reject,
    not one per pair: the position after the run, how many breaks it held and the byte of its last one."""
    run, last = 1, 0
    while True:
        pos = stream.skip_space(stream.compact(pos))
        if stream.buf[pos : pos + 1] != b"]":
            return pos, run, last
        after = stream.skip_space(pos + 1)
        follows = stream.buf[after : after + 1]
        if follows == b",":
            beyond = stream.skip_space(after + 1)
            if stream.buf[beyond : beyond + 1] == b"[":  # "],[": an empty array between commas is the run too
                after = beyond
        elif follows != b"[":
            return pos, run, last  # "]" at the end, or before an object or garbage: the caller's to judge
        run, last = run + 1, stream.consumed + pos
        pos = after + 1


def _capped(breaks: int, index: int, offset: int, broken: BrokenPayload) -> BrokenPayload | None:
    """The reject for a file's ``breaks``-th bracket break: its own up to the cap, one saying so at the cap,
    none past it (the elements after every break are still read)."""
    if breaks <= _MAX_BREAKS:
        return broken
    return _too_many_breaks(index, offset, broken.raw, broken.new_array) if breaks == _MAX_BREAKS + 1 else None


def _too_many_breaks(index: int, offset: int, raw: bytes, new_array: bool = False) -> BrokenPayload:
    return BrokenPayload(
        "not_json", f"element {index}: more than {_MAX_BREAKS} breaks in the brackets (stray ']' or '}}', arrays "
        f"appended): this is not one JSON array; from byte {offset:,} on, the elements are read and each further "
        "break is stepped over without a reject of its own (fix: write one array, or one record per line as JSONL)",
        raw, new_array)


def _iter_json_array(path: str | Path) -> Iterator[tuple[int | None, int, bytes | BrokenPayload]]:
    """Stream the elements of a top-level JSON array as raw bytes, without loading the file."""
    with open_binary(path) as fh:
        stream = _ArrayStream(fh)
        while b"[" not in stream.buf and stream.more():
            pass
        pos = stream.buf.find(b"[")
        if pos < 0:
            return
        pos += 1
        index = 0
        breaks = 0  # bracket breaks read past; past _MAX_BREAKS the file is not one array gone wrong in places
        while True:
            pos = stream.skip_space(stream.compact(pos))
            head = stream.buf[pos : pos + 1]
            if head == b"]":
                offset = stream.consumed + pos
                after = stream.skip_space(pos + 1)
                follows = stream.buf[after : after + 1]
                if follows == b",":
                    beyond = stream.skip_space(after + 1)
                    if not stream.buf[beyond : beyond + 1]:
                        return  # "[...]," ends the file: a trailing comma, nothing is lost
                    if stream.buf[beyond : beyond + 1] == b"[":  # "[...],\n[...]": a second array, not a nested one
                        follows, after = b"[", beyond
                if not follows:
                    return
                if follows in (b",", b"[", b"{"):
                    # A stray ']' inside the array, or a second array (or object) appended to the file: the
                    # elements after it are whole, so they are read, and the break is one reject naming it.
                    what = {b"[": "a second array starts after the ']'", b"{": "an object follows the ']'",
                            b",": "a stray ']'"}[follows]
                    raw = bytes(stream.buf[pos : pos + _RAW_KEEP])
                    pos, run, last = _skip_break_run(stream, after + 1 if follows in (b",", b"[") else after)
                    where = f"at byte {offset:,}" if run == 1 else (
                        f"at byte {offset:,}, the first of {run:,} breaks in a row (to byte {last:,}) with no element "
                        "between them")
                    breaks += 1
                    reject = _capped(breaks, index, offset, BrokenPayload(
                        "not_json", f"element {index}: {what} {where}; the elements after it are read too "
                        "(fix: a JSON file holds one array, its elements separated by commas)", raw,
                        new_array=follows == b"["))
                    if reject is not None:
                        yield None, index, reject
                        index += 1
                    elif follows == b"[":
                        yield None, index, _ARRAY_STARTS
                    continue
                yield None, index, BrokenPayload(
                    "not_json", f"element {index}: data after the array's closing ']' at byte "
                    f"{stream.consumed + after:,}; the rest of the file is not read (fix: a JSON file holds one "
                    "array; for one record per line use JSONL)", bytes(stream.buf[after : after + _RAW_KEEP]))
                return
            if not head:
                return
            if head == b",":  # an empty slot: "[,]" or "[{...},,{...}]"
                offset, slots = stream.consumed + pos, 0
                while stream.buf[pos : pos + 1] == b",":
                    slots += 1
                    pos = stream.skip_space(stream.compact(pos + 1))
                # a run of them is one reject, not one per comma
                yield None, index, b"" if slots == 1 else BrokenPayload(
                    "not_json", f"element {index}: {slots:,} empty slots in a row (',,') from byte {offset:,}; the "
                    "elements after them are read (fix: one comma between two elements)", b"," * min(slots, 64))
                index += 1
                continue
            end = stream.fast_end(pos)
            if end < 0:
                end = stream.scan_end(pos)
            if end == -2:
                yield None, index, BrokenPayload(
                    "record_too_large", _too_large(f"element {index}", len(stream.buf) - pos),
                    bytes(stream.buf[pos : pos + _RAW_KEEP]))
                return
            if end < 0:  # a truncated file: the rest is one broken element, reported by the converter
                yield None, index, stream.buf[pos:].rstrip()
                return
            if end <= pos:
                offset = stream.consumed + pos
                char = stream.buf[pos : pos + 1].decode("utf-8", "replace")
                after = stream.skip_space(pos + 1)
                while char == "}" and stream.buf[after : after + 1] == b"}":
                    after = stream.skip_space(after + 1)
                if char == "}" and stream.buf[after : after + 1] in (b",", b"]"):
                    # One '}' too many after an element ("{...}},"): where the next element starts is clear, so
                    # the stray brace is one reject and the elements after it are read.
                    breaks += 1
                    reject = _capped(breaks, index, offset, BrokenPayload(
                        "not_json", f"element {index}: a stray '}}' at byte {offset:,} was skipped; the elements "
                        "after it are read (fix the brackets there: each element must be one JSON value)",
                        bytes(stream.buf[pos : pos + _RAW_KEEP])))
                    if reject is not None:
                        yield None, index, reject
                        index += 1
                    pos = after + 1 if stream.buf[after : after + 1] == b"," else after
                    continue
                # Any other stray byte where an element should start ("[}", "[{...}} x"): every later cut would
                # be a guess, so the rest of the file is one reject.
                yield None, index, BrokenPayload(
                    "not_json",
                    f"element {index}: unexpected {char!r} at byte {offset:,} where an array element should start; "
                    "the rest of the file is not read (fix the brackets there: each element must be one JSON "
                    "value, separated by commas)",
                    bytes(stream.buf[pos : pos + _RAW_KEEP]))
                return
            if end - pos > MAX_RECORD_BYTES:  # whole in the buffer, but over the per-record limit of JSONL too
                yield None, index, BrokenPayload("record_too_large", _too_large(f"element {index}", end - pos),
                                                 bytes(stream.buf[pos : pos + _RAW_KEEP]))
            else:
                yield None, index, stream.buf[pos:end]
            index += 1
            pos = stream.skip_space(end)
            if stream.buf[pos : pos + 1] == b",":
                pos += 1


def _iter_rows(batches: Iterator[Any]) -> Iterator[tuple[int | None, int, dict[str, Any]]]:
    index = 0
    columns: list[str] = []
    schema = None
    for batch in batches:
        if batch.schema is not schema and batch.schema != schema:
            # decided once per schema (a datasets folder's splits may each have their own columns), so tables
            # of plain strings and numbers pay nothing
            schema = batch.schema
            columns = [field.name for field in schema if _holds_non_json(field.type)]
        for row in batch.to_pylist():
            for name in columns:
                row[name] = _as_json_value(row[name])
            yield None, index, row
            index += 1


def _holds_non_json(kind: Any) -> bool:
    """Whether an Arrow type holds values orjson cannot write: decimals, durations, binary (at any depth)."""
    import pyarrow.types as pt

    if pt.is_decimal(kind) or pt.is_duration(kind) or pt.is_binary(kind) or pt.is_large_binary(kind) \
            or pt.is_fixed_size_binary(kind) or getattr(pt, "is_binary_view", lambda _kind: False)(kind):
        return True
    if pt.is_dictionary(kind):
        return _holds_non_json(kind.value_type)
    return any(_holds_non_json(kind.field(i).type) for i in range(kind.num_fields))


def _as_json_value(value: Any) -> Any:
    """A table cell as JSON would hold it. A decimal score is a number and a duration its seconds; binary that
    is UTF-8 is the text it holds (Spark and Hive write strings as plain BYTE_ARRAY without the UTF8 mark).
    Other binary (an embedded image) stays bytes, and the converter refuses its row by name."""
    if isinstance(value, dict):
        return {key: _as_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):  # a map cell comes as a list of (key, value) tuples
        return [_as_json_value(item) for item in value]
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value():
            # a whole number past 64 bits (a decimal(38,0) id) stays exact as text rather than a rounded float
            return int(value) if abs(value) < 1 << 63 else str(value.to_integral_value())
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _iter_parquet(path: str | Path) -> Iterator[tuple[int | None, int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    with pq.ParquetFile(str(path)) as pf:
        # One row group at a time: a batch that spans two row groups of a nested dictionary column (polars'
        # Categorical inside a list of structs) fails in pyarrow ("Nested data conversions not implemented for
        # chunked array outputs"), which cost every row after the first batch of a valid file.
        batches = (batch for group in range(pf.num_row_groups)
                   for batch in pf.iter_batches(batch_size=ROW_BATCH, row_groups=[group]))
        yield from _iter_rows(batches)


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


def _iter_xlsx(path: str | Path) -> Iterator[tuple[int | None, int, dict[str, Any]]]:
    """The rows of every sheet of a workbook, as CSV's: each sheet's first non-empty row names its columns.
    Cells hold what Excel shows (a formula's last value); wholly empty rows are skipped."""
    import openpyxl

    with open(path, "rb") as fh:
        try:
            book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - zipfile, XML and openpyxl's own errors alike
            raise InputError(f"not a readable Excel workbook: {exc}", hint="open it in Excel or LibreOffice and "
                             "save it again as .xlsx (or as 'CSV UTF-8')", where=str(path)) from exc
        try:
            index = 0
            for sheet in book.worksheets:
                header: list[str | None] | None = None
                # min_row=1: a read-only sheet otherwise starts at its first used row, and the row numbers Excel
                # shows (the `line` a reject names) would be off by the blank rows above the table.
                for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
                    if all(v is None or v == "" for v in values):
                        continue
                    if header is None:
                        header = _xlsx_header(values)
                        continue
                    row = {name: _as_json_value(value) for name, value in zip(header, values, strict=False)
                           if name is not None}
                    yield number, index, row
                    index += 1
        finally:
            book.close()


def _xlsx_header(values: tuple[Any, ...]) -> list[str | None]:
    """Column names from a header row: an unnamed column is left out, a repeated name gets its column number."""
    names: list[str | None] = []
    for number, value in enumerate(values, 1):
        name = None if value is None or str(value).strip() == "" else str(value).strip()
        if name is not None and name in names:
            name = f"{name}_{number}"
        names.append(name)
    return names


_SEP_LINE = re.compile(r"^sep=(.)\r?\n?$")
_UNDECODED = re.compile("[\udc80-\udcff]")  # what surrogateescape leaves for a byte that is not UTF-8


def _iter_csv(path: str | Path, delimiter: str) -> Iterator[tuple[int | None, int, dict[str, Any] | BrokenPayload]]:
    # The csv module keeps every cell a string (no type guessing) and streams; a BOM is dropped by utf-8-sig.
    # Bytes that are not UTF-8 (an Excel export in Windows-1252) are kept escaped, so that their row becomes an
    # invalid_utf8 reject naming its column and line rather than text full of U+FFFD.
    with open_binary(path) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="surrogateescape", newline="")
        header = text.readline(MAX_RECORD_BYTES)
        skipped = 0  # lines before the header (Excel's "sep=;"), so that line numbers stay the file's
        said = _SEP_LINE.match(header)
        if said:  # Excel writes (and honours) a first line naming the separator
            delimiter, header, skipped = said.group(1), text.readline(MAX_RECORD_BYTES), 1
        else:
            delimiter = _delimiter(header, delimiter)
        names = next(csv.reader([header], delimiter=delimiter), [])
        lines: Iterator[str] = text
        start = 2 + skipped
        if is_data_row(names):
            # no header line (MMLU's own CSVs: question, four options, answer): the first line is a row, kept
            fieldnames = [f"column_{number}" for number in range(1, len(names) + 1)]
            lines, start = itertools.chain([header], text), 1 + skipped
        else:
            # a repeated column name gets its column number (the last one won: its empty cells hid the first's)
            fieldnames = []
            for number, name in enumerate(names, 1):
                fieldnames.append(f"{name}_{number}" if name in fieldnames else name)
        fed: list[str] = []  # the physical lines of the row being read, to see a quote that never closes
        reader = csv.DictReader(_feeding(lines, fed), fieldnames=fieldnames or None, delimiter=delimiter)
        index = 0
        for row in reader:
            end = reader.line_num + 1 + skipped
            # a row's faults are named at the line it starts on (a quoted cell may hold line breaks)
            broken = (_unclosed_quote(fed, start, end) or _undecoded_cell(row, start)
                      or _extra_cells(row, start, delimiter))
            fed.clear()
            start = end + 1
            if broken is None and not any(isinstance(v, str) and v.strip() for v in row.values()):
                continue  # a blank spreadsheet row (",,,"): no record, as in a workbook
            yield None, index, row if broken is None else broken
            index += 1


_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def is_data_row(cells: list[str]) -> bool:
    """Whether a CSV's first line is a row of data rather than column names: a sentence beside two or more
    numbers, or beside a last cell that is an answer's letter (MMLU's "Find the degree ...?",0,4,2,6,B). A long
    name alone is no sign (a form export's columns are its questions). A header wrongly taken for data costs one
    refused row; data taken for a header would lose its first record unseen."""
    if len(cells) < 2 or not any(len(c) > 24 and " " in c.strip() for c in cells):
        return False
    numbers = sum(1 for c in cells if _NUMBER.fullmatch(c.strip()))
    return numbers >= 2 or (len(cells) >= 4 and cells[-1].strip() in tuple("ABCDEFGHIJ"))


def _feeding(lines: Iterator[str], fed: list[str]) -> Iterator[str]:
    for line in lines:
        fed.append(line)
        yield line


def _unclosed_quote(fed: list[str], start: int, end: int) -> BrokenPayload | None:
    """A row whose lines hold an odd number of quotes opened a quoted cell that the file never closes (only the
    end of the file ends such a cell): the csv module would give the rest of the file as that one cell."""
    if sum(line.count('"') for line in fed) % 2 == 0:
        return None
    return BrokenPayload("data_type", f"line {start}: a quote (\") opened in this row is never closed, so lines "
                         f"{start}-{end} (the rest of the file) would be one cell; they are not read (fix: close the "
                         "quote, and double a quote inside a quoted cell: \"\")",
                         "".join(fed)[:_RAW_KEEP].encode("utf-8", "surrogateescape"))


def _extra_cells(row: dict[Any, Any], line: int, delimiter: str) -> BrokenPayload | None:
    """A row with more cells than the header has columns (csv puts the rest under the key None): an
    unquoted separator inside a cell, which would otherwise surface as "a non-string key None"."""
    extra = row.get(None)
    if not extra:
        return None
    columns = len(row) - 1
    return BrokenPayload("data_type", f"line {line}: {len(extra)} more cell(s) than the header's {columns} "
                         f"column(s): a cell holding the separator {delimiter!r} must be quoted (\"...\"), as "
                         "spreadsheet exports do")


def _delimiter(header: str, given: str) -> str:
    """The header's own separator when it has none of the one its name implies: Excel in most European
    locales saves "CSV" with semicolons (the comma is their decimal mark), and some tools write tabs or pipes."""
    if given in header:
        return given
    counts = {sep: header.count(sep) for sep in (";", "\t", "|", ",") if sep != given}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else given


def _undecoded_cell(row: dict[Any, Any], line: int) -> BrokenPayload | None:
    for key, value in row.items():
        for cell, column in ((key, "its header"), (value, f"column {key!r}")):
            hit = _UNDECODED.search(cell) if isinstance(cell, str) else None
            if hit is None:
                continue
            raw = cell.encode("utf-8", "surrogateescape")
            bad = ord(hit.group()) - 0xDC00
            guess = legacy_encoding_guess(raw)
            if "Excel" in guess:  # Windows users have no iconv: Excel itself can write what curate reads
                guess = guess[:-1] + ", or in Excel use Save As 'CSV UTF-8' or .xlsx, which curate reads)"
            detail = f"line {line}: {column}: invalid UTF-8 byte 0x{bad:02x}{guess}"
            return BrokenPayload("invalid_utf8", detail, raw[:200])
    return None


def cp1252_text(raw: bytes) -> str | None:
    """``raw`` decoded as Windows-1252 when that reads as words (a non-ASCII letter among them), else None."""
    try:
        sample = raw.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return sample if any(ch.isalpha() and not ch.isascii() for ch in sample) else None


def _east_asian_encoding(raw: bytes) -> tuple[str, str] | None:
    """(name for the message, iconv name) of the East Asian legacy encoding ``raw`` reads as, or None.

    Chinese, Japanese and Korean Excel save "CSV" in GB18030/GBK, CP932 and CP949. Those bytes also decode as
    Windows-1252 accented letters, and as each other (GBK's common hanzi are CP949's Hangul block, and CP932's
    half-width katakana), so a reading counts only with its language's own marks: Japanese is full of
    full-width kana, Korean puts spaces between its words, Chinese is Han characters without them."""
    high = [i for i, b in enumerate(raw) if b > 0x7F]
    lone = sum(1 for i in high if (i == 0 or raw[i - 1] < 0x80) and (i + 1 == len(raw) or raw[i + 1] < 0x80))
    if not high or lone >= 0.3 * len(high):
        return None  # a double-byte encoding writes its characters as runs of high bytes; "Bären" has lone ones
    readings = {name: _decoded(raw, name) for name in ("cp932", "cp949", "gb18030", "big5")}
    japanese = readings["cp932"]
    if japanese is not None and _share(japanese, _KANA) >= 0.2:
        return "Japanese Shift-JIS / CP932", "CP932"
    korean = readings["cp949"]
    if korean is not None and _share(korean, _HANGUL) >= 0.8 and korean.count(" ") >= 0.1 * len(korean):
        return "Korean CP949 / EUC-KR", "CP949"
    chinese = readings["gb18030"]
    if chinese is not None and _share(chinese, _HAN) >= 0.8:
        return "Chinese GB18030 / GBK (Big5 if it is Traditional Chinese)", "GB18030"
    traditional = readings["big5"]
    if traditional is not None and _share(traditional, _HAN) >= 0.8:
        return "Traditional Chinese Big5", "BIG5"
    return None


_KANA = ((0x3040, 0x30FF),)  # full-width hiragana and katakana
_HANGUL = ((0xAC00, 0xD7A3), (0x3130, 0x318F))
_HAN = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x3000, 0x303F), (0xFF01, 0xFF5E))  # and CJK punctuation


def _decoded(raw: bytes, encoding: str) -> str | None:
    """``raw`` decoded, allowing the window to have cut one character at either end; None if it is not that
    encoding or holds fewer than two non-ASCII characters."""
    for cut in (raw, raw[1:], raw[:-1], raw[1:-1]):
        try:
            text = cut.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text if sum(ord(ch) > 0x7F for ch in text) >= 2 else None
    return None


def _share(text: str, ranges: tuple[tuple[int, int], ...]) -> float:
    """The share of the non-ASCII characters of ``text`` in ``ranges``."""
    wide = [ord(ch) for ch in text if ord(ch) > 0x7F]
    return sum(any(lo <= c <= hi for lo, hi in ranges) for c in wide) / len(wide) if wide else 0.0


def legacy_encoding_guess(raw: bytes) -> str:
    """A clause naming the likely encoding of bytes that are not UTF-8, and the command that converts them."""
    east = _east_asian_encoding(raw)
    if east is not None:
        return (f" (the text looks like {east[0]}, which Excel saves in that locale: convert it with "
                f"iconv -f {east[1]} -t UTF-8 FILE > FILE.utf8)")
    if cp1252_text(raw) is not None:
        return (" (the text looks like Windows-1252 / Latin-1, which Excel saves: convert it with "
                "iconv -f CP1252 -t UTF-8 FILE > FILE.utf8)")
    return " (re-save the file as UTF-8)"


def _iter_hf_disk(path: str | Path) -> Iterator[tuple[int | None, int, dict[str, Any]]]:
    from datasets import DatasetDict, load_from_disk

    loaded = load_from_disk(str(path))
    parts = [loaded[name] for name in loaded] if isinstance(loaded, DatasetDict) else [loaded]
    yield from _iter_rows(batch for part in parts for batch in part.with_format("arrow").iter(batch_size=ROW_BATCH))
