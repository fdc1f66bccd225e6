"""The vertex-gemini export of tool use, turns and function declarations, and its read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from export_fixtures import write_run

from curation.exporters import ExportOptions, export_run
from curation.readers import read_path


def _export(tmp_path: Path, records: list[dict[str, Any]], method: str = "sft") -> Path:
    run = write_run(tmp_path / "run", records)
    export_run(run, ["vertex-gemini"], ExportOptions(skip_invalid=True, method=method))
    return run / f"exports/vertex-gemini/{method}/train.jsonl"


def _exported(tmp_path: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _export(tmp_path, records).read_text().splitlines()]


def _call(call_id: str, name: str, city: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps({"city": city})}}


def test_function_responses_are_written_in_the_order_of_the_calls(tmp_path: Path) -> None:
    # Lima's answer came first and was written first: read back in call order, it answered the Paris call
    record = {"id": "r1", "messages": [
        {"role": "user", "content": "Weather in Paris and Lima?"},
        {"role": "assistant", "tool_calls": [_call("call_p", "get_weather", "Paris"),
                                             _call("call_l", "get_weather", "Lima")]},
        {"role": "tool", "tool_call_id": "call_l", "content": '{"city":"Lima","sky":"sunny"}'},
        {"role": "tool", "tool_call_id": "call_p", "content": '{"city":"Paris","sky":"rain"}'},
        {"role": "assistant", "content": "Rain in Paris, sun in Lima."}]}
    [line] = _exported(tmp_path, [record])
    responses = [p["functionResponse"]["response"]["city"] for p in line["contents"][2]["parts"]]
    assert responses == ["Paris", "Lima"]


def test_user_words_after_a_tool_result_share_its_content_after_the_responses(tmp_path: Path) -> None:
    record = {"id": "r2", "messages": [
        {"role": "user", "content": "Weather in Lima?"},
        {"role": "assistant", "tool_calls": [_call("call_l", "get_weather", "Lima")]},
        {"role": "tool", "tool_call_id": "call_l", "content": '{"sky":"sunny"}'},
        {"role": "user", "content": "And tomorrow?"},
        {"role": "assistant", "content": "Sunny too."}]}
    [line] = _exported(tmp_path, [record])
    assert [c["role"] for c in line["contents"]] == ["user", "model", "user", "model"]
    assert line["contents"][2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"sky": "sunny"}}}, {"text": "And tomorrow?"}]


def test_function_declarations_keep_only_what_vertex_declares(tmp_path: Path) -> None:
    # OpenAI's `strict`, JSON Schema's `additionalProperties` and a function-level `required` were copied verbatim
    function = {"name": "get_weather", "description": "Weather of a city.", "strict": True, "required": ["city"],
                "parameters": {"type": "object", "$schema": "http://json-schema.org/draft-07/schema#",
                               "additionalProperties": False,
                               "properties": {"city": {"type": "string", "description": "City name."},
                                              "days": {"type": ["integer", "null"], "minimum": 1,
                                                       "exclusiveMaximum": 15},
                                              "units": {"type": "string", "enum": ["C", "F"], "const": "C"},
                                              "tags": {"type": "array", "items": {"type": "string",
                                                                                  "additionalProperties": False}}}}}
    record = {"id": "r3", "tools": [{"type": "function", "function": function}], "messages": [
        {"role": "user", "content": "Weather in Lima?"},
        {"role": "assistant", "tool_calls": [_call("call_l", "get_weather", "Lima")]},
        {"role": "tool", "tool_call_id": "call_l", "content": '{"sky":"sunny"}'},
        {"role": "assistant", "content": "Sunny."}]}
    [line] = _exported(tmp_path, [record])
    assert line["tools"] == [{"functionDeclarations": [{
        "name": "get_weather", "description": "Weather of a city.",
        "parameters": {"type": "object", "required": ["city"],
                       "properties": {"city": {"type": "string", "description": "City name."},
                                      "days": {"type": "integer", "nullable": True, "minimum": 1},
                                      "units": {"type": "string", "enum": ["C", "F"]},
                                      "tags": {"type": "array", "items": {"type": "string"}}}}}]}]


def _conversation(messages: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Roles, texts, calls and the call (by its place) each tool result answers; ids are the reader's own."""
    places: dict[str, int] = {}
    out = []
    for m in messages:
        calls = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in m.get("tool_calls") or ()]
        places.update((c["id"], len(places) + n) for n, c in enumerate(m.get("tool_calls") or ()))
        out.append((m["role"], m.get("content"), calls, places.get(m.get("tool_call_id"))))
    return out


def test_a_conversation_with_tools_reads_back_as_it_was_exported(tmp_path: Path) -> None:
    # a tester's round trip: the results paired with the wrong calls, the user's words after a result were lost
    messages = [
        {"role": "system", "content": "You are a travel assistant."},
        {"role": "user", "content": "Weather in Paris and Lima, and the time in Lima?"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [
            _call("call_a", "get_weather", "Paris"), _call("call_b", "get_weather", "Lima"),
            _call("call_c", "get_time", "Lima")]},
        {"role": "tool", "tool_call_id": "call_a", "content": '{"city":"Paris","sky":"rain"}'},
        {"role": "tool", "tool_call_id": "call_b", "content": "Lima: sunny"},
        {"role": "tool", "tool_call_id": "call_c", "content": '{"time":"12:00"}'},
        {"role": "user", "content": "Thanks. Is it warm?"},
        {"role": "assistant", "content": "Rain in Paris, sun in Lima at noon; Lima is warm."}]
    # answered out of order: exported in call order, so read back in call order
    answered = [messages[0], messages[1], messages[2], messages[5], messages[3], messages[4], *messages[6:]]
    [item] = read_path(_export(tmp_path, [{"id": "r4", "messages": answered}]))
    assert item.error is None
    assert _conversation(item.record["messages"]) == _conversation(messages)


def test_a_preference_pair_reads_back_as_it_was_exported(tmp_path: Path) -> None:
    pair = {"id": "p1", "prompt": [{"role": "system", "content": "Be brief."},
                                   {"role": "user", "content": "Name a colour."}],
            "chosen": [{"role": "assistant", "content": "Blue."}],
            "rejected": [{"role": "assistant", "content": "Seven."}]}
    [item] = read_path(_export(tmp_path, [dict(pair)], method="dpo"))
    assert item.error is None
    assert {k: item.record[k] for k in ("prompt", "chosen", "rejected")} == {
        k: pair[k] for k in ("prompt", "chosen", "rejected")}
