"""The stage registry: order, construction and the chain check all come from one table."""

from __future__ import annotations

import pytest

from curation.config import RunConfig, load_config
from curation.errors import ConfigError
from curation.pipeline import registry
from curation.pipeline.global_stages import build_global_stages
from curation.pipeline.runner import STAGE_ORDER, build_stages


def test_the_funnel_order_comes_from_the_registry() -> None:
    assert STAGE_ORDER == registry.funnel_order()
    assert STAGE_ORDER[:3] == ["ingest", "normalise", "validate"]
    assert STAGE_ORDER[-2:] == ["balance", "split"]  # balance is reported by the split, just before it
    assert STAGE_ORDER.index("exact_dedup") < STAGE_ORDER.index("near_dedup")


def test_every_registered_config_field_is_a_run_config_field_of_that_model() -> None:
    for spec in registry.stages():
        if spec.config_field is None:
            continue
        assert spec.config_field in RunConfig.model_fields, spec.name
        if spec.config_model is not None:
            annotation = RunConfig.model_fields[spec.config_field].annotation
            assert annotation is registry.resolve(spec.config_model), spec.name


def test_built_stages_follow_registry_order_and_names() -> None:
    config = load_config(None, values={"inputs": ["x.jsonl"], "labels.enabled": True, "flags": {"pii": "drop"}})
    record_names = [s.name for s in build_stages(config)]
    global_names = [s.name for s in build_global_stages(config)]
    order = [s.name for s in registry.stages()]
    assert record_names == sorted(record_names, key=order.index)
    assert record_names[:2] == ["normalise", "label"] and record_names[-1] == "flags"
    assert global_names == ["exact_dedup", "prefix_dedup", "near_dedup", "split"]  # semantic dedup is off by default


def test_disabling_a_stage_leaves_it_out() -> None:
    config = load_config(None, values={"inputs": ["x.jsonl"], "quality.enabled": False, "near_dedup.enabled": False})
    assert "quality" not in [s.name for s in build_stages(config)]
    assert [s.name for s in build_global_stages(config)] == ["exact_dedup", "prefix_dedup", "split"]


def test_a_stage_reading_metadata_no_enabled_stage_writes_is_refused_before_work() -> None:
    config = load_config(None, values={"inputs": ["x.jsonl"], "quality.enabled": False, "near_dedup.keep": "quality"})
    with pytest.raises(ConfigError) as err:
        registry.check_chain(config)
    text = str(err.value)
    assert text.startswith("near_dedup: the near_dedup stage reads metadata.quality, which no enabled stage writes")
    assert "(fix: enable quality" in text


def test_a_stage_reading_metadata_only_a_later_stage_writes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._STAGES, "early", registry.StageSpec(
        "early", "record", 5, build="curation.pipeline.builders:normalise", reads=("language",)))
    with pytest.raises(ConfigError, match="reads metadata.language, which only the later stage language writes"):
        registry.check_chain(load_config(None, values={"inputs": ["x.jsonl"]}))


def test_a_missing_extra_is_named_with_its_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._STAGES, "needy", registry.StageSpec(
        "needy", "record", 95, "quality", build="curation.pipeline.builders:quality",
        extras=(("curation_no_such_module", "needy"),)))
    missing = r"needs the package 'curation_no_such_module'.*pip install 'curation\[needy\]'"
    with pytest.raises(ConfigError, match=missing):
        registry.check_chain(load_config(None, values={"inputs": ["x.jsonl"]}))


def test_the_default_chain_is_sound() -> None:
    config = load_config(None, values={"inputs": ["x.jsonl"]})
    registry.check_chain(config)
    assert [s.name for s in registry.enabled(config)] == [
        "ingest", "normalise", "validate", "label", "redact", "tokens", "turns", "language", "quality", "exact_dedup",
        "prefix_dedup", "near_dedup", "split"]
