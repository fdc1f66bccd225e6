"""The exporter contract: check a run's curated splits against a provider's rules, then write its files.

An exporter is two things: a *checker* that sees every record once and collects issues (a provider rule
broken, with how many records and which ids), and a *writer* that converts records and writes files. The
two are separate so that :func:`curation.exporters.export_run` can check every chosen format in ONE pass
over the splits and refuse before any file is written: a rule that would fail at upload fails here.

Records stream from the split files (one ``orjson.loads`` per line) and are never all held in memory.
Files are written atomically: a temporary name in the same folder, ``fsync``, ``os.replace``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from ..errors import CurationError, ExportError
from ..records import is_preference, is_undesirable

Severity = Literal["error", "warning"]
SPLIT_ORDER: tuple[str, ...] = ("train", "validation", "test")
MAX_IDS = 5  # ids shown per issue: enough to find the records, short enough for one line

# Strings that OpenAI refuses inside training data ("message contains an invalid token: <|fim_suffix|>").
# They are the special tokens of the tiktoken encodings the models use.
RESERVED_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|endofprompt|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|im_sep|>",
)
_RESERVED_RE = re.compile("|".join(re.escape(t) for t in RESERVED_TOKENS))


class ExportOptions(BaseModel):
    """What the user chose for an export; every exporter reads the fields it needs."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    model: str | None = Field(
        default=None,
        description="Target model; None = each provider's default (gpt-4o-mini for OpenAI and Azure).",
    )
    method: Literal["auto", "sft", "dpo", "kto"] = Field(
        default="auto",
        description="sft: conversations only; dpo: preference pairs only; kto: labelled conversations as "
        "prompt/completion/label (TRL KTOTrainer; hf only); auto: what the run holds.",
    )
    azure_bom: bool = Field(default=False, description="Write Azure OpenAI files as UTF-8 with a byte-order mark.")
    push_to_hub: str | None = Field(default=None, description="Hugging Face repo id to push the hf export to.")
    hub_private: bool = Field(default=True, description="Create the Hub repo as private.")
    allow_warnings: bool = Field(default=True, description="False: any warning stops the export like an error.")
    skip_invalid: bool = Field(
        default=False, description="Leave out records that break a provider rule (warned) instead of refusing."
    )
    models: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="The run's own model definitions (`models:` in its config), by name.")
    run_model: str | None = Field(
        default=None, description="Model the run's metadata.tokens were counted for (from report.json)."
    )
    train_records: int | None = Field(default=None, description="Records in the train split (from report.json).")
    max_train_examples: dict[str, int] = Field(
        default_factory=dict, description="Per format: export a deterministic sample of at most N training "
        "records (to meet a provider's file-size or count limit); what is left out goes to skipped.jsonl.")


@dataclass(slots=True)
class ExportIssue:
    """One broken rule: how bad, a stable code, how many records, the first ids, and how to fix it."""

    exporter: str
    severity: Severity
    code: str
    message: str
    hint: str = ""
    count: int = 0
    ids: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        where = f" (e.g. {', '.join(self.ids)})" if self.ids else ""
        fix = f" (fix: {self.hint})" if self.hint else ""
        return f"[{self.exporter}] {self.severity} {self.code}: {self.message}{where}{fix}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "exporter": self.exporter,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "count": self.count,
            "ids": list(self.ids),
        }


class ExportCheckError(ExportError):
    """Raised by :func:`export_run` when a check fails; ``issues`` lists every finding."""

    def __init__(self, issues: list[ExportIssue]) -> None:
        self.issues = issues
        blocking = [i for i in issues if i.severity == "error"] or issues
        first = blocking[0]
        more = f" and {len(blocking) - 1} more problem(s)" if len(blocking) > 1 else ""
        super().__init__(
            f"{first.exporter} export refused before writing anything: {first.code}: {first.message}{more}",
            hint=first.hint or "see the issues listed above",
        )


class IssueCollector:
    """Counts records per issue code and keeps the first ids: per-record checks call ``add``."""

    __slots__ = ("exporter", "_counts", "_ids", "_meta")

    def __init__(self, exporter: str) -> None:
        self.exporter = exporter
        self._counts: dict[str, int] = {}
        self._ids: dict[str, list[str]] = {}
        self._meta: dict[str, tuple[Severity, str, str]] = {}

    def add(self, severity: Severity, code: str, message: str, hint: str, record_id: Any) -> None:
        n = self._counts.get(code)
        if n is None:
            self._counts[code] = 1
            self._ids[code] = [str(record_id)]
            self._meta[code] = (severity, message, hint)
            return
        self._counts[code] = n + 1
        ids = self._ids[code]
        if len(ids) < MAX_IDS:
            ids.append(str(record_id))

    def state(self) -> tuple[dict[str, int], dict[str, list[str]], dict[str, tuple[Severity, str, str]]]:
        return self._counts, self._ids, self._meta

    def merge(self, state: tuple[dict[str, int], dict[str, list[str]], dict[str, tuple[Severity, str, str]]]) -> None:
        """Add another collector's counts (a later piece of the same files: its ids come after ours)."""
        counts, ids, meta = state
        for code, n in counts.items():
            if code not in self._counts:
                self._counts[code], self._ids[code], self._meta[code] = n, list(ids[code]), meta[code]
            else:
                self._counts[code] += n
                self._ids[code] = (self._ids[code] + ids[code])[:MAX_IDS]

    def global_issue(self, severity: Severity, code: str, message: str, hint: str = "", count: int = 0) -> None:
        self._counts[code] = count
        self._ids[code] = []
        self._meta[code] = (severity, message, hint)

    def issues(self) -> list[ExportIssue]:
        out: list[ExportIssue] = []
        for code, n in self._counts.items():
            severity, message, hint = self._meta[code]
            text = message.format(n=n, s="" if n == 1 else "s")
            out.append(ExportIssue(self.exporter, severity, code, text, hint, n, self._ids[code]))
        # Errors first, then by how many records are affected: the first line is the one to fix.
        out.sort(key=lambda i: (i.severity != "error", -i.count, i.code))
        return out


class RecordChecker:
    """Sees every record of every split once (``add``), then reports (``finish``)."""

    def add(self, split: str, record: dict[str, Any], raw: bytes | None = None) -> None:
        raise NotImplementedError

    def finish(self) -> list[ExportIssue]:
        raise NotImplementedError


class Exporter:
    """One provider or format. Subclasses set ``name``/``description`` and implement ``checker``/``export``."""

    name: ClassVar[str] = "exporter"
    description: ClassVar[str] = ""

    def checker(self, options: ExportOptions) -> RecordChecker:
        raise NotImplementedError

    def check(self, splits: dict[str, Iterable[dict[str, Any]]], options: ExportOptions) -> list[ExportIssue]:
        """Every issue this provider would raise for these records (errors block an export)."""
        checker = self.checker(options)
        for split, records in splits.items():
            for record in records:
                checker.add(split, record)
        return checker.finish()

    def export(self, run_dir: Path, out_dir: Path, options: ExportOptions) -> list[Path]:
        """Convert the run's splits and write them into ``out_dir``; returns the written paths."""
        raise NotImplementedError

    def after_export(self, final_dir: Path, options: ExportOptions) -> None:
        """Runs once the export folder is in place (the hf exporter pushes to the Hub here, when asked)."""


# ---------------------------------------------------------------------------------------------------------
# Reading a run folder


def split_paths(run_dir: Path) -> dict[str, Path]:
    """The run's split files in train, validation, test order (then any others, sorted)."""
    folder = Path(run_dir) / "splits"
    if not folder.is_dir():
        from ..pipeline.interrupt import unfinished_run

        unfinished = unfinished_run(Path(run_dir))
        if unfinished is not None:  # "has no splits/" hid that the run can be resumed
            from ..run_folder import RunFolderError

            raise RunFolderError(unfinished[0], hint=unfinished[1], where=str(run_dir))
        raise CurationError(
            f"{run_dir} has no splits/ folder",
            hint="point at a run folder written by `curate run --out RUN_DIR`",
            where=str(run_dir),
        )
    found = {p.stem: p for p in folder.glob("*.jsonl")}
    if not found:
        raise CurationError(
            "the run has no split files (splits/*.jsonl)", hint="re-run `curate run`", where=str(folder)
        )
    order = [s for s in SPLIT_ORDER if s in found] + sorted(s for s in found if s not in SPLIT_ORDER)
    return {s: found[s] for s in order}


def iter_lines(path: Path) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """(raw line, record) for each non-empty line of a canonical JSONL split."""
    with open(path, "rb", buffering=1 << 20) as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise CurationError(
                    f"line is not valid JSON ({exc})",
                    hint="the run folder is damaged; re-run `curate run`",
                    where=f"{path}:{number}",
                ) from None
            if not isinstance(record, dict):
                raise CurationError(
                    f"line is a JSON {type(record).__name__}, not a record object",
                    hint="the run folder is damaged; re-run `curate run`",
                    where=f"{path}:{number}",
                )
            yield line, record


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    for _, record in iter_lines(path):
        yield record


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = orjson.loads(Path(path).read_bytes())
    except FileNotFoundError:
        return {}
    except orjson.JSONDecodeError as exc:
        raise CurationError(f"not valid JSON ({exc})", hint="re-run `curate run`", where=str(path)) from None
    return data if isinstance(data, dict) else {}


def record_kind(record: dict[str, Any]) -> Literal["sft", "dpo"]:
    return "dpo" if is_preference(record) else "sft"


def export_kind(record: dict[str, Any], method: str) -> str | None:
    """The kind a record is exported as under ``method``: a conversation is ``kto`` data for a KTO export;
    None for an undesirable KTO answer (label false) in any other export: it is never SFT data."""
    kind = record_kind(record)
    if kind == "sft":
        if method == "kto":
            return "kto"
        if is_undesirable(record):
            return None
    return kind


def find_reserved(raw: bytes) -> str | None:
    """The first reserved special token in a record's JSON, or None (a byte test first: it is rarely there)."""
    if b"<|" not in raw:
        return None
    match = _RESERVED_RE.search(raw.decode("utf-8", "replace"))
    return match.group(0) if match else None


# ---------------------------------------------------------------------------------------------------------
# Writing atomically


@contextlib.contextmanager
def atomic_writer(path: Path, *, bom: bool = False) -> Iterator[BinaryIO]:
    """Write ``path`` so that it either appears whole or not at all.

    The data goes to a hidden temporary name in the same folder (same filesystem, so the final
    ``os.replace`` is atomic), is flushed and fsynced, and only then takes the final name. On any
    exception the temporary file is removed and the final name is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fh = open(tmp, "wb", buffering=1 << 20)  # noqa: SIM115 - closed below on every path
    try:
        if bom:
            fh.write(b"\xef\xbb\xbf")
        yield fh
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        os.replace(tmp, path)
    except BaseException:
        fh.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # The rename itself is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_jsonl(path: Path, lines: Iterable[bytes], *, bom: bool = False) -> int:
    """Write already-encoded JSONL lines atomically; returns the number of lines."""
    n = 0
    with atomic_writer(path, bom=bom) as fh:
        write = fh.write
        for line in lines:
            write(line)
            n += 1
    return n


def write_manifest(out_dir: Path, data: dict[str, Any]) -> Path:
    path = Path(out_dir) / "export.json"
    with atomic_writer(path) as fh:
        fh.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    return path
