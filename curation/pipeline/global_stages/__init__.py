"""Global stages: exact dedup, near dedup and the split, each deciding on the run's key table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable
from curation.pipeline.global_stages.exact_dedup import ExactDedupStage
from curation.pipeline.global_stages.near_dedup import NearDedupStage
from curation.pipeline.global_stages.split import SplitStage

if TYPE_CHECKING:
    from curation.config import RunConfig


def build_global_stages(config: RunConfig) -> list[GlobalStage]:
    """The global stages in the order they decide; disabled ones are left out. The split always runs."""
    stages: list[GlobalStage] = []
    if config.exact_dedup.enabled:
        stages.append(ExactDedupStage(config.exact_dedup))
    if config.near_dedup.enabled:
        stages.append(NearDedupStage(config.near_dedup))
    seed = config.split.seed if config.split.seed is not None else config.seed
    stages.append(SplitStage(config.split, seed))
    return stages


__all__ = ["Decision", "ExactDedupStage", "GlobalDrop", "GlobalStage", "KeyTable", "NearDedupStage", "SplitStage",
           "build_global_stages"]
