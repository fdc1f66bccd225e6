"""Bedrock Claude, Vertex Gemini, Together and Mistral exports, each read back against that provider's rules."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from export_fixtures import preference_records, sft_records, write_run

from curation.exporters import ExportCheckError, ExportOptions, check_run, export_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, real_dir: Path) -> Path:
    path = write_run(tmp_path_factory.mktemp("prov") / "run", sft_records(real_dir))
    export_run(path, ["bedrock-claude", "vertex-gemini", "together", "mistral"], ExportOptions(skip_invalid=True))
    return path


def lines(run: Path, fmt: str) -> list[dict[str, Any]]:
    out = []
    for split in ("train", "validation", "test"):
        out += [json.loads(x) for x in (run / f"exports/{fmt}/sft/{split}.jsonl").read_text().splitlines()]
    return out


def canonical(run: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for s in ("train", "validation", "test") for x in open(run / f"splits/{s}.jsonl")]


def test_bedrock_claude_rules(run: Path) -> None:
    data = lines(run, "bedrock-claude")
    tool_free = [r for r in canonical(run) if not r.get("tools") and r["messages"][0]["role"] != "assistant"]
    tool_free = [r for r in tool_free if [m["role"] for m in r["messages"] if m["role"] != "system"][0] == "user"]
    assert len(data) == len(tool_free)
    for ex in data:
        assert set(ex) <= {"system", "messages"} and isinstance(ex.get("system", ""), str)
        roles = [m["role"] for m in ex["messages"]]
        assert len(roles) >= 2 and roles[0] == "user" and roles[-1] == "assistant"
        assert all(a != b for a, b in zip(roles, roles[1:], strict=False))  # strictly alternating
        assert all(
            set(m) == {"role", "content"} and isinstance(m["content"], str) and m["content"] for m in ex["messages"]
        )


def test_bedrock_refuses_tools_and_pairs_by_code(run: Path, tmp_path: Path, real_dir: Path) -> None:
    issues = {i.code: i for i in check_run(run, ["bedrock-claude"])[0]}
    assert issues["tools_unsupported"].severity == "error" and issues["tools_unsupported"].count == 41
    assert issues["first_not_user"].count == 1  # the cookbook's record without a user turn
    pairs = write_run(tmp_path / "pairs", preference_records(real_dir))
    with pytest.raises(ExportCheckError) as info:
        export_run(pairs, ["bedrock-claude"], ExportOptions(method="dpo"))
    assert {i.code for i in info.value.issues} >= {"dpo_unsupported"}
    assert not (pairs / "exports").exists()
    # method auto: a kind the provider does not take is left out, and the result says so.
    result = export_run(pairs, ["bedrock-claude"], each=True)
    assert result.not_taken == ["bedrock-claude takes no preference pairs; the run's DPO records were not exported "
                                "to it"]
    assert not (pairs / "exports").exists()


def test_vertex_gemini_rules_and_function_calls(run: Path) -> None:
    data = lines(run, "vertex-gemini")
    assert len(data) == len(canonical(run)) - 1
    calls = 0
    for ex in data:
        assert set(ex) <= {"systemInstruction", "contents", "tools"}
        if "systemInstruction" in ex:
            assert ex["systemInstruction"]["role"] == "system" and ex["systemInstruction"]["parts"][0]["text"]
        roles = [c["role"] for c in ex["contents"]]
        assert set(roles) <= {"user", "model"} and roles[0] == "user" and roles[-1] == "model"
        assert all(a != b for a, b in zip(roles, roles[1:], strict=False))
        for content in ex["contents"]:
            for part in content["parts"]:
                assert len(part) == 1 and next(iter(part)) in {"text", "functionCall", "functionResponse"}
                if "functionCall" in part:
                    calls += 1
                    assert content["role"] == "model" and isinstance(part["functionCall"]["args"], dict)
                if "functionResponse" in part:
                    assert content["role"] == "user" and part["functionResponse"]["name"]
        for tool in ex.get("tools", []):
            assert all("name" in f and "parameters" in f for f in tool["functionDeclarations"])
    assert calls == sum(len(m.get("tool_calls") or ()) for r in canonical(run) for m in r["messages"])


def test_together_rules(run: Path, tmp_path: Path, real_dir: Path) -> None:
    data = lines(run, "together")
    with_tools = 0
    for ex in data:
        assert set(ex) <= {"messages", "tools"}
        with_tools += "tools" in ex
        roles = [m["role"] for m in ex["messages"]]
        body = [r for r in (roles[1:] if roles[0] == "system" else roles) if r != "tool"]
        assert body[0] == "user" and all(r in ("user", "assistant") for r in body)
        assert all(m.get("weight", 1) in (0, 1) for m in ex["messages"])
        for m in ex["messages"]:
            if m["role"] == "tool":
                assert m["tool_call_id"]
    assert with_tools >= 40  # function-calling fine-tuning: drone_training and glaive records are kept
    # Together takes weight on any message: every canonical weight survives, whatever its role
    kept = [r for r in canonical(run) if not r.get("tools") and r["messages"][0]["role"] != "assistant"]
    kept = [r for r in kept if [m["role"] for m in r["messages"] if m["role"] != "system"][0] == "user"]
    weights = [(m["role"], m["weight"]) for r in kept for m in r["messages"] if "weight" in m]
    assert [(m["role"], m["weight"]) for ex in data if "tools" not in ex for m in ex["messages"] if "weight" in m] \
        == weights
    assert len(weights) >= 30
    pairs = write_run(tmp_path / "pairs", preference_records(real_dir))
    export_run(pairs, ["together"])
    first = json.loads((pairs / "exports/together/dpo/train.jsonl").read_text().splitlines()[0])
    assert set(first) == {"input", "preferred_output", "non_preferred_output"}


def test_mistral_tool_call_ids(run: Path) -> None:
    data = lines(run, "mistral")
    ids = 0
    for ex in data:
        assert ex["messages"][-1]["role"] == "assistant"
        issued = set()
        for m in ex["messages"]:
            for call in m.get("tool_calls") or ():
                assert re.fullmatch(r"[A-Za-z0-9]{9}", call["id"])
                issued.add(call["id"])
                ids += 1
            if m["role"] == "tool":
                assert m["tool_call_id"] in issued  # rewritten consistently with its call
    assert ids > 15  # drone_training is refused: its functions have no description (mistral-finetune rule)


def _toolllama(n: int) -> dict[str, Any]:
    """A ToolBench/ToolLLaMA record (OpenBMB/ToolBench data/toolllama/processed_answer/
    G1_demo_DFS_woFilter_w2.json @ b2384c2a): the call is the assistant's text, the result a function message
    with no name."""
    return {"id": f"tb{n}", "messages": [
        {"role": "system", "content": "You are AutoGPT, you can use many tools (functions) to do the following task."},
        {"role": "user", "content": f"Find the latest news about topic {n}."},
        {"role": "assistant", "content": f"Thought: search news.\nAction: search_news\nAction Input: {{\"q\": {n}}}"},
        {"role": "function", "content": f"{{\"error\": \"\", \"response\": \"news {n}\"}}"},
        {"role": "assistant", "content": f"The latest news about topic {n} is news {n}."},
    ]}


@pytest.mark.parametrize("target", ["openai", "azure-openai", "mistral", "together", "vertex-gemini"])
def test_a_function_message_without_its_name_is_refused_as_the_legacy_function_role(
        tmp_path: Path, target: str) -> None:
    # openai and azure wrote function messages without `name` (OpenAI refuses the upload); mistral and together
    # said tools_unsupported, vertex-gemini tool_missing_call_id
    run = write_run(tmp_path / "run", [_toolllama(n) for n in range(12)])
    issues = {i.code: i for i in check_run(run, [target])[0] if i.severity == "error"}
    assert set(issues) - {"nothing_to_export", "too_few_examples"} == {"function_call_legacy"}, issues
    assert issues["function_call_legacy"].count == 12


def test_a_function_message_with_its_name_still_reaches_openai(tmp_path: Path) -> None:
    records = [_toolllama(n) for n in range(12)]
    for record in records:
        record["messages"][3]["name"] = "search_news"
    run = write_run(tmp_path / "run", records)
    assert not [i for i in check_run(run, ["openai"])[0] if i.severity == "error"]


def test_an_empty_tool_result_is_left_out_of_chat_files_with_a_warning(tmp_path) -> None:
    # the run keeps it (empty_tool_result is a warning); the OpenAI export was then refused whole (missing_content)
    from export_fixtures import write_run

    from curation.exporters import ExportOptions, export_run

    def trajectory(i: int, result: str) -> dict:
        call = {"id": "c1", "type": "function", "function": {"name": "think", "arguments": "{}"}}
        return {"id": f"t{i}", "messages": [{"role": "user", "content": f"Book flight {i}"},
                                            {"role": "assistant", "content": None, "tool_calls": [call]},
                                            {"role": "tool", "tool_call_id": "c1", "content": result},
                                            {"role": "assistant", "content": f"Booked {i}."}],
                "tools": [{"type": "function", "function": {"name": "think", "description": "think",
                                                            "parameters": {"type": "object", "properties": {}}}}]}

    run = write_run(tmp_path / "run", [trajectory(i, "" if i % 3 == 0 else "ok") for i in range(20)])
    result = export_run(run, ["openai"], ExportOptions(), each=True)
    assert not result.refused and result.paths.get("openai")
    [warning] = [w for w in result.warnings if w.code == "empty_tool_result"]
    assert warning.count == 7


def test_reasoning_does_not_count_to_the_limit_of_files_that_leave_it_out(tmp_path) -> None:
    from export_fixtures import write_run

    from curation.exporters import ExportOptions, export_run

    records = [{"id": f"r{i}", "messages": [{"role": "user", "content": f"Q{i}?"},
                                            {"role": "assistant", "content": "A.", "reasoning": "step " * 40_000}]}
               for i in range(40)]
    run = write_run(tmp_path / "run", records)
    result = export_run(run, ["vertex-gemini", "bedrock-claude", "mistral"], ExportOptions(), each=True)
    assert not [w for w in result.warnings if w.code == "over_token_limit"]
