"""What a stage is. Stages say *what* happens to records; the runner decides *how* it runs and counts.

A per-record stage sees one canonical record dict at a time (in a worker process), may annotate or
change it, and answers keep (``None``) or ``Drop(reason, detail)``. It never counts, times or writes:
the runner does, so every stage gets counts per reason, timings and a rejects file for free.

A global stage (dedup, decontamination, split) needs every record; it works on compact per-record
keys that per-record stages left in ``record["metadata"]`` and the runner collected, never on whole
conversations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Drop:
    """A stage's verdict to remove a record: a stable reason code, a human detail, and for duplicates
    and contamination the id of the record it duplicates."""

    reason: str
    detail: str = ""
    duplicate_of: str | None = None


class RecordStage:
    """A per-record stage. Subclasses set ``name`` and implement ``process``.

    Instances are pickled to worker processes: keep heavy resources (models, tokenizers) out of
    ``__init__`` and create them in ``load()``, which the runner calls once per worker.
    """

    name: ClassVar[str] = "stage"
    # A stage that repairs rather than judges (normalise) runs before validation, so that what it fixes
    # (role aliases, stray whitespace) is not rejected first. Such a stage must cope with malformed records.
    before_validation: ClassVar[bool] = False

    def load(self) -> None:
        """Create heavy resources; called once in each worker before any record."""

    def process(self, record: dict[str, Any]) -> Drop | None:
        raise NotImplementedError

    def process_batch(self, records: list[dict[str, Any]]) -> list[Drop | None]:
        """One verdict per record of a batch, in order. Override to share work across a batch (one model call
        for many texts); the default calls ``process`` per record. If it raises, the runner retries the batch
        record by record with ``process``, so one bad record still only drops itself."""
        return [self.process(record) for record in records]
