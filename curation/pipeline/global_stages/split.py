"""The split as a global stage: the group-aware, seeded, stratified assignment (train / validation / test).

The algorithm lives in ``curation.pipeline.split``; this stage adapts it to the key table. Stratum caps and
minimums are the balance stage's (it runs just before); when it ran, the split walks the units of the rows
balance saw in their seeded order, leaving out those it dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from curation.pipeline.global_stages.base import Decision, GlobalStage, KeyTable
from curation.pipeline.split import SplitAssignment, StratumUnits, split_codes

if TYPE_CHECKING:
    from curation.config import SplitConfig


class SplitStage(GlobalStage):
    name: ClassVar[str] = "split"

    def __init__(self, config: SplitConfig, seed: int) -> None:
        self.config = config
        self.seed = seed

    def decide(self, table: KeyTable) -> Decision:
        units = table.extra.pop("balance", None)  # the units of the rows balance saw, when it ran (freed here)
        if not isinstance(units, StratumUnits):
            units = StratumUnits(np.flatnonzero(table.alive), table.strata, table.groups, table.cluster, self.config)
        codes = split_codes(units, np.asarray(table.alive, dtype=bool), len(table), self.config, self.seed)
        return Decision(assignment=SplitAssignment(codes), notes=units.notes())
