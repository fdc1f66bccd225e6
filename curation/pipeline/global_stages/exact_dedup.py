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
        dup_of = exact_duplicates(np.asarray(table.exact_keys)[rows], self.config.keep,
                                  lengths=table.lengths[rows], quality=table.quality[rows])
        drops = {
            int(rows[j]): GlobalDrop("exact_duplicate", "same content after normalising case and whitespace",
                                     int(rows[survivor]), 1.0)
            for j, survivor in enumerate(dup_of) if survivor >= 0
        }
        return Decision(drops=drops)
