"""The global-stage contract: stages that need every kept record at once (dedup, split) decide on a key table.

Workers compute compact keys per record (exact key, MinHash signature, length, quality, stratum, group keys);
the main process gathers them into one columnar :class:`KeyTable`, and each global stage's ``decide`` returns
a :class:`Decision`: which records it drops (with reason and, for duplicates, the survivor they duplicate),
cluster labels, or split assignments. Stages never count and never write: the runner applies decisions in
order, counts the funnel, and writes rejects and splits. A stage only sees records still ``alive``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


@dataclass(slots=True)
class KeyTable:
    """Compact keys of the records that survived the per-record stages, in reading order (row = index).

    Columns may be plain lists (small runs, tests) or the columnar forms the runner builds for large runs,
    and stages must accept both: ``exact_keys`` an ``(n,)`` ``'S16'`` array, ``lengths`` / ``quality`` numpy
    arrays (any int / float width), ``signatures`` an ndarray or a read-only ``np.memmap`` of a file in the
    run's work folder (read in row chunks, never whole: ``curation.dedup.near.SignatureRows``). Group keys are
    opaque hashables (64-bit ints from the runner, short strings in older tables): only equality matters.
    """

    ids: Sequence[str]
    exact_keys: np.ndarray | Sequence[bytes]  # 16 bytes per row: an 'S16' array or a list of bytes
    lengths: np.ndarray  # ints: length of the compared text (the keep policy "longest")
    quality: np.ndarray  # floats (32 or 64 bit): quality score (the keep policy "quality")
    strata: Sequence[str]
    groups: Sequence[tuple[Hashable, ...]]  # split group keys (tree id, first user turn, a metadata field)
    signatures: np.ndarray | None = None  # n x num_perm uint32 (ndarray or np.memmap), when near dedup runs
    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    cluster: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # stage name -> the rows of keys it computed in workers; "balance": the units of the rows balance saw
    # (split.StratumUnits), which the split walks so that dropping capped units never reorders the rest
    extra: dict[str, Any] = field(default_factory=dict)

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
    """One record a global stage removes. ``duplicate_of`` is the row of the record it duplicates, or the id of
    what it matched outside the table (an evaluation item)."""

    reason: str
    detail: str
    duplicate_of: int | str | None = None
    similarity: float | None = None
    stage: str | None = None  # funnel stage when it differs from the deciding stage's name (e.g. "balance")


@dataclass(slots=True)
class Decision:
    drops: dict[int, GlobalDrop] = field(default_factory=dict)
    cluster: np.ndarray | None = None  # per row: cluster id, -1 alone
    clusters: list[dict[str, Any]] = field(default_factory=list)  # the largest, for the report: rows, not ids
    assignment: Mapping[int, str] | None = None  # row -> split name (a dict, or a row-indexed SplitAssignment)
    notes: list[str] = field(default_factory=list)  # for the report's warnings (what the stage chose not to do)
    report: dict[str, Any] = field(default_factory=dict)  # top-level report sections the stage adds


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
