"""The shipped target table: every fact carries a source URL and a date; status is read against today."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from curation.config import load_config
from curation.errors import ConfigError
from curation.exporters import available_exporters
from curation.targets import (
    FACTS,
    TABLE_PATH,
    TargetClosedError,
    get_target,
    lifecycle_message,
    load_table,
    parse_table,
    refuse_if_closed,
    target_for_backend,
    target_for_model,
)

DEC_2 = dt.date(2026, 12, 2)
# Amazon Nova is an alternative for text data once its exporter (bedrock-conversation-2024) is installed
NOVA = "bedrock-nova, " if "bedrock-nova" in available_exporters() else ""
OPEN = f"azure-openai, together, vertex-gemini, {NOVA}hf-local"
PROVIDERS = {"openai", "azure-openai", "together", "vertex-gemini", "bedrock-nova", "bedrock-claude", "mistral",
             "cohere", "hf-local", "autotrain"}


def _raw() -> dict:
    return tomllib.loads(TABLE_PATH.read_text(encoding="utf-8"))


def test_every_fact_has_a_source_url_and_a_date() -> None:
    table = load_table()
    assert set(table.providers) == PROVIDERS
    checked = 0
    for provider in table.providers.values():
        for owner in [provider, *provider.models.values()]:
            for name in FACTS:
                fact = getattr(owner, name, None)
                if fact is None:
                    continue
                assert fact.source.startswith("https://"), (provider.name, name)
                assert isinstance(fact.as_of, dt.date) and fact.as_of <= DEC_2, (provider.name, name)
                checked += 1
    assert checked > 80  # the table is not vacuous
    # and in the file itself, no fact is written without its source (the loader's rule, read independently)
    for name, spec in _raw()["providers"].items():
        for owner in [spec, *spec.get("models", {}).values()]:
            for key in FACTS:
                if key in owner:
                    assert set(owner[key]) == {"v", "src"}, (name, key)
                    assert owner[key]["src"] in _raw()["sources"], (name, key)


def test_a_fact_without_a_source_or_with_an_unknown_one_fails_to_load() -> None:
    raw = _raw()
    raw["providers"]["openai"]["new_jobs_until"] = dt.date(2027, 1, 6)  # a bare value
    with pytest.raises(ConfigError, match=r"providers.openai.new_jobs_until has no source"):
        parse_table(raw)
    raw = _raw()
    raw["providers"]["together"]["max_file_bytes"] = {"v": 1, "src": "nowhere"}
    with pytest.raises(ConfigError, match="unknown source 'nowhere'"):
        parse_table(raw)
    raw = _raw()
    del raw["sources"]["vertex-sft"]["as_of"]
    with pytest.raises(ConfigError, match="as_of"):
        parse_table(raw)


def test_the_documented_dates_and_limits() -> None:
    mini = get_target("openai:gpt-4o-mini")
    assert mini.value("new_jobs_until") == dt.date(2027, 1, 6) and mini.value("shutdown") == dt.date(2027, 1, 14)
    assert mini.status_on(DEC_2) == "closing"
    assert mini.status_on(dt.date(2027, 1, 6)) == "closing" and mini.status_on(dt.date(2027, 1, 7)) == "closed"
    assert get_target("openai:gpt-4.1-nano").status_on(DEC_2) == "closed"
    assert get_target("bedrock-claude").status_on(DEC_2) == "closed"
    assert get_target("cohere").value("shutdown") == dt.date(2025, 9, 15)
    assert get_target("mistral").status_on(DEC_2) == "closed" and get_target("mistral").provider.local_format
    flash = get_target("vertex-gemini:gemini-2.5-flash")
    assert (flash.value("max_tokens_per_example"), flash.value("max_validation_examples"),
            flash.value("max_file_bytes")) == (131_072, 5_000, 1 << 30)
    assert flash.fact("max_tokens_per_example").source.endswith("gemini-supervised-tuning")
    assert get_target("azure-openai:gpt-4o-mini").methods() == ["sft"]
    assert "dpo" in get_target("azure-openai:gpt-4.1-mini").methods()
    assert get_target("together").content().tools and get_target("together").content().reasoning
    for name in ("azure-openai", "together", "vertex-gemini", "bedrock-nova", "hf-local"):
        assert get_target(name).status_on(DEC_2) == "active"


def test_the_issue_s_warning_line() -> None:
    line = lifecycle_message(get_target("openai:gpt-4o-mini"), DEC_2)
    assert line == ("OpenAI stops new fine-tuning jobs on 2027-01-06 (35 days); gpt-4o-mini and its fine-tunes shut "
                    f"down on 2027-01-14. Open targets for this data: {OPEN}")
    assert lifecycle_message(get_target("azure-openai:gpt-4.1-mini"), DEC_2) is None
    dpo_only = lifecycle_message(get_target("openai:gpt-4o-mini"), DEC_2, needs={"dpo"})
    assert dpo_only.endswith("azure-openai, together, vertex-gemini, hf-local")
    kto = lifecycle_message(get_target("openai:gpt-4o-mini"), DEC_2, needs={"kto"})
    assert kto.endswith("Open targets for this data: hf-local")


def test_names_resolve_to_targets() -> None:
    assert target_for_model("gpt-4o-mini").label == "openai:gpt-4o-mini-2024-07-18"
    assert target_for_model("azure/gpt-4.1-mini").label == "azure-openai:gpt-4.1-mini-2025-04-14"
    assert target_for_model("gemini-2.5-flash").label == "vertex-gemini:gemini-2.5-flash"
    assert target_for_model("my-own-model") is None
    assert target_for_backend("openai", "gpt-4.1-nano-2025-04-14").status_on(DEC_2) == "closed"
    assert target_for_backend("hf-local", "./m").label == "hf-local:./m"
    with pytest.raises(ConfigError, match="did you mean 'vertex-gemini'"):
        get_target("vertex-gemni")
    with pytest.raises(ConfigError, match="no fine-tunable model 'gpt-5'"):
        get_target("azure-openai:gpt-5")
    with pytest.raises(TargetClosedError, match="refused to launch a job on openai:gpt-4.1-nano-2025-04-14"):
        refuse_if_closed(get_target("openai:gpt-4.1-nano"), DEC_2)


def test_the_run_config_and_a_file_override_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text("inputs: [x.jsonl]\ntargets:\n  providers:\n    together:\n"
                   "      status: {v: closing, src: together-data}\n"
                   "      new_jobs_until: {v: 2027-03-01, src: together-data}\n")
    config = load_config(cfg)
    table = load_table(config.targets)
    assert get_target("together", table).status_on(DEC_2) == "closing"
    assert config.config_hash() != load_config(cfg, values={"targets": {}}).config_hash()
    cfg.write_text("inputs: [x.jsonl]\ntargets:\n  providers:\n    together:\n      status: closing\n")
    with pytest.raises(ConfigError, match="together.status has no source"):
        load_config(cfg)
    extra = tmp_path / "mine.toml"
    extra.write_text('[sources.me]\nurl = "https://example.org/my-notes"\nas_of = 2026-12-01\n'
                     '[providers.hf-local]\nstatus = { v = "closed", src = "me" }\n')
    monkeypatch.setenv("CURATION_TARGETS", str(extra))
    assert get_target("hf-local", load_table()).status_on(DEC_2) == "closed"
    assert get_target("hf-local", load_table({"file": str(extra)})).fact("status").source == "https://example.org/my-notes"


def test_default_target_model_is_open() -> None:
    from curation.config import RunConfig
    from curation.targets import DEFAULT_TARGET_MODEL

    assert RunConfig().model == DEFAULT_TARGET_MODEL
    target = target_for_model(DEFAULT_TARGET_MODEL)
    assert target.provider.name == "azure-openai" and target.status_on(DEC_2) == "active"
    assert {"sft", "dpo"} <= set(target.methods())


def test_nova_reasoning_in_the_table_is_what_the_exporter_writes(capsys: pytest.CaptureFixture[str]) -> None:
    # Nova 2 added reasoningContent to the bedrock-conversation-2024 format; the exporter writes it for Nova 2
    # models only, so the table, `curate models` and the reasoning_dropped hint must not promise it for Nova 1
    from curation.cli import main
    from curation.exporters.base import ExportOptions
    from curation.exporters.bedrock_nova import BedrockNovaExporter
    from curation.exporters.issues import ISSUES

    record = {"id": "r", "messages": [{"role": "user", "content": "What is 2+2?"},
                                      {"role": "assistant", "content": "4", "reasoning": "Add."}]}
    models = load_table().providers["bedrock-nova"].models.values()
    assert "amazon.nova-2-lite-v1:0" in {m.id for m in models}
    kept_by: dict[str, bool] = {}
    for model in models:
        flags: set[str] = set()
        line = BedrockNovaExporter().convert(record, "sft", ExportOptions(model=model.id), flags)
        assert line is not None
        kept_by[model.id] = b"reasoningContent" in line
        assert ("reasoning_dropped" in flags) is not kept_by[model.id], model.id
        assert get_target(f"bedrock-nova:{model.id}").content().reasoning is kept_by[model.id], model.id
    assert kept_by["amazon.nova-2-lite-v1:0"] and not kept_by["amazon.nova-lite-v1:0"]
    # the provider without a model is the exporter's default model, a Nova 1
    default = BedrockNovaExporter().target(ExportOptions()).model
    assert get_target("bedrock-nova").content().reasoning is kept_by[default]
    assert main(["models", "--provider", "bedrock-nova", "--today", "2026-12-02"]) == 0
    rows = {r[1]: r for r in (line.split() for line in capsys.readouterr().out.splitlines()[1:-1])}
    assert {model for model, row in rows.items() if "reasoning" in row[-2]} == {"amazon.nova-2-lite-v1:0"}
    hint = ISSUES["reasoning_dropped"][2]
    assert "Nova 2" in hint and "amazon.nova-2-lite-v1:0" in hint
