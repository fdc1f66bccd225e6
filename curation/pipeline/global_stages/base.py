"""The global-stage contract: stages that need every kept record at once (dedup, split) decide on a key table.

Workers compute compact keys per record (exact key, MinHash signature, length, quality, stratum, group keys);
the main process gathers them into one columnar :class:`KeyTable`, and each global stage's ``decide`` returns
a :class:`Decision`: which records it drops (with reason and, for duplicates, the survivor they duplicate),
cluster labels, or split assignments. Stages never count and never write: the runner applies decisions in
order, counts the funnel, and writes rejects and splits. A stage only sees records still ``alive``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


@dataclass(slots=True)
class KeyTable:
    """Compact keys of the records that survived the per-record stages, in reading order (row = index)."""

    ids: list[str]
    exact_keys: list[bytes]
    lengths: np.ndarray  # int64: length of the compared text (the keep policy "longest")
    quality: np.ndarray  # float64: quality score (the keep policy "quality")
    strata: list[str]
    groups: list[tuple[str, ...]]  # split group keys (tree id, first user turn, a metadata field)
    signatures: np.ndarray | None = None  # n x num_perm uint32, when near dedup runs
    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    cluster: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    extra: dict[str, Any] = field(default_factory=dict)  # stage name -> the rows of keys it computed in workers

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(self.alive) != n:
            self.alive = np.ones(n, dtype=bool)
        if len(self.cluster) != n:
            self.cluster = np.full(n, -1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(slots=True)
class GlobalDrop:
    """One record a global stage removes. ``duplicate_of`` is the row of the record it duplicates."""

    reason: str
    detail: str
    duplicate_of: int | None = None
    similarity: float | None = None
    stage: str | None = None  # funnel stage when it differs from the deciding stage's name (e.g. "balance")


@dataclass(slots=True)
class Decision:
    drops: dict[int, GlobalDrop] = field(default_factory=dict)
    cluster: np.ndarray | None = None  # per row: cluster id, -1 alone
    clusters: list[dict[str, Any]] = field(default_factory=list)  # the largest, for the report: rows, not ids
    assignment: dict[int, str] | None = None  # row -> split name


class GlobalStage:
    """A stage that decides on the whole key table. Subclasses set ``name`` and implement ``decide``."""

    name: ClassVar[str] = "global"
    # A stage that needs its own per-record keys (an embedding, say) sets this and implements ``keys``: workers
    # call it on each batch's kept records, and the runner gathers the rows into ``table.extra[name]``.
    needs_keys: ClassVar[bool] = False

    def load(self) -> None:
        """Create heavy resources (for ``keys``); called once in each worker, and first in the main process."""

    def keys(self, records: list[dict[str, Any]]) -> Any:  # pragma: no cover - interface
        """One row of keys per kept record of a batch, in order (a numpy array of ``len(records)`` rows)."""
        raise NotImplementedError

    def decide(self, table: KeyTable) -> Decision:  # pragma: no cover - interface
        raise NotImplementedError
