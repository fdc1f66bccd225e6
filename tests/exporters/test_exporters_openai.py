"""OpenAI / Azure exports of real samples, checked by an independent re-reading of OpenAI's rules."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from export_fixtures import preference_records, sft_records, write_run

from curation.exporters import ExportCheckError, ExportOptions, check_run, export_run
from curation.exporters.base import atomic_writer
from curation.readers import read_path


@pytest.fixture(scope="module")
def sft_run(tmp_path_factory: pytest.TempPathFactory, real_dir: Path) -> Path:
    return write_run(tmp_path_factory.mktemp("sft") / "run", sft_records(real_dir))


@pytest.fixture(scope="module")
def pref_run(tmp_path_factory: pytest.TempPathFactory, real_dir: Path) -> Path:
    return write_run(tmp_path_factory.mktemp("pref") / "run", preference_records(real_dir))


def cookbook_format_errors(dataset: list[Any]) -> dict[str, int]:
    """The checks of OpenAI's cookbook `Chat_finetuning_data_prep` notebook, re-implemented, extended the way
    OpenAI's own tool-calling example (drone_training.jsonl) requires: assistant turns may carry tool_calls
    instead of content, tool turns carry tool_call_id and string content, records may carry tools."""
    errors: dict[str, int] = defaultdict(int)
    for ex in dataset:
        if not isinstance(ex, dict):
            errors["data_type"] += 1
            continue
        if set(ex) - {"messages", "tools", "parallel_tool_calls", "functions"}:
            errors["unrecognized_top_level_key"] += 1
        messages = ex.get("messages", None)
        if not messages:
            errors["missing_messages_list"] += 1
            continue
        for message in messages:
            if "role" not in message or ("content" not in message and not message.get("tool_calls")):
                errors["message_missing_key"] += 1
            allowed = ("role", "content", "name", "function_call", "weight", "tool_calls", "tool_call_id")
            if any(k not in allowed for k in message):
                errors["message_unrecognized_key"] += 1
            if message.get("role", None) not in ("system", "user", "assistant", "function", "tool"):
                errors["unrecognized_role"] += 1
            content = message.get("content", None)
            function_call = message.get("function_call", None) or message.get("tool_calls", None)
            if (not content and not function_call) or (content is not None and not isinstance(content, str)):
                errors["missing_content"] += 1
            if "weight" in message and (message["role"] != "assistant" or message["weight"] not in (0, 1)):
                errors["weight_misplaced"] += 1
            for call in message.get("tool_calls") or ():
                if not isinstance(call["function"]["arguments"], str):
                    errors["arguments_not_string"] += 1
                json.loads(call["function"]["arguments"])
            if message.get("role") == "tool" and not (message.get("tool_call_id") and isinstance(content, str)):
                errors["bad_tool_message"] += 1
        if not any(message.get("role", None) == "assistant" for message in messages):
            errors["example_missing_assistant_message"] += 1
    return dict(errors)


def dpo_format_errors(dataset: list[Any]) -> dict[str, int]:
    """OpenAI's DPO file rules (input.messages, preferred_output, non_preferred_output; outputs assistant/tool)."""
    errors: dict[str, int] = defaultdict(int)
    for ex in dataset:
        if set(ex) != {"input", "preferred_output", "non_preferred_output"}:
            errors["keys"] += 1
        if set(ex["input"]) - {"messages", "tools", "parallel_tool_calls"} or not ex["input"].get("messages"):
            errors["input"] += 1
        for key in ("preferred_output", "non_preferred_output"):
            out = ex[key]
            if not out or any(m["role"] not in ("assistant", "tool") for m in out):
                errors["output_roles"] += 1
            if not any(m["role"] == "assistant" and isinstance(m.get("content"), str) for m in out):
                errors["output_assistant"] += 1
            if any("weight" in m for m in out):
                errors["weight_in_output"] += 1
    return dict(errors)


def load_jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]


def by_text(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {json.dumps([m.get("content") for m in r["messages"]][:3]): r for r in records}


def test_openai_sft_export_passes_the_cookbook_checks(sft_run: Path) -> None:
    result = export_run(sft_run, ["openai"])
    files = {p.name for p in result.paths["openai"]}
    assert files == {"train.jsonl", "validation.jsonl", "test.jsonl", "export.json"}
    lines = [
        ex for split in ("train", "validation", "test")
        for ex in load_jsonl(sft_run / f"exports/openai/sft/{split}.jsonl")
    ]
    assert len(lines) == sum(1 for _ in open(sft_run / "splits/train.jsonl")) + 11 + 6
    assert cookbook_format_errors(lines) == {}
    assert all("id" not in ex and "metadata" not in ex for ex in lines)
    canonical = [json.loads(x) for s in ("train", "validation", "test") for x in open(sft_run / f"splits/{s}.jsonl")]
    assert sum(1 for ex in lines if ex.get("tools")) == sum(1 for r in canonical if r.get("tools")) > 24
    assert sum(1 for ex in lines if "parallel_tool_calls" in ex) == 24  # the drone records carry it
    # v1_sft's user turns had weight 0 (the default for user turns): dropped silently, assistant weights kept
    assert {m["weight"] for ex in lines for m in ex["messages"] if "weight" in m} == {1}
    assert all(m["role"] == "assistant" for ex in lines for m in ex["messages"] if "weight" in m)


def test_openai_export_round_trips_through_the_readers(sft_run: Path) -> None:
    export_run(sft_run, ["openai"])
    original = [json.loads(x) for x in (sft_run / "splits/train.jsonl").read_text().splitlines()]
    back = [item.record for item in read_path(sft_run / "exports/openai/sft/train.jsonl")]
    assert len(back) == len(original)
    for before, after in zip(original, back, strict=True):
        assert [m["role"] for m in before["messages"]] == [m["role"] for m in after["messages"]]
        for m1, m2 in zip(before["messages"], after["messages"], strict=True):
            text = m1.get("content") if not isinstance(m1.get("content"), list) else m1["content"][0]["text"]
            after_text = m2.get("content") if not isinstance(m2.get("content"), list) else m2["content"][0]["text"]
            assert (text or None) == (after_text or None)
            assert m1.get("tool_calls") == m2.get("tool_calls")
            assert m1.get("tool_call_id") == m2.get("tool_call_id")
            if m1["role"] == "assistant":
                assert m1.get("weight") == m2.get("weight")
        assert before.get("tools") == after.get("tools")


def test_openai_dpo_export_from_preference_pairs(pref_run: Path) -> None:
    result = export_run(pref_run, ["openai"], ExportOptions(model="gpt-4.1-mini"))
    lines = load_jsonl(pref_run / "exports/openai/dpo/train.jsonl")
    assert dpo_format_errors(lines) == {}
    manifest = json.loads((pref_run / "exports/openai/dpo/export.json").read_text())
    assert manifest["method"] == "dpo" and manifest["model"] == "gpt-4.1-mini-2025-04-14"
    assert result.paths["openai"]
    back = [item.record for item in read_path(pref_run / "exports/openai/dpo/train.jsonl")]
    original = [json.loads(x) for x in (pref_run / "splits/train.jsonl").read_text().splitlines()]
    assert [r["chosen"][-1]["content"] for r in back] == [r["chosen"][-1]["content"] for r in original]
    assert [r["rejected"][-1]["content"] for r in back] == [r["rejected"][-1]["content"] for r in original]


def test_dpo_on_a_model_without_dpo_is_refused(pref_run: Path) -> None:
    with pytest.raises(ExportCheckError) as info:
        export_run(pref_run, ["openai"], ExportOptions(model="gpt-3.5-turbo"))
    assert "dpo_unsupported" in {i.code for i in info.value.issues}
    assert "gpt-4.1-mini" in str(info.value.issues[0].hint)


def test_too_few_examples_is_an_error_before_any_file(tmp_path: Path, real_dir: Path) -> None:
    run = write_run(tmp_path / "run", sft_records(real_dir)[:9])  # 9 records: 8 train, 1 validation
    with pytest.raises(ExportCheckError) as info:
        export_run(run, ["openai", "azure-openai", "hf"])
    codes = {(i.exporter, i.code, i.severity) for i in info.value.issues}
    assert ("openai", "too_few_examples", "error") in codes
    assert ("azure-openai", "too_few_examples", "error") in codes
    assert not (run / "exports").exists()
    assert "at least 10" in str(info.value)


def test_over_limit_is_a_warning_with_its_count(sft_run: Path) -> None:
    issues, _ = check_run(sft_run, ["openai"], ExportOptions(model="gpt-3.5-turbo-0613"))
    over = [i for i in issues if i.code == "over_token_limit"]
    assert len(over) == 1 and over[0].severity == "warning"
    assert over[0].count == 1  # the cookbook's 26,000-character reply; 4,096 tokens for gpt-3.5-turbo-0613
    assert "1 record" in over[0].message and over[0].ids


def test_reserved_tokens_and_mixed_methods(tmp_path: Path, real_dir: Path) -> None:
    records = sft_records(real_dir)[:20] + preference_records(real_dir)[:5]
    records[3]["messages"][-1]["content"] = "done <|endoftext|>"
    run = write_run(tmp_path / "run", records)
    with pytest.raises(ExportCheckError) as info:
        export_run(run, ["openai"])
    issues = {i.code: i for i in info.value.issues}
    assert issues["reserved_token"].count == 1 and issues["reserved_token"].ids == [records[3]["id"]]
    assert "method_mismatch" not in issues  # auto: each kind is exported into its own folder, not mixed
    with pytest.raises(ExportCheckError) as info:
        export_run(run, ["openai"], ExportOptions(method="sft"))
    issues = {i.code: i for i in info.value.issues}
    assert issues["method_skipped"].count == 5 and issues["method_skipped"].severity == "warning"
    assert "method_mismatch" not in issues and "reserved_token" in issues
    result = export_run(run, ["openai"], ExportOptions(method="sft", skip_invalid=True))
    assert {i.code for i in result.warnings} >= {"method_skipped", "reserved_token"}
    sft = run / "exports/openai/sft"
    text = (sft / "train.jsonl").read_text() + (sft / "validation.jsonl").read_text()
    assert "<|endoftext|>" not in text


def test_strict_turns_warnings_into_a_refusal(sft_run: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportCheckError) as info:
        # skip_invalid: the drone records (functions without a description) become warnings too
        export_run(sft_run, ["mistral"], ExportOptions(allow_warnings=False, skip_invalid=True))
    assert {i.code for i in info.value.issues} == {"tool_call_id_rewritten", "function_missing_description"}
    assert all(i.severity == "warning" for i in info.value.issues)


def test_azure_bom_and_model_names(sft_run: Path) -> None:
    export_run(sft_run, ["azure-openai"], ExportOptions(azure_bom=True, model="gpt-35-turbo"))
    raw = (sft_run / "exports/azure-openai/sft/train.jsonl").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    manifest = json.loads((sft_run / "exports/azure-openai/sft/export.json").read_text())
    assert manifest["model"] == "gpt-35-turbo-0125" and manifest["bom"] is True
    assert cookbook_format_errors(load_jsonl(sft_run / "exports/azure-openai/sft/train.jsonl")) == {}
    back = [i for i in read_path(sft_run / "exports/azure-openai/sft/train.jsonl")]
    assert all(i.record is not None for i in back) and len(back) == raw.count(b"\n")


def test_exports_are_deterministic(sft_run: Path) -> None:
    export_run(sft_run, ["openai", "hf"])
    first = {p: p.read_bytes() for p in (sft_run / "exports").rglob("*.jsonl")}
    card = (sft_run / "exports/hf/sft/README.md").read_bytes()
    parquet = (sft_run / "exports/hf/sft/data/train-00000-of-00001.parquet").read_bytes()
    export_run(sft_run, ["openai", "hf"])
    assert first == {p: p.read_bytes() for p in (sft_run / "exports").rglob("*.jsonl")}
    assert card == (sft_run / "exports/hf/sft/README.md").read_bytes()
    assert parquet == (sft_run / "exports/hf/sft/data/train-00000-of-00001.parquet").read_bytes()


def test_a_crash_mid_export_leaves_no_partial_file(
    tmp_path: Path, real_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import curation.exporters as exporters

    run = write_run(tmp_path / "run", sft_records(real_dir))
    real_iter = exporters.iter_lines

    def crashing(path: Path):  # dies in the middle of the pass that converts and stages the lines
        for n, item in enumerate(real_iter(path)):
            if n == 7:
                raise RuntimeError("disk on fire")
            yield item

    monkeypatch.setattr(exporters, "iter_lines", crashing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        export_run(run, ["openai", "mistral"])
    assert not (run / "exports").exists()  # staged folders removed, nothing renamed into place
    monkeypatch.undo()
    export_run(run, ["openai"])
    before = (run / "exports/openai/sft/train.jsonl").read_bytes()
    monkeypatch.setattr(exporters, "iter_lines", crashing)
    with pytest.raises(RuntimeError):
        export_run(run, ["openai"])
    assert (run / "exports/openai/sft/train.jsonl").read_bytes() == before  # the previous export survives whole
    assert sorted(p.name for p in (run / "exports").iterdir()) == ["openai"]
    # and a file written directly: the final name never holds a partial file, an old one survives intact
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old\n")
    with pytest.raises(RuntimeError), atomic_writer(target) as fh:
        fh.write(b"new partial line")
        raise RuntimeError("crash")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_unknown_format_and_missing_run(tmp_path: Path, sft_run: Path) -> None:
    from curation.errors import CurationError

    with pytest.raises(CurationError, match="unknown exporter 'openia'"):
        export_run(sft_run, "openai,openia")
    with pytest.raises(CurationError, match="no splits/ folder"):
        export_run(tmp_path, ["openai"])


def test_a_function_name_with_spaces_is_refused_before_upload(tmp_path: Path, real_dir: Path) -> None:
    # ToolACE names its functions "Market Trends API"; the APIs take letters, digits, _ and - only.
    records = sft_records(real_dir)[:10]
    tools = [{"type": "function", "function": {"name": "Market Trends API", "description": "trends",
                                               "parameters": {"type": "object", "properties": {}}}}]
    records[2] = {**records[2], "tools": tools}
    run = write_run(tmp_path / "run", records)
    for provider in ("openai", "together", "mistral"):
        with pytest.raises(ExportCheckError) as info:
            export_run(run, [provider])
        issues = {i.code: i for i in info.value.issues}
        assert issues["function_name_invalid"].ids == [records[2]["id"]], provider
