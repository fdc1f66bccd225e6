"""Model references: every form parses to the right kind; options; keys only by variable name."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.errors import ConfigError
from curation.models_ref import parse_ref, parse_tool_calls


def test_every_form_of_reference(base_model: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com")
    local = parse_ref(str(base_model))
    assert (local.kind, local.model, local.adapter, local.prices()) == ("local", str(base_model), False, (0.0, 0.0))
    job_dir = tmp_path / "job"
    (job_dir / "final").mkdir(parents=True)
    (job_dir / "final" / "config.json").write_text("{}")
    assert parse_ref(str(job_dir)).model == str(job_dir / "final") and parse_ref(str(job_dir)).name == "job/final"
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    assert parse_ref(str(adapter)).adapter is True
    ft = parse_ref("ft:gpt-4o-mini-2024-07-18:org::abc123")
    assert (ft.kind, ft.key_env, ft.prices()) == ("openai", "OPENAI_API_KEY", (0.30, 1.20))
    assert parse_ref("openai:my-model").prices() == (None, None)
    azure = parse_ref("azure:curated-v1;api_version=2024-10-21")
    assert (azure.kind, azure.model, azure.base_url, azure.api_version) == (
        "azure", "curated-v1", "https://res.openai.azure.com", "2024-10-21")
    endpoint = parse_ref("http://127.0.0.1:8000/v1/#meta-llama/Llama-3.1-8B;max_tokens=64;seed=3;key_env=TOG_KEY",
                         max_tokens=999)
    assert (endpoint.kind, endpoint.base_url, endpoint.model, endpoint.max_tokens, endpoint.seed, endpoint.key_env) \
        == ("endpoint", "http://127.0.0.1:8000/v1", "meta-llama/Llama-3.1-8B", 64, 3, "TOG_KEY")
    assert "key" not in {k for k in endpoint.provenance() if k != "key_env"}


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"), ("./nowhere", "no folder here"), ("http://host/v1", "names no model"),
    ("gpt-4o;max_tokens=lots", "is not a int"), ("gpt-4o;temperature=1", "unknown option"),
])
def test_bad_references_say_the_accepted_forms(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_ref(text)
    assert says in str(err.value) and "fix:" in str(err.value)


def test_local_tool_calls_are_read_from_both_markups() -> None:
    text, calls = parse_tool_calls('Sure. <tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}'
                                   '</tool_call>')
    assert text == "Sure." and calls[0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    _, calls = parse_tool_calls('<tool_call>get_weather {"city": "Lyon"}</tool_call>')
    assert calls[0]["function"] == {"name": "get_weather", "arguments": '{"city": "Lyon"}'}
    assert parse_tool_calls("no call here") == ("no call here", [])
