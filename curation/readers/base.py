"""The reader contract.

Reading is split in two so the runner can parallelise it: the *container* layer (``iter_items``)
streams raw payloads from a file in the main process (a JSONL line as bytes, a JSON array element or a
parquet row as a Python object), and the *converter* layer (``convert_payload``) turns one payload into
canonical record dicts: pure, picklable, safe to run in worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class SourceItem:
    """One record read from a file, converted to the canonical dict shape, or why it could not be.

    ``record`` is None when the payload could not even be parsed (``error`` says why); conversion is
    lenient otherwise: unknown roles and keys are kept so that ``checks`` can report them by code.
    """

    path: str
    line: int | None  # 1-based line in a JSONL file; None for JSON arrays, parquet, datasets
    index: int  # 0-based position of the payload in its file
    format: str  # recognised (or forced) input format name
    record: dict[str, Any] | None = None
    error: tuple[str, str] | None = None  # (reason code, detail) when record is None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else f"{self.path}[{self.index}]"


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A whole input file that cannot be read: it becomes one file-level reject, and the run goes on.

    ``code`` is a reason code of ``checks.CODES`` (binary_file, not_json_file, ...), ``hint`` the fix.
    """

    path: str
    code: str
    message: str
    hint: str = ""

    @property
    def detail(self) -> str:
        return f"{self.message} (fix: {self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.code, "detail": self.message, "fix": self.hint}

    @classmethod
    def from_error(cls, path: str, exc: BaseException) -> FileProblem:
        """The problem an exception raised while opening or reading a file describes."""
        from curation.errors import InputError

        if isinstance(exc, InputError):
            return cls(path, exc.code, exc.message, exc.hint or "")
        return cls(path, "unreadable_file", f"cannot read file: {type(exc).__name__}: {exc}",
                   "check the file is complete and readable (re-download it?)")
