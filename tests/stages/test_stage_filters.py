"""Metadata filters (`filters:` in the run config)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from curation.config import load_config
from curation.errors import ConfigError
from curation.pipeline.stages.filters import FilterRule, MetadataFilterStage


def _record(**metadata: Any) -> dict[str, Any]:
    return {"id": "r", "messages": [], "metadata": metadata}


def _verdict(rule: dict[str, Any], record: dict[str, Any]) -> str | None:
    drop = MetadataFilterStage([FilterRule.model_validate(rule)]).process(record)
    return None if drop is None else drop.reason


@pytest.mark.parametrize(
    ("rule", "fields", "expected"),
    [
        ({"field": "fields.status", "equals": "ok"}, {"status": "ok"}, None),
        ({"field": "fields.status", "equals": "ok"}, {"status": "too similar"}, "filter_mismatch"),
        ({"field": "metadata.fields.status", "equals": "ok"}, {"status": "ok"}, None),
        ({"field": "fields.status", "not_equals": "blacklist"}, {"status": "ok"}, None),
        ({"field": "fields.status", "not_equals": "blacklist"}, {"status": "blacklist"}, "filter_mismatch"),
        ({"field": "fields.status", "in": ["ok", "too short"]}, {"status": "too short"}, None),
        ({"field": "fields.status", "in": ["ok"]}, {"status": "bad start"}, "filter_mismatch"),
        ({"field": "fields.status", "not_in": ["blacklist"]}, {"status": "blacklist"}, "filter_mismatch"),
        ({"field": "fields.similarity", "max": 0.7}, {"similarity": 0.6}, None),
        ({"field": "fields.similarity", "max": 0.7}, {"similarity": 0.909}, "filter_mismatch"),
        ({"field": "fields.rating", "min": 4, "max": 5}, {"rating": 4}, None),
        ({"field": "fields.rating", "min": 4}, {"rating": "5"}, "filter_mismatch"),  # a string is not a number
        ({"field": "fields.flag", "equals": 1}, {"flag": True}, "filter_mismatch"),  # True is not 1
        ({"field": "fields.status", "equals": "ok"}, {}, "filter_field_missing"),
        ({"field": "fields.status", "equals": "ok", "missing": "keep"}, {}, None),
        ({"field": "fields.note", "equals": None}, {"note": None}, None),  # `equals: null` is a real test
    ],
)
def test_operators(rule: dict[str, Any], fields: dict[str, Any], expected: str | None) -> None:
    assert _verdict(rule, _record(fields=fields)) == expected


def test_top_level_metadata_and_detail() -> None:
    stage = MetadataFilterStage([FilterRule.model_validate({"field": "language", "in": ["en", "fr"]})])
    drop = stage.process(_record(language="ja"))
    assert drop is not None and drop.reason == "filter_mismatch"
    assert drop.detail == "language is 'ja'; the filter wants in ['en', 'fr']"


def test_every_rule_must_pass() -> None:
    rules = [FilterRule.model_validate(r) for r in ({"field": "fields.status", "equals": "ok"},
                                                     {"field": "fields.similarity", "max": 0.7})]
    stage = MetadataFilterStage(rules)
    assert stage.process(_record(fields={"status": "ok", "similarity": 0.5})) is None
    assert stage.process(_record(fields={"status": "ok", "similarity": 0.8})).reason == "filter_mismatch"


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([{"field": "fields.status", "greater": 3}], "'filters.0': unknown filter operator 'greater'"),
        ([{"field": "fields.status"}], "'filters.0': the filter on 'fields.status' has no operator"),
        ([{"equals": "ok"}], "'filters.0.field': Field required"),
        ([{"field": "fields.r", "min": "high"}], "'filters.0.min'"),
        (["fields.status=ok"], "'filters.0': a filter is a mapping"),
        ([{"field": "fields.s", "in": "ok"}], "'filters.0.in'"),
    ],
)
def test_a_malformed_filter_is_a_config_error_naming_the_key(filters: list[Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, values={"inputs": ["x.jsonl"], "filters": filters})
    assert message in str(err.value)


def test_filter_on_alpaca_libre_status(tmp_path: Path, real_dir: Path) -> None:
    """The authors' own labels: keep status ok only. Every kept record is ok, every ok record that passed
    validation is kept, every other one is a filter_mismatch reject."""
    from curation.pipeline.runner import run_pipeline

    path = real_dir / "mobarski__alpaca-libre/alpaca_libre_tasks_v1.jsonl"
    status = Counter(json.loads(line)["status"] for line in path.read_text().splitlines())
    assert status == {"ok": 1202, "too similar": 848, "too short": 215, "blacklist": 109, "bad start": 1}
    config = load_config(None, values={
        "inputs": [str(path)], "out": str(tmp_path / "run"), "export.formats": [], "runner.progress": False,
        "filters": [{"field": "fields.status", "equals": "ok"}], "near_dedup.enabled": False,
        "exact_dedup.enabled": False, "quality.enabled": False, "language.enabled": False,
    })
    result = run_pipeline(config, quiet=True)
    kept = [json.loads(line) for split in ("train", "validation")
            for line in (result.run_dir / "splits" / f"{split}.jsonl").read_text().splitlines()]
    rejects = [json.loads(line) for line in (result.run_dir / "rejects.jsonl").read_text().splitlines()]
    assert {r["metadata"]["fields"]["status"] for r in kept} == {"ok"}
    filtered = [r for r in rejects if r["stage"] == "filter"]
    assert {r["reason"] for r in filtered} == {"filter_mismatch"}
    assert all(r["record"]["metadata"]["fields"]["status"] != "ok" for r in filtered)
    not_valid = Counter(r["record"]["metadata"]["fields"]["status"] if r["record"] else None
                        for r in rejects if r["stage"] == "validate")
    assert len(kept) == status["ok"] - not_valid["ok"] == 1173
    assert len(filtered) == 965  # 1,173 ok kept of 2,138 valid records
    funnel = {row["stage"]: row for row in result.report["funnel"]}
    assert funnel["filter"]["by_reason"] == {"filter_mismatch": 965}
