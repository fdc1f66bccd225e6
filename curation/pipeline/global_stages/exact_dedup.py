"""Exact dedup as a global stage: records whose exact key (normalised text + system prompt + tools) repeats."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from curation.dedup.config import ExactDedupConfig
from curation.dedup.near import exact_duplicates
from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable


class ExactDedupStage(GlobalStage):
    name: ClassVar[str] = "exact_dedup"

    def __init__(self, config: ExactDedupConfig) -> None:
        self.config = config

    def decide(self, table: KeyTable) -> Decision:
        rows = np.flatnonzero(table.alive)
        if len(rows) == 0:
            return Decision()
        keys, lengths, quality = table.exact_keys, np.asarray(table.lengths), np.asarray(table.quality)
        if len(rows) < len(table):  # columns are only copied when some rows are gone
            # an 'S16' column is sliced as an array: indexing it row by row would give np.bytes_, which drops
            # trailing NUL bytes (keys of different lengths)
            keys = keys[rows] if isinstance(keys, np.ndarray) else [keys[i] for i in rows.tolist()]
            lengths, quality = lengths[rows], quality[rows]
        dup_of = exact_duplicates(keys, self.config.keep, lengths=lengths, quality=quality)
        dups = np.flatnonzero(dup_of >= 0)
        drops = {
            row: GlobalDrop("exact_duplicate", "same content after normalising case and whitespace", survivor, 1.0)
            for row, survivor in zip(rows[dups].tolist(), rows[dup_of[dups]].tolist(), strict=True)
        }
        return Decision(drops=drops)
