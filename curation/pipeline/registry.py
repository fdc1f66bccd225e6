"""The stage registry: every step of a run declares itself here, once.

Each entry says the stage's name (its funnel row), kind (a runner step, a per-record stage or a global
stage), order, the ``RunConfig`` field and model holding its settings, the metadata it reads and writes,
and the optional packages it needs. The funnel order, the stages a run builds and the check that the
chain is sound (run before any worker starts) are all derived from this table; adding a stage is adding
an entry (see ``semantic_dedup``). Classes, builders and config models are named by import path, so
this module imports nothing heavy and ``curation.config`` can read it to add registered config fields.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from curation.config import RunConfig

Reads = tuple[str, ...] | Callable[["RunConfig"], tuple[str, ...]]


@dataclass(frozen=True)
class StageSpec:
    name: str
    kind: Literal["step", "record", "global"]  # step: the runner's own (ingest, validate)
    order: int
    config_field: str | None = None  # the RunConfig field with this stage's settings
    config_model: str | None = None  # "module:Class" of that field's model
    build: str | None = None  # "module:function": RunConfig -> the stage, or None when disabled
    reads: Reads = ()  # metadata keys that an enabled earlier stage must write
    writes: tuple[str, ...] = ()  # metadata keys it writes
    extras: tuple[tuple[str, str], ...] = ()  # (module it imports, the curation extra that installs it)
    funnel_before: tuple[str, ...] = ()  # funnel rows this stage reports ahead of its own (split: balance)

    def reads_for(self, config: RunConfig) -> tuple[str, ...]:
        return self.reads(config) if callable(self.reads) else self.reads

    def builder(self) -> Callable[[RunConfig], Any]:
        assert self.build is not None, f"{self.name} is a runner step"
        return resolve(self.build)


def resolve(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def _keep_reads(field: str) -> Callable[[RunConfig], tuple[str, ...]]:
    def reads(config: RunConfig) -> tuple[str, ...]:
        return ("quality",) if getattr(config, field).keep == "quality" else ()

    return reads


_B = "curation.pipeline.builders:"
_STAGES: dict[str, StageSpec] = {}


def register(spec: StageSpec) -> StageSpec:
    """Add a stage; a second entry under the same name replaces the first (tests swap stages this way)."""
    _STAGES[spec.name] = spec
    return spec


for _spec in (
    StageSpec("ingest", "step", 0, writes=("source",)),
    StageSpec("normalise", "record", 10, "normalise", "curation.pipeline.stages.normalise:NormaliseConfig",
              _B + "normalise", writes=("normalised",)),
    StageSpec("validate", "step", 20, writes=("flags",)),
    StageSpec("label", "record", 30, "labels", "curation.pipeline.stages.labels:LabelConfig", _B + "labels",
              writes=("labels",)),
    StageSpec("filter", "record", 40, "filters", None, _B + "filters"),
    StageSpec("redact", "record", 50, "redact", "curation.pipeline.stages.redact:RedactConfig", _B + "redact",
              writes=("redactions",)),
    StageSpec("tokens", "record", 60, "length", "curation.pipeline.stages.length:LengthConfig", _B + "tokens",
              writes=("tokens",)),
    StageSpec("turns", "record", 70, "turns", "curation.pipeline.stages.length:TurnsConfig", _B + "turns",
              writes=("turns",)),
    StageSpec("language", "record", 80, "language", "curation.pipeline.stages.language:LanguageConfig",
              _B + "language", writes=("language", "language_score", "flags")),
    StageSpec("quality", "record", 90, "quality", "curation.pipeline.stages.quality:QualityConfig",
              _B + "quality", writes=("quality", "flags")),
    StageSpec("flags", "record", 100, "flags", None, _B + "flags", reads=("flags",)),
    StageSpec("decontaminate", "global", 110, "decontaminate", "curation.dedup.config:DecontaminationConfig",
              "curation.pipeline.global_stages.decontaminate:build"),
    StageSpec("exact_dedup", "global", 120, "exact_dedup", "curation.dedup.config:ExactDedupConfig",
              _B + "exact_dedup", reads=_keep_reads("exact_dedup")),
    StageSpec("prefix_dedup", "global", 125, "prefix_dedup", "curation.dedup.config:PrefixDedupConfig",
              "curation.pipeline.global_stages.prefix_dedup:build"),
    StageSpec("near_dedup", "global", 130, "near_dedup", "curation.dedup.config:NearDedupConfig",
              _B + "near_dedup", reads=_keep_reads("near_dedup"), writes=("cluster",)),
    StageSpec("semantic_dedup", "global", 140, "semantic_dedup",
              "curation.dedup.config:SemanticDedupConfig",
              "curation.pipeline.global_stages.semantic_dedup:build", reads=_keep_reads("semantic_dedup"),
              extras=(("model2vec", "semantic"),)),
    StageSpec("balance", "global", 990, "split", None, _B + "balance"),  # settings: split.max/min_per_stratum
    StageSpec("split", "global", 1000, "split", "curation.config:SplitConfig", _B + "split", writes=("split",)),
):
    register(_spec)


def stages() -> list[StageSpec]:
    """Every registered stage in run order."""
    return sorted(_STAGES.values(), key=lambda s: (s.order, s.name))


def funnel_order() -> list[str]:
    """The report funnel's rows, in order."""
    rows: list[str] = []
    for spec in stages():
        rows.extend(spec.funnel_before)
        rows.append(spec.name)
    return rows


def build(kind: Literal["record", "global"], config: RunConfig) -> list[Any]:
    """The enabled stages of one kind, constructed from the config, in run order."""
    built = []
    for spec in stages():
        if spec.kind == kind:
            stage = spec.builder()(config)
            if stage is not None:
                built.append(stage)
    return built


def enabled(config: RunConfig) -> list[StageSpec]:
    out = []
    for spec in stages():
        if spec.kind == "step":
            out.append(spec)
        elif spec.builder()(config) is not None:
            out.append(spec)
    return out


def registered_config_fields() -> dict[str, str]:
    """RunConfig field -> "module:Class" of every registered stage with a config model (read by curation.config)."""
    return {s.config_field: s.config_model for s in stages() if s.config_field and s.config_model}


def check_chain(config: RunConfig) -> None:
    """Before any worker starts: every metadata key an enabled stage reads is written by an enabled stage that
    runs earlier, and every optional package an enabled stage imports is installed."""
    from curation.errors import ConfigError

    chain = enabled(config)
    written: set[str] = set()
    for i, spec in enumerate(chain):
        for key in spec.reads_for(config):
            if key in written:
                continue
            writers = [s.name for s in stages() if key in s.writes]
            later = [s.name for s in chain[i + 1:] if key in s.writes]
            what = (f"the {spec.name} stage reads metadata.{key}, which "
                    + (f"only the later stage {later[0]} writes" if later else "no enabled stage writes"))
            raise ConfigError(what, where=spec.config_field or spec.name,
                              hint=f"enable {' or '.join(writers) or 'a stage that writes it'}, or change "
                                   f"`{spec.config_field or spec.name}` so it does not need metadata.{key}")
        written.update(spec.writes)
        for module, extra in spec.extras:
            if importlib.util.find_spec(module) is None:
                raise ConfigError(f"the {spec.name} stage needs the package {module!r}, which is not installed",
                                  where=spec.config_field or spec.name,
                                  hint=f"pip install 'curation[{extra}]', or disable {spec.config_field}")


__all__ = ["StageSpec", "build", "check_chain", "enabled", "funnel_order", "register", "registered_config_fields",
           "resolve", "stages"]
