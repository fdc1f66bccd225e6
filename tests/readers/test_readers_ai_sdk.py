"""Vercel AI SDK chats as useChat saves them: tool use kept beside the text (SDK 4 ``toolInvocations``) is read
as tool calls and results, not dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from read_helpers import read

from curation.checks import check_record
from curation.readers.convert import convert_payload, read_path


def _items(obj: Any) -> list[Any]:
    return convert_payload(orjson.dumps(obj), None, None, "chat.jsonl", 1, 0)


def test_sdk4_tool_invocations_become_a_call_and_its_result_before_the_answer() -> None:
    record = read({"messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "It is 15°C in Paris.",
         "toolInvocations": [{"state": "result", "toolCallId": "call_9", "toolName": "getWeather",
                              "args": {"city": "Paris"}, "result": {"tempC": 15}}]}]})
    assert record["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_9", "type": "function",
             "function": {"name": "getWeather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_9", "content": '{"tempC":15}'},
        {"role": "assistant", "content": "It is 15°C in Paris."}]


def test_an_sdk4_invocation_without_a_result_reaches_the_checks_unanswered() -> None:
    (item,) = _items({"messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "Let me check.",
         "toolInvocations": [{"state": "call", "toolCallId": "call_9", "toolName": "getWeather",
                              "args": {"city": "Paris"}}]},
        {"role": "user", "content": "Well?"},
        {"role": "assistant", "content": "Sorry, I could not get it."}]})
    assert item.error is None and item.format == "ai_sdk"
    assert item.record["messages"][1]["tool_calls"][0]["id"] == "call_9"
    assert "tool_call_unanswered" in {f.code for f in check_record(item.record)}


def test_a_plain_openai_chat_is_still_openai() -> None:
    (item,) = _items({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})
    assert item.format == "openai"


BERLIN = [{"id": "m2", "role": "user", "parts": [{"type": "text", "text": "Weather in Berlin?"}]},
          {"id": "m3", "role": "assistant", "parts": [{"type": "step-start"},
                                                       {"type": "text", "text": "It is 12°C.", "state": "done"}]}]


def test_sdk5_ui_message_parts_are_the_text_of_the_turn() -> None:
    record = read({"messages": BERLIN})
    assert [(m["role"], m["content"]) for m in record["messages"]] == [
        ("user", "Weather in Berlin?"), ("assistant", "It is 12°C.")]


def test_sdk5_tool_and_reasoning_parts_become_calls_results_and_reasoning() -> None:
    record = read({"messages": [
        {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Weather in Berlin and Oslo?"}]},
        {"id": "a1", "role": "assistant", "parts": [
            {"type": "step-start"},
            {"type": "reasoning", "text": "Two cities: two calls."},
            {"type": "tool-getWeather", "toolCallId": "c1", "state": "output-available",
             "input": {"city": "Berlin"}, "output": {"tempC": 12}},
            {"type": "dynamic-tool", "toolName": "lookup", "toolCallId": "c2", "state": "output-available",
             "input": {"city": "Oslo"}, "output": "4°C"},
            {"type": "step-start"},
            {"type": "text", "text": "Berlin: 12°C."}, {"type": "text", "text": "Oslo: 4°C."}]}]})
    user, call, berlin, oslo, answer = record["messages"]
    assert call["reasoning"] == "Two cities: two calls." and call["content"] is None
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in call["tool_calls"]] == [
        ("c1", "getWeather", '{"city":"Berlin"}'), ("c2", "lookup", '{"city":"Oslo"}')]
    assert berlin == {"role": "tool", "tool_call_id": "c1", "content": '{"tempC":12}'}
    assert oslo == {"role": "tool", "tool_call_id": "c2", "content": "4°C"}
    assert answer == {"role": "assistant", "content": "Berlin: 12°C.\nOslo: 4°C."}


def test_a_saved_use_chat_history_is_one_conversation(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_bytes(orjson.dumps(BERLIN))
    (item,) = list(read_path(path))
    assert item.error is None and len(item.record["messages"]) == 2
    # the same history as one JSONL line
    (line,) = _items(BERLIN)
    assert line.error is None and line.record["messages"][1]["content"] == "It is 12°C."


def test_model_message_tool_call_and_tool_result_parts_become_calls_and_tool_messages() -> None:
    record = read({"messages": [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Rome?"}]},
        {"role": "assistant", "content": [{"type": "tool-call", "toolCallId": "call_r", "toolName": "getWeather",
                                           "args": {"city": "Rome"}}]},
        {"role": "tool", "content": [{"type": "tool-result", "toolCallId": "call_r", "toolName": "getWeather",
                                      "result": {"tempC": 22}}]},
        {"role": "assistant", "content": [{"type": "text", "text": "It is 22°C in Rome."}]}]})
    assert record["messages"][1:] == [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_r", "type": "function", "function": {"name": "getWeather", "arguments": '{"city":"Rome"}'}}]},
        {"role": "tool", "tool_call_id": "call_r", "content": '{"tempC":22}'},
        {"role": "assistant", "content": [{"type": "text", "text": "It is 22°C in Rome."}]}]  # as OpenAI parts


def test_sdk5_model_messages_carry_input_and_typed_output() -> None:
    record = read({"messages": [
        {"role": "user", "content": "Weather in Rome and Oslo?"},
        {"role": "assistant", "content": [
            {"type": "reasoning", "text": "Both at once."}, {"type": "text", "text": "Checking."},
            {"type": "tool-call", "toolCallId": "a", "toolName": "getWeather", "input": {"city": "Rome"}},
            {"type": "tool-call", "toolCallId": "b", "toolName": "getWeather", "input": {"city": "Oslo"}}]},
        {"role": "tool", "content": [
            {"type": "tool-result", "toolCallId": "a", "toolName": "getWeather",
             "output": {"type": "json", "value": {"tempC": 22}}},
            {"type": "tool-result", "toolCallId": "b", "toolName": "getWeather",
             "output": {"type": "text", "value": "4°C"}}]},
        {"role": "assistant", "content": "Rome 22°C, Oslo 4°C."}]})
    call = record["messages"][1]
    assert call["content"] == "Checking." and call["reasoning"] == "Both at once."
    assert [c["function"]["arguments"] for c in call["tool_calls"]] == ['{"city":"Rome"}', '{"city":"Oslo"}']
    assert record["messages"][2:4] == [{"role": "tool", "tool_call_id": "a", "content": '{"tempC":22}'},
                                       {"role": "tool", "tool_call_id": "b", "content": "4°C"}]


def test_parts_that_say_something_else_than_the_content_do_not_replace_it() -> None:
    # an adversarial review: "Final answer: 4" was replaced by the parts' "Draft: maybe 5"
    answer = {"role": "assistant", "content": "Final answer: 4", "parts": [{"type": "text", "text": "Draft: 5"}]}
    record = read({"messages": [{"role": "user", "content": "Hi"}, answer]})
    assert record["messages"][1]["content"] == "Final answer: 4"


def test_the_text_after_an_untrained_invocation_stays_untrained() -> None:
    record = read({"messages": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Calling", "weight": 0,
         "toolInvocations": [{"toolCallId": "a", "toolName": "x", "args": {}, "state": "result", "result": 3}]},
        {"role": "user", "content": "ok"}, {"role": "assistant", "content": "done"}]})
    assert [m.get("weight") for m in record["messages"] if m["role"] == "assistant"] == [0, 0, None]
