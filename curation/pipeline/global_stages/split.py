"""The split as a global stage: stratum balance (caps, minimums) and the group-aware, seeded assignment.

The algorithm lives in ``curation.pipeline.split``; this stage adapts it to the key table. Balance drops are
reported under the funnel stage ``balance``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable
from curation.pipeline.split import assign_splits

if TYPE_CHECKING:
    from curation.config import SplitConfig


class SplitStage(GlobalStage):
    name: ClassVar[str] = "split"

    def __init__(self, config: SplitConfig, seed: int) -> None:
        self.config = config
        self.seed = seed

    def decide(self, table: KeyTable) -> Decision:
        alive = np.flatnonzero(table.alive).tolist()
        assignment, dropped = assign_splits(alive, strata=table.strata, clusters=table.cluster, config=self.config,
                                            seed=self.seed, groups=table.groups)
        drops = {idx: GlobalDrop(reason, detail, stage="balance") for idx, (reason, detail) in dropped.items()}
        return Decision(drops=drops, assignment=assignment)
