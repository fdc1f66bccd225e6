"""Global stages: exact dedup, near dedup, balance and the split, each deciding on the run's key table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from curation.pipeline.global_stages.balance import BalanceStage
from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable
from curation.pipeline.global_stages.exact_dedup import ExactDedupStage
from curation.pipeline.global_stages.near_dedup import NearDedupStage
from curation.pipeline.global_stages.split import SplitStage

if TYPE_CHECKING:
    from curation.config import RunConfig


def build_global_stages(config: RunConfig) -> list[GlobalStage]:
    """The global stages in the order they decide (from the stage registry); disabled ones are left out."""
    from curation.pipeline import registry

    return registry.build("global", config)


__all__ = ["BalanceStage", "Decision", "ExactDedupStage", "GlobalDrop", "GlobalStage", "KeyTable", "NearDedupStage",
           "SplitStage", "build_global_stages"]
