"""The vertex-gemini export of tool use, turns and function declarations, and its read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from export_fixtures import write_run

from curation.exporters import ExportOptions, export_run


def _exported(tmp_path: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    run = write_run(tmp_path / "run", records)
    export_run(run, ["vertex-gemini"], ExportOptions(skip_invalid=True))
    return [json.loads(line) for line in (run / "exports/vertex-gemini/sft/train.jsonl").read_text().splitlines()]


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
