"""Opening inputs: compression by magic bytes, directory expansion, and readability checks.

Compression is recognised by the first bytes, never by the extension, because real files lie
(``data.jsonl`` that is really gzip, ``.gz`` files that are plain after a browser download).
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from curation.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZ2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
PARQUET_MAGIC = b"PAR1"
ARROW_FILE_MAGIC = b"ARROW1"
ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx workbook is a zip archive
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls (and old Word files)
UTF8_BOM = b"\xef\xbb\xbf"

# What a directory walk picks up; compressed variants of the text ones are matched by stripping the suffix.
TEXT_SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv", ".tsv")
COMPRESSED_SUFFIXES = (".gz", ".zst", ".zstd", ".bz2", ".xz")
# What a Hugging Face dataset repository or cache holds beside its data: a description of the data, not
# records. A folder walk leaves these out, as `datasets.load_dataset` does; given by name, they are read.
HF_METADATA_NAMES = frozenset({"dataset_infos.json", "dataset_info.json", "dataset_dict.json", "state.json"})
# What a ChatGPT or claude.ai data export holds beside its conversations.json: the account, feedback on single
# messages, share links, projects. Left out of a walk over a folder holding a conversations.json.
EXPORT_ACCOUNT_NAMES = frozenset({"user.json", "message_feedback.json", "shared_conversations.json", "users.json",
                                  "projects.json"})
BINARY_SUFFIXES = (".parquet", ".arrow", ".xlsx")
SUPPORTED_HINT = (
    "put .jsonl/.json/.csv/.tsv/.parquet/.arrow/.xlsx files (optionally .gz/.zst) or a datasets save_to_disk folder "
    "there"
)

SNIFF_BYTES = 8192


def compression_of(head: bytes) -> str | None:
    """The compression a file's first bytes announce: 'gzip', 'zstd', 'bz2', 'xz' or None."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(BZ2_MAGIC) and len(head) >= 4 and head[3:4].isdigit():
        return "bz2"
    return None


def open_binary(path: str | Path) -> BinaryIO:
    """Open a file for binary reading, decompressing gzip, zstd, bz2 and xz transparently (by magic bytes)."""
    raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    try:
        kind = compression_of(raw.peek(8)[:8])
    except Exception:
        raw.close()
        raise
    stream: BinaryIO
    if kind is None:
        stream = raw
    elif kind == "gzip":
        stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    elif kind == "zstd":
        # BufferedReader gives line iteration at C speed over a reader that has no readline.
        stream = io.BufferedReader(_ZstdFrames(raw), buffer_size=1 << 20)  # type: ignore[assignment]
    elif kind == "bz2":
        stream = bz2.BZ2File(raw, mode="rb")  # type: ignore[assignment]
    else:
        stream = lzma.LZMAFile(raw, mode="rb")  # type: ignore[assignment]
    try:
        encoding = utf16_of(stream.peek(1024)[:1024])  # type: ignore[attr-defined]
    except Exception:  # a damaged compressed file: the caller's read reports it
        return stream
    if encoding is None:
        return stream
    return io.BufferedReader(_Utf16AsUtf8(stream, encoding), buffer_size=1 << 20)  # type: ignore[return-value]


def utf16_of(head: bytes) -> str | None:
    """The codec of a UTF-16 text (Windows PowerShell's ``>`` and ``Out-File``, Notepad's "Unicode", Excel's
    "Unicode Text" write it), with a byte-order mark or without one; None for any other bytes."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and not head.startswith(b"\xff\xfe\x00\x00"):
        return "utf-16"  # the codec reads the mark, either byte order
    found = _utf16_without_bom(head)
    return None if found is None else {"UTF-16LE": "utf-16-le", "UTF-16BE": "utf-16-be"}[found]


class _Utf16AsUtf8(io.RawIOBase):
    """A UTF-16 text as UTF-8 bytes, so every container reader reads it as it reads any other file. A lone
    surrogate (a cut file) becomes U+FFFD, which the checks report as a replacement character."""

    def __init__(self, raw: BinaryIO, encoding: str) -> None:
        import codecs

        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._pending = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            chunk = self._raw.read(1 << 18)
            self._done = not chunk
            self._pending = memoryview(self._decoder.decode(chunk, final=self._done).encode("utf-8"))
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


class _ZstdFrames(io.RawIOBase):
    """The decompressed bytes of every zstd frame in ``raw``. zstandard's own stream reader ends quietly where a
    truncated file ends, losing the records after the cut without a word; here a last frame that does not
    finish raises EOFError, as gzip, bz2 and xz do, so the file is reported as broken."""

    def __init__(self, raw: BinaryIO) -> None:
        import zstandard

        self._raw, self._new = raw, zstandard.ZstdDecompressor().decompressobj
        self._frame = self._new()
        self._started = False  # bytes of the current frame were fed
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = self._raw.read(1 << 18)
            if not chunk:
                if self._started:
                    raise EOFError("Compressed file ended before the end-of-stream marker was reached")
                return 0
            out = []
            while chunk:
                self._started = True
                out.append(self._frame.decompress(chunk))
                if not self._frame.eof:
                    break
                chunk = self._frame.unused_data
                self._frame, self._started = self._new(), False
            self._pending = memoryview(b"".join(out))
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def is_hf_disk_folder(path: Path) -> bool:
    """A ``save_to_disk`` folder: dataset_info.json + state.json (Dataset) or dataset_dict.json (DatasetDict)."""
    return path.is_dir() and (
        (path / "dataset_dict.json").is_file()
        or ((path / "state.json").is_file() and (path / "dataset_info.json").is_file())
    )


def is_supported_file(path: Path) -> bool:
    """Whether a directory walk should pick this file up (by name; content decides the container later)."""
    name = path.name.lower()
    if name.startswith(".") or name in HF_METADATA_NAMES:
        return False
    if name in EXPORT_ACCOUNT_NAMES and (path.parent / "conversations.json").is_file():
        return False
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.endswith(TEXT_SUFFIXES) or name.endswith(BINARY_SUFFIXES)


def is_unicode_text_table(path: Path) -> bool:
    """Excel's "Unicode Text (*.txt)": a ``.txt`` in UTF-16 (with its mark) whose first line is a row of
    tab-separated column names; read as TSV (containers.detect_container). Any other .txt is not data."""
    if path.suffix.lower() != ".txt":
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if not head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.startswith(b"\xff\xfe\x00\x00"):
        return False
    return is_column_names(head.decode("utf-16", errors="ignore").split("\n", 1)[0].strip().split("\t"))


def is_column_names(cells: list[str] | list[bytes]) -> bool:
    """Whether a first line's tab-separated cells read as a row of column names (two or more, short, none
    empty), as Excel's "Unicode Text" export opens."""
    return len(cells) > 1 and all(0 < len(cell.strip()) <= 64 for cell in cells)


def _walk(directory: Path, visited: set[Path] | None = None) -> list[Path]:
    # A directory reached twice through symlinks (``self -> .``, ``a/b -> ..``) is read once: `visited` holds
    # real paths, so a loop ends instead of reading the same files until the path is too long.
    visited = set() if visited is None else visited
    real = directory.resolve()
    if real in visited:
        return []
    visited.add(real)
    found: list[Path] = []
    for child in sorted(directory.iterdir(), key=lambda p: p.name):
        if child.name.startswith("."):  # .git, .cache, editor droppings
            continue
        try:
            is_dir = child.is_dir()
        except OSError:  # a symlink loop on the entry itself (ELOOP)
            is_dir = False
        if is_dir:
            found.extend([child] if is_hf_disk_folder(child) else _walk(child, visited))
        elif child.name.startswith("cache-") and child.name.endswith(".arrow"):
            # the datasets library's cache of a .map() or .filter() (a filter's is a column of row indices):
            # derived copies of the dataset beside it, read twice or as unknown_format rows
            continue
        elif (is_supported_file(child) and (child.is_file() or child.is_symlink())) or (
                child.is_file() and is_unicode_text_table(child)):
            # A data file's name on a dangling link is listed too, so that reading it names the problem
            # rather than the file going missing from the run without a word.
            found.append(child)
    return found


# Files a folder walk leaves out that may still hold conversations (a chat app's text export, a Bot Framework
# transcript, a log): named in a warning, so they do not go missing from a run without a word.
_MAYBE_CHATS = frozenset({".txt", ".transcript", ".log", ".chat", ".xml", ".html", ".htm"})


def real_path(path: Path) -> Path:
    """The path with symlinks resolved; a link that loops is kept as it is (reading it names the problem)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _missing(path: Path) -> NoReturn:
    if path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        raise InputError(f"a symbolic link to {target}, which does not exist (or leads back to itself)",
                         hint="fix or remove the link, or copy the file it meant here", where=str(path))
    raise InputError("no such file or directory", hint="check the path and spelling", where=str(path))


def _dataset_dict_splits(path: Path) -> list[Path]:
    """The split folders a ``DatasetDict.save_to_disk`` folder lists in its dataset_dict.json (each a Dataset
    folder of its own); [] for anything else."""
    try:
        listed = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8")).get("splits")
    except (OSError, ValueError, AttributeError):
        return []
    if not isinstance(listed, list):
        return []
    splits = [path / name for name in listed if isinstance(name, str) and is_hf_disk_folder(path / name)]
    return splits if splits and len(splits) == len(listed) else []


def expand_inputs(paths: list[str | Path]) -> list[Path]:
    """Resolve input arguments to the list of inputs to read, sorted and deterministic.

    A file stays as given; a datasets ``save_to_disk`` folder is one input; any other directory gives its
    supported files (recursively). A missing path or a directory with nothing to read raises InputError.
    """
    if not paths:
        raise InputError("no input given", hint="pass one or more files or directories")
    seen: set[Path] = set()
    result: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            _missing(path)
        if path.is_dir() and not is_hf_disk_folder(path):
            found = _walk(path)
            if not found:
                raise InputError("directory holds no readable data files", hint=SUPPORTED_HINT, where=str(path))
        else:
            # a DatasetDict is one input per split, so that each record names its split as its source and a
            # held-out split read as training data is warned about like a test.jsonl
            found = (_dataset_dict_splits(path) if path.is_dir() else []) or [path]
        for item in found:
            real = real_path(item)  # the same file twice (given twice, or through a symlink) is read once
            if real not in seen:
                seen.add(real)
                result.append(item)
    return sorted(result, key=lambda p: p.as_posix())


def read_head(path: str | Path, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of a file after decompression."""
    with open_binary(path) as fh:
        return fh.read(size)


def check_regular(path: str | Path) -> None:
    """Refuse a FIFO, socket or device (/dev/zero, /dev/stdin): opening or reading one can block forever or
    never end, and a run must be able to read each input twice (format sniffing, then the records)."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or \
            stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
        raise InputError(f"{kind}, not a data file", hint="save the data to a regular file first (e.g. cat PIPE > "
                         "data.jsonl) and pass that", where=str(path))


def check_readable(path: str | Path) -> None:
    """Raise InputError when a path cannot be read as data at all (an empty file is fine: zero records)."""
    path = Path(path)
    where = str(path)
    if not path.exists():
        _missing(path)
    if path.is_dir():
        if is_hf_disk_folder(path):
            return
        if not _walk(path):
            raise InputError("directory holds no readable data files", hint=SUPPORTED_HINT, where=where)
        return
    check_regular(path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
        head = read_head(path)
    except PermissionError as exc:
        raise InputError(
            "permission denied", hint=f"make the file readable (chmod a+r {path})", where=where
        ) from exc
    except (OSError, EOFError) as exc:  # gzip/zstd/xz errors subclass OSError or raise their own
        raise InputError(
            f"cannot read file: {exc}", hint="check the file is complete (re-download it?)", where=where
        ) from exc
    except Exception as exc:  # zstandard.ZstdError and friends
        raise InputError(f"cannot decompress file: {exc}", hint="check the file is complete", where=where) from exc
    if head.startswith(b"version https://git-lfs.github.com/spec/"):
        raise InputError(
            "a Git LFS pointer, not the data: the repository was cloned without git-lfs",
            hint="fetch the files (git lfs install && git lfs pull), or download them from the hub",
            where=where,
            code="unreadable_file",
        )
    if magic.startswith(PARQUET_MAGIC) or magic.startswith(ARROW_FILE_MAGIC) or path.suffix.lower() == ".arrow":
        return
    if magic.startswith(ZIP_MAGIC):
        if is_xlsx(path):
            return
        if path.suffix.lower() == ".xlsx":
            raise InputError("not a readable Excel workbook (a damaged zip archive, or one holding no workbook)",
                             hint="open it in Excel or LibreOffice and save it again as .xlsx (or as 'CSV UTF-8')",
                             where=where, code="binary_file")
        raise InputError("a zip archive, not a data file", hint=f"unzip it (unzip {path.name} -d DIR) and pass the "
                         "folder; .gz, .zst, .bz2 and .xz files are read as they are", where=where, code="binary_file")
    if magic.startswith(OLE2_MAGIC):
        raise InputError("an Excel 97-2003 workbook (.xls), which is not read", hint="save it as .xlsx, or as "
                         "'CSV UTF-8', and pass that", where=where, code="binary_file")
    if head.startswith(b"\xff\xfe\x00\x00"):  # a UTF-16 file is read (open_binary decodes it); UTF-32 is not
        raise InputError(
            "file is UTF-32 encoded",
            hint="re-save it as UTF-8 (e.g. iconv -f UTF-32 -t UTF-8)",
            where=where,
            code="utf16_file",
        )
    if b"\x00" in head and not _text_with_stray_nul(head):
        raise InputError(
            "binary file, not text data (NUL bytes at the start)",
            hint="pass a JSONL/JSON/CSV/parquet/xlsx file, not a model, archive or image",
            where=where,
            code="binary_file",
        )
    text = head[len(UTF8_BOM) :] if head.startswith(UTF8_BOM) else head
    if not text.strip() or _is_tabular_name(path) or is_unicode_text_table(path):
        return
    if b"\n" not in text and _cr_separated_records(text):
        raise InputError(
            "lines end in a lone CR (classic Mac line endings), so the file reads as one broken line",
            hint=f"convert the line endings first (e.g. tr '\\r' '\\n' < {path.name} > {path.stem}.unix{path.suffix})",
            where=where,
            code="not_json_file",
        )
    lines = [ln.strip() for ln in text.split(b"\n")]
    if sum(1 for ln in lines[:20] if _CHAT_EXPORT_LINE.match(ln)) >= 2:
        # WhatsApp's "[12/03/2023, 10:15:32] Ann: hello" opens with "[", and read as JSON each line was a broken array
        raise InputError(
            "a chat app's text export (lines of '[date, time] Name: message' or 'date, time - Name: message'), "
            "not JSON",
            hint="convert it to JSONL first: one {\"messages\": [{\"role\", \"content\"}, ...]} line per "
                 "conversation, with the assistant's name mapped to role assistant",
            where=where,
            code="not_json_file",
        )
    # '"{...' is a record written with json.dumps twice, which the converter reads
    if not any(ln[:1] in (b"{", b"[") or ln[:2] in (b'"{', b'"[') for ln in lines if ln):
        raise InputError(
            "not JSON: no line in the first 8 KiB starts with '{' or '['",
            hint="each line must be one JSON object (JSONL), or the file one JSON array",
            where=where,
            code="not_json_file",
        )


# A line of a WhatsApp export (iOS: "[12/03/2023, 10:15:32] Ann: hi"; Android: "12/03/2023, 10:15 - Ann: hi").
_CHAT_EXPORT_LINE = re.compile(
    rb"^\[?\d{1,4}[./-]\d{1,2}[./-]\d{1,4},? \d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?\]?(?: -)?"
    rb" [^:\n]{1,60}: ")


def is_xlsx(path: str | Path) -> bool:
    """A zip archive holding an Excel workbook (Office Open XML)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _cr_separated_records(text: bytes) -> bool:
    """JSON Lines whose lines end in a lone CR: the first CR-line is a whole object and another one follows.
    (Pretty-printed JSON with CR line endings is valid JSON, CR being whitespace, and is read as such.)"""
    import orjson

    parts = [part.strip() for part in text.split(b"\r") if part.strip()]
    if len(parts) < 2 or parts[0][:1] != b"{" or parts[1][:1] != b"{":
        return False
    try:
        return isinstance(orjson.loads(parts[0]), dict)
    except orjson.JSONDecodeError:
        return False


def _utf16_without_bom(head: bytes) -> str | None:
    """``UTF-16BE`` or ``UTF-16LE`` for ASCII-range text in UTF-16 (a NUL in every other byte, on one side
    only: first for big-endian), else None."""
    sample = head[: min(len(head), 1024) // 2 * 2]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if max(even, odd) < half * 0.6 or min(even, odd) > half * 0.05:
        return None
    return "UTF-16BE" if even > odd else "UTF-16LE"


def _text_with_stray_nul(head: bytes) -> bool:
    """A JSON text file with one or two stray NUL bytes: the lines holding them become line-level rejects
    instead of the whole file being refused as binary."""
    if head.count(0) > 2:
        return False
    text = head.removeprefix(UTF8_BOM).replace(b"\x00", b"")
    try:
        text[: len(text) - 4].decode("utf-8")  # the sniffed head may end inside a multi-byte character
    except UnicodeDecodeError:
        return False
    return text.lstrip()[:1] in (b"{", b"[")


def _is_tabular_name(path: Path) -> bool:
    name = path.name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.endswith((".csv", ".tsv"))


# What a folder walk leaves out that a user may have meant as data, and how to make it readable.
_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tar.gz", ".tar.zst", ".tar.bz2", ".tar.xz", ".7z", ".rar")
_ARCHIVE_FIX = "an archive, not read: extract it and pass the folder"
_XLS_FIX = "old Excel: save as .xlsx or CSV"
_FEEDBACK_FIX = ("ChatGPT's thumbs up/down on answers, not applied: a rated-down answer is trained like any other "
                 "(review those chats, or leave them out)")


@dataclass(frozen=True, slots=True)
class SkippedFiles:
    """What a walk of the input folders does not read, found in one pass (see ``skipped_files``)."""

    unread: list[Path]  # may hold conversations in text (transcripts, logs, chat exports)
    left_out: list[tuple[Path, str]]  # .xls, archives, hidden files and folders: (path, why and how to fix)


def skipped_files(paths: list[str | Path]) -> SkippedFiles:
    """Files under the given folders that a walk leaves out and a user may have meant as data, sorted; a hidden
    folder (.git, .cache) is one entry, not its contents."""
    unread: list[Path] = []
    left_out: list[tuple[Path, str]] = []

    def visit(folder: Path) -> None:
        for child in sorted(folder.iterdir(), key=lambda p: p.name):
            name = child.name.lower()
            if child.name.startswith("."):
                left_out.append((child, "hidden folder" if child.is_dir() else "hidden file"))
            elif child.is_dir() and not child.is_symlink():
                if not is_hf_disk_folder(child):
                    visit(child)
            elif name == "message_feedback.json" and (child.parent / "conversations.json").is_file():
                left_out.append((child, _FEEDBACK_FIX))
            elif name.endswith(".xls"):
                left_out.append((child, _XLS_FIX))
            elif name.endswith(_ARCHIVE_SUFFIXES) and not name.endswith(".xlsx"):
                left_out.append((child, _ARCHIVE_FIX))
            elif child.suffix.lower() in _MAYBE_CHATS and child.is_file() and not is_supported_file(child) \
                    and name not in ("readme.txt", "license.txt", "requirements.txt") \
                    and not is_unicode_text_table(child):
                unread.append(child)

    for given in paths:
        folder = Path(given)
        if folder.is_dir() and not is_hf_disk_folder(folder):
            visit(folder)
    return SkippedFiles(sorted(unread), left_out)
