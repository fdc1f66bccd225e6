"""Every exporter's files, read back by a validator written from that provider's documentation.

The validators below do not import our converters: each states the provider's documented rules (source
and date in its docstring) and is run on real files (tests/data/real) carrying tools, weights, reasoning and
preference pairs. The numbers exported and refused per file and target are asserted, so a change in what
a target takes shows up here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from export_fixtures import read_real, write_run

from curation.exporters import ExportOptions, export_run
from curation.reasoning import has_reasoning

REAL_FILES = {
    "tools": ("openai__openai-cookbook/drone_training.jsonl", 40),
    "weights": ("hiyouga__LLaMA-Factory/v1_sft_demo.jsonl", 40),
    "reasoning": ("hiyouga__LLaMA-Factory/reason_tool_use_demo_50.jsonl", 50),
    "glaive": ("hiyouga__LLaMA-Factory/glaive_toolcall_en_demo.json", 40),
}
PAIRS = ("anthropics__hh-rlhf/harmless-base_test.jsonl.gz", 40)
SFT_TARGETS = ("openai", "azure-openai", "together", "bedrock-nova", "vertex-gemini", "mistral", "bedrock-claude")


def _roles_alternate(roles: list[str], first: str, second: str) -> bool:
    return all(r == (first if i % 2 == 0 else second) for i, r in enumerate(roles))


def validate_openai(ex: dict[str, Any]) -> None:
    """platform.openai.com/docs/guides/supervised-fine-tuning (2026-12-02): keys messages, tools,
    parallel_tool_calls; roles system/developer/user/assistant/tool; weight 0/1 on assistant messages only;
    assistant tool_calls with string JSON arguments; tool messages carry tool_call_id; no reasoning field."""
    assert set(ex) <= {"messages", "tools", "parallel_tool_calls", "functions"}
    assert any(m["role"] == "assistant" for m in ex["messages"])
    for m in ex["messages"]:
        assert set(m) <= {"role", "content", "name", "tool_calls", "tool_call_id", "function_call", "weight"}
        assert m["role"] in {"system", "developer", "user", "assistant", "tool", "function"}
        if "weight" in m:
            assert m["role"] == "assistant" and m["weight"] in (0, 1)
        for call in m.get("tool_calls") or ():
            assert call["type"] == "function" and isinstance(call["function"]["arguments"], str)
            json.loads(call["function"]["arguments"])
        if m["role"] == "tool":
            assert m["tool_call_id"] and isinstance(m["content"], str)


def validate_together(ex: dict[str, Any]) -> None:
    """docs.together.ai fine-tuning data preparation, function calling, reasoning (2026-12-02): messages with
    optional system first, then user; user/assistant alternate, tool results after the assistant tool call;
    tools in the OpenAI shape; reasoning as ``reasoning`` on assistant messages; weight 0/1 on any message."""
    assert set(ex) <= {"messages", "tools"}
    msgs = ex["messages"]
    body = msgs[1:] if msgs[0]["role"] == "system" else msgs
    assert body[0]["role"] == "user"
    chat = [m["role"] for m in body if m["role"] != "tool"]
    prev = None
    for role in chat:
        assert role in ("user", "assistant")
        # two assistant turns in a row only around tool results (call, results, answer)
        assert role != prev or role == "assistant"
        prev = role
    for i, m in enumerate(msgs):
        assert set(m) <= {"role", "content", "tool_calls", "tool_call_id", "weight", "reasoning", "name"}
        assert m.get("weight", 1) in (0, 1)
        if "reasoning" in m:
            assert m["role"] == "assistant" and isinstance(m["reasoning"], str) and m["reasoning"]
        if m["role"] == "tool":
            assert m["tool_call_id"]
            callers = [c["id"] for p in msgs[:i] for c in p.get("tool_calls") or ()]
            assert m["tool_call_id"] in callers
    if any(m.get("tool_calls") for m in msgs):
        assert ex.get("tools")


def validate_together_dpo(ex: dict[str, Any]) -> None:
    """docs.together.ai preference fine-tuning (2026-12-02): input.messages, preferred_output and
    non_preferred_output each exactly one assistant message; no two assistant turns in a row in the input."""
    assert set(ex) == {"input", "preferred_output", "non_preferred_output"}
    for key in ("preferred_output", "non_preferred_output"):
        assert len(ex[key]) == 1 and ex[key][0]["role"] == "assistant" and ex[key][0]["content"]
    roles = [m["role"] for m in ex["input"]["messages"]]
    assert all(not (a == b == "assistant") for a, b in zip(roles, roles[1:], strict=False))
    assert roles[-1] == "user"


def validate_nova(ex: dict[str, Any]) -> None:
    """docs.aws.amazon.com/bedrock/latest/userguide/nova-2-sft-data-prep.html and nova/latest/userguide/
    fine-tune-prepare-data-understanding.html (2026-12-02): schemaVersion; optional system list of {text};
    roles user/assistant, first user, last assistant; content a list of blocks; assistant blocks text or one
    reasoningContent.reasoningText.text; no tool sections (not supported by Nova 2.0 SFT); reserved keywords
    absent from user and system prompts."""
    assert ex["schemaVersion"] == "bedrock-conversation-2024"
    assert set(ex) <= {"schemaVersion", "system", "messages"}
    reserved = re.compile(r"User:|Bot:|Assistant:|System:|<image>|<video>|\[EOS\]")
    for block in ex.get("system", []):
        assert set(block) == {"text"} and not reserved.search(block["text"])
    roles = [m["role"] for m in ex["messages"]]
    assert _roles_alternate(roles, "user", "assistant") and roles[-1] == "assistant"
    for m in ex["messages"]:
        assert set(m) == {"role", "content"} and m["content"]
        for block in m["content"]:
            assert len(block) == 1
            if "reasoningContent" in block:
                assert m["role"] == "assistant" and block is m["content"][0]
                assert block["reasoningContent"]["reasoningText"]["text"]
            else:
                assert isinstance(block["text"], str) and block["text"]
                if m["role"] == "user":
                    assert not reserved.search(block["text"])


def validate_vertex(ex: dict[str, Any]) -> None:
    """cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare (2026-12-02):
    optional systemInstruction {role, parts[{text}]}; contents alternate user/model, first user, last model;
    parts hold text, functionCall {name, args: object} or functionResponse {name, response: object};
    tools [{functionDeclarations}]."""
    assert set(ex) <= {"systemInstruction", "contents", "tools"}
    roles = [c["role"] for c in ex["contents"]]
    assert _roles_alternate(roles, "user", "model") and roles[-1] == "model"
    for content in ex["contents"]:
        for part in content["parts"]:
            assert len(part) == 1
            (kind, value), = part.items()
            assert kind in ("text", "functionCall", "functionResponse")
            if kind == "functionCall":
                assert content["role"] == "model" and isinstance(value["args"], dict) and value["name"]
            if kind == "functionResponse":
                assert content["role"] == "user" and isinstance(value["response"], dict)
    for tool in ex.get("tools", []):
        assert all(d["name"] for d in tool["functionDeclarations"])


def validate_claude(ex: dict[str, Any]) -> None:
    """Anthropic's Bedrock fine-tuning guide: optional system string; messages alternate user/assistant, first
    user, last assistant, plain-text content, no other keys."""
    assert set(ex) <= {"system", "messages"}
    roles = [m["role"] for m in ex["messages"]]
    assert _roles_alternate(roles, "user", "assistant") and roles[-1] == "assistant" and len(roles) >= 2
    assert all(set(m) == {"role", "content"} and isinstance(m["content"], str) for m in ex["messages"])


def validate_mistral(ex: dict[str, Any]) -> None:
    """Mistral's own parser (mistral-common, finetuning mode) plus mistral-finetune's rule that every function
    has a description; ``weight`` is mistral-finetune's own key on assistant messages (removed before parsing)."""
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.protocol.instruct.validator import MistralRequestValidatorV13, ValidationMode

    for tool in ex.get("tools") or ():
        assert tool["function"].get("description")
    messages = []
    for m in ex["messages"]:
        assert m.get("weight", 1) in (0, 1) and (m["role"] == "assistant" or "weight" not in m)
        messages.append({k: v for k, v in m.items() if k != "weight"})
    request = ChatCompletionRequest.model_validate({"messages": messages, "tools": ex.get("tools")})
    MistralRequestValidatorV13(ValidationMode.finetuning).validate_request(request)


VALIDATORS = {"openai": validate_openai, "azure-openai": validate_openai, "together": validate_together,
              "bedrock-nova": validate_nova, "vertex-gemini": validate_vertex, "mistral": validate_mistral,
              "bedrock-claude": validate_claude}

# Records exported / refused per real file and target (the 40-50 records read from each file).
# Records (exported, refused) per real file and target, in SFT_TARGETS order (40-50 records read per file).
_COUNTS: dict[str, list[tuple[int, int]]] = {
    # drone_training: tools on every record; its functions have no description (mistral-finetune)
    "tools": [(40, 0), (40, 0), (40, 0), (0, 40), (40, 0), (0, 40), (0, 40)],
    # v1_sft_demo: weight 0/1 (Nova, Vertex and Claude warn weight_unsupported)
    "weights": [(40, 0)] * 7,
    # reason_tool_use: tools declared on 48; 23 with `required` outside `parameters` or `dict`/`str` types
    "reasoning": [(50, 0), (50, 0), (50, 0), (2, 48), (50, 0), (27, 23), (2, 48)],
    # glaive: 24 of 40 use tools
    "glaive": [(40, 0), (40, 0), (40, 0), (16, 24), (40, 0), (40, 0), (16, 24)],
}
EXPECTED = {label: dict(zip(SFT_TARGETS, counts, strict=True)) for label, counts in _COUNTS.items()}


def _exported(run: Path, fmt: str, kind: str = "sft") -> list[dict[str, Any]]:
    folder = run / "exports" / fmt / kind
    out: list[dict[str, Any]] = []
    for split in ("train", "validation", "test"):
        path = folder / f"{split}.jsonl"
        if path.exists():
            out += [json.loads(x) for x in path.read_text(encoding="utf-8-sig").splitlines()]
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, real_dir: Path) -> dict[str, Any]:
    out = {}
    for label, (name, limit) in REAL_FILES.items():
        records = read_real(real_dir, name, limit)
        run = write_run(tmp_path_factory.mktemp(label) / "run", records)
        result = export_run(run, list(SFT_TARGETS), ExportOptions(skip_invalid=True), each=True)
        out[label] = (run, len(records), {k.split("/")[0] for k in result.refused})
    return out


@pytest.mark.parametrize("target", SFT_TARGETS)
@pytest.mark.parametrize("label", sorted(REAL_FILES))
def test_every_exported_line_passes_the_providers_rules(runs: dict[str, Any], label: str, target: str) -> None:
    run, n, refused_targets = runs[label]
    lines = _exported(run, target)
    for ex in lines:
        VALIDATORS[target](ex)
    skipped = run / "exports" / target / "sft" / "skipped.jsonl"
    refused = len(skipped.read_text().splitlines()) if skipped.exists() else 0
    if target in refused_targets:  # nothing left to export: the target refused the whole run
        assert not lines
        refused = n
    print(f"{label} -> {target}: exported {len(lines)}, refused {refused}")
    assert len(lines) + refused == n  # every record is exported or listed as refused, with its rule
    assert (len(lines), refused) == EXPECTED[label][target]


def test_reasoning_is_kept_where_the_target_takes_it(runs: dict[str, Any]) -> None:
    run, n, _ = runs["reasoning"]
    canonical = [json.loads(x) for s in ("train", "validation", "test") for x in open(run / f"splits/{s}.jsonl")]
    assert sum(has_reasoning(r) for r in canonical) == n == 50
    together = _exported(run, "together")
    assert len(together) == 50 and all(any(m.get("reasoning") for m in ex["messages"]) for ex in together)
    openai = _exported(run, "openai")
    assert len(openai) == 50 and not any("reasoning" in m for ex in openai for m in ex["messages"])
    export = json.loads((run / "exports/openai/sft/export.json").read_text())
    assert export["records"]


def test_nova_keeps_reasoning_content(tmp_path: Path, real_dir: Path) -> None:
    # The demo's records all declare tools (Nova 2.0 SFT takes none): without the tool records, the rest keep
    # their reasoning as a reasoningContent block.
    records = [r for r in read_real(real_dir, REAL_FILES["reasoning"][0], 50)
               if not any(m.get("tool_calls") or m["role"] == "tool" for m in r["messages"])]
    for r in records:
        r.pop("tools", None)
    run = write_run(tmp_path / "run", records)
    export_run(run, ["bedrock-nova"], ExportOptions(model="amazon.nova-2-lite-v1:0"))
    lines = _exported(run, "bedrock-nova")
    assert len(lines) == len(records) >= 5
    for ex in lines:
        validate_nova(ex)
        assert any("reasoningContent" in b for m in ex["messages"] for b in m["content"])
    # a Nova 1 model (the default, nova-lite-v1) takes no reasoning block: the reasoning is dropped, and said so
    result = export_run(run, ["bedrock-nova"], ExportOptions(model="amazon.nova-lite-v1:0"), each=True)
    assert "reasoning_dropped" in {i.code for i in result.issues}
    assert not any("reasoningContent" in b for ex in _exported(run, "bedrock-nova") for m in ex["messages"]
                   for b in m["content"])


def test_together_dpo_on_real_pairs(tmp_path: Path, real_dir: Path) -> None:
    pairs = read_real(real_dir, *PAIRS)
    run = write_run(tmp_path / "pairs", pairs)
    export_run(run, ["together"], ExportOptions(skip_invalid=True))
    lines = _exported(run, "together", "dpo")
    for ex in lines:
        validate_together_dpo(ex)
    assert len(lines) >= 30


def test_together_dpo_refuses_two_message_outputs(tmp_path: Path) -> None:
    pair = {"id": "p1", "prompt": [{"role": "user", "content": "Hi"}],
            "chosen": [{"role": "assistant", "content": "A"}, {"role": "assistant", "content": "B"}],
            "rejected": [{"role": "assistant", "content": "C"}], "metadata": {}}
    bad_input = {"id": "p2", "prompt": [{"role": "user", "content": "Hi"},
                                        {"role": "assistant", "content": None, "tool_calls": [
                                            {"id": "c", "type": "function",
                                             "function": {"name": "f", "arguments": "{}"}}]},
                                        {"role": "assistant", "content": "x"}, {"role": "user", "content": "ok"}],
                 "chosen": [{"role": "assistant", "content": "A"}],
                 "rejected": [{"role": "assistant", "content": "C"}], "metadata": {}}
    run = write_run(tmp_path / "run", [pair, bad_input])
    result = export_run(run, ["together"], ExportOptions(skip_invalid=True), each=True)
    codes = {i.code for i in result.issues}
    assert {"dpo_output_not_single", "dpo_consecutive_assistant"} <= codes


def test_hf_export_keeps_reasoning_as_reasoning_content(tmp_path: Path, real_dir: Path) -> None:
    from datasets import load_from_disk

    records = read_real(real_dir, REAL_FILES["reasoning"][0], 20)
    run = write_run(tmp_path / "run", records)
    export_run(run, ["hf"])
    data = load_from_disk(str(run / "exports/hf/sft"))
    rows = [m for row in data["train"] for m in row["messages"]]
    assert any(m["role"] == "assistant" and m["reasoning_content"] for m in rows)
    assert all(m["reasoning_content"] is None for m in rows if m["role"] != "assistant")


def test_bedrock_claude_refuses_a_nova_model(tmp_path: Path, real_dir: Path) -> None:
    from curation.errors import CurationError

    run = write_run(tmp_path / "run", read_real(real_dir, REAL_FILES["weights"][0], 12))
    with pytest.raises(CurationError, match="bedrock-nova"):
        export_run(run, ["bedrock-claude"], ExportOptions(model="amazon.nova-lite-v1:0"))
    result = export_run(run, ["bedrock-claude"])
    assert any(i.code == "target_closed" for i in result.issues)


def test_vertex_limits_of_gemini_2_5_flash() -> None:
    from curation.exporters import get_exporter

    target = get_exporter("vertex-gemini").target(ExportOptions(model="gemini-2.5-flash"))
    assert (target.max_tokens_per_example, target.max_validation_examples, target.max_file_bytes) == (
        131_072, 5_000, 1024**3)


def validate_vertex_preference(ex: dict[str, Any]) -> None:
    """Vertex AI "Prepare preference tuning data for Gemini models" (read 2026-12-07): optional
    system_instruction {parts}, contents (user/model turns of text parts) ending with a user turn, and exactly two
    completions of one model turn each, scored 1 (preferred) and 0 (dispreferred)."""
    assert set(ex) <= {"system_instruction", "contents", "completions"}
    if "system_instruction" in ex:
        assert [set(p) for p in ex["system_instruction"]["parts"]] == [{"text"}]
    assert ex["contents"] and ex["contents"][-1]["role"] == "user"
    for turn in ex["contents"]:
        assert turn["role"] in ("user", "model") and all(set(p) == {"text"} and p["text"] for p in turn["parts"])
    assert sorted(c["score"] for c in ex["completions"]) == [0, 1]
    for completion in ex["completions"]:
        turn = completion["completion"]
        assert turn["role"] == "model" and len(turn["parts"]) == 1 and turn["parts"][0]["text"]


def test_vertex_preference_tuning_on_real_pairs(tmp_path: Path, real_dir: Path) -> None:
    # `curate models` listed vertex-gemini for dpo and the export refused every pair as dpo_unsupported
    pairs = read_real(real_dir, *PAIRS)
    run = write_run(tmp_path / "pairs", pairs)
    result = export_run(run, ["vertex-gemini"], ExportOptions(skip_invalid=True, method="dpo"), each=True)
    assert not result.refused
    lines = _exported(run, "vertex-gemini", "dpo")
    for ex in lines:
        validate_vertex_preference(ex)
    assert len(lines) >= 30
    chosen = {c["score"]: c["completion"]["parts"][0]["text"] for c in lines[0]["completions"]}
    assert chosen[1] != chosen[0]


def test_image_limits_per_example_for_openai_and_azure(tmp_path: Path) -> None:
    # 12 images in one example and an 11 MB image were written for OpenAI and Azure, which refuse them
    def chat(rid: str, urls: list[str]) -> dict[str, Any]:
        parts = [{"type": "image_url", "image_url": {"url": u}} for u in urls] + [{"type": "text", "text": "What?"}]
        return {"id": rid, "messages": [{"role": "user", "content": parts},
                                        {"role": "assistant", "content": "Pictures."}], "metadata": {}}

    many = chat("many", [f"https://example.com/{i}.png" for i in range(12)])
    big = chat("big", ["data:image/png;base64,iVBORw0KGgoA" + "A" * (15 * 1024 * 1024)])  # PNG magic, then bytes
    fine = [chat(f"ok{i}", [f"https://example.com/x{i}.png"]) for i in range(12)]
    run = write_run(tmp_path / "run", [many, big, *fine])
    result = export_run(run, ["openai", "azure-openai"], ExportOptions(skip_invalid=True, model="gpt-4o-2024-08-06"),
                        each=True)
    by_target = {(i.exporter, i.code): i for i in result.issues}
    assert ("openai", "too_many_images") in by_target and ("openai", "image_too_large") in by_target
    assert ("azure-openai", "too_many_images") not in by_target  # Azure takes 64
    assert ("azure-openai", "image_too_large") in by_target
    ids = {json.loads(line)["id"] for line in (run / "exports/openai/sft/skipped.jsonl").read_text().splitlines()}
    assert ids == {"many", "big"}
