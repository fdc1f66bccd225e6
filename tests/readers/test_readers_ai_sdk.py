"""Vercel AI SDK chats as useChat saves them: tool use kept beside the text (SDK 4 ``toolInvocations``) is read
as tool calls and results, not dropped."""

from __future__ import annotations

from typing import Any

import orjson

from curation.checks import check_record
from curation.readers.convert import convert_payload
from tests.readers.read_helpers import read


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
