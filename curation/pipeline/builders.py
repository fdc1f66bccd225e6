"""How each registered stage is built from the run config (see ``registry``); None: the stage is off."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from curation.config import RunConfig


def normalise(config: RunConfig) -> Any:
    from .stages.normalise import NormaliseStage

    return NormaliseStage(config.normalise) if config.normalise.enabled else None


def labels(config: RunConfig) -> Any:
    # Labels and the user's metadata filters first after validation: they are cheap and final.
    from .stages.labels import LabelStage

    return LabelStage(config.labels) if config.labels.enabled else None


def filters(config: RunConfig) -> Any:
    from .stages.filters import MetadataFilterStage

    return MetadataFilterStage(config.filters) if config.filters else None


def redact(config: RunConfig) -> Any:
    from .stages.redact import RedactStage

    return RedactStage(config.redact) if config.redact.enabled else None


def tokens(config: RunConfig) -> Any:
    from .stages.length import LengthConfig, TokenLengthStage

    if not config.length.enabled:
        return None
    # The target model is the run's; the stage's own model fields exist for standalone use.
    length = LengthConfig.model_validate({**config.length.model_dump(), "model": config.model,
                                          "models": {k: v.model_dump() for k, v in config.models.items()}})
    return TokenLengthStage(length)


def turns(config: RunConfig) -> Any:
    from .stages.length import TurnsStage

    return TurnsStage(config.turns) if config.turns.enabled else None


def language(config: RunConfig) -> Any:
    from .stages.language import LanguageStage

    return LanguageStage(config.language) if config.language.enabled else None


def quality(config: RunConfig) -> Any:
    from .stages.quality import QualityStage

    return QualityStage(config.quality) if config.quality.enabled else None


def flags(config: RunConfig) -> Any:
    if not any(mode != "flag" for mode in config.flags.values()):
        return None
    from .stages.flags import FlagPolicyStage

    return FlagPolicyStage(config.flags)


def exact_dedup(config: RunConfig) -> Any:
    from .global_stages.exact_dedup import ExactDedupStage

    return ExactDedupStage(config.exact_dedup) if config.exact_dedup.enabled else None


def near_dedup(config: RunConfig) -> Any:
    from .global_stages.near_dedup import NearDedupStage

    return NearDedupStage(config.near_dedup) if config.near_dedup.enabled else None


def balance(config: RunConfig) -> Any:
    """Stratum caps and minimums; off unless one is set."""
    from .global_stages.balance import BalanceStage

    if not (config.split.max_per_stratum or config.split.min_per_stratum):
        return None
    return BalanceStage(config.split, _split_seed(config))


def _split_seed(config: RunConfig) -> int:
    return config.split.seed if config.split.seed is not None else config.seed


def split(config: RunConfig) -> Any:
    """The split always runs."""
    from .global_stages.split import SplitStage

    return SplitStage(config.split, _split_seed(config))
