"""Stratum balance as a global stage: caps (``split.max_per_stratum``) and minimums (``split.min_per_stratum``).

Runs just before the split, on the same units (records linked by a group key or near-duplicate cluster are
capped together) and the same seeded order of each stratum's units, so the split that follows walks the
units balance kept in the order they had: capping a stratum never reshuffles the rest. Off unless a cap or
a minimum is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable
from curation.pipeline.split import StratumUnits, stratum_balance

if TYPE_CHECKING:
    from curation.config import SplitConfig


class BalanceStage(GlobalStage):
    name: ClassVar[str] = "balance"

    def __init__(self, config: SplitConfig, seed: int) -> None:
        self.config = config
        self.seed = seed

    def decide(self, table: KeyTable) -> Decision:
        units = StratumUnits(np.flatnonzero(table.alive), table.strata, table.groups, table.cluster, self.config)
        # the split walks these units, less the ones dropped here (see SplitStage)
        table.extra[self.name] = units
        dropped = stratum_balance(units, self.config, self.seed)
        return Decision(drops={row: GlobalDrop(reason, detail) for row, (reason, detail) in dropped.items()})
