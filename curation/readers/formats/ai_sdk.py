"""Vercel AI SDK chats: ``{"messages": [...]}`` as ``useChat`` saves them.

AI SDK 4 keeps an assistant's tool use beside its text, in ``toolInvocations`` (``{"state": "result",
"toolCallId", "toolName", "args", "result"}``). Read as plain OpenAI messages those were dropped, and the
model would learn to state live data without calling the tool; here each becomes a tool call and its result a
tool message, before the text the assistant wrote from them. An invocation that never got a result stays a
call with no answer, which the checks report (``tool_call_unanswered``) instead of the reader hiding it.
"""

from __future__ import annotations

from typing import Any

import orjson

from curation.readers.formats import openai
from curation.readers.formats._common import add_tools
from curation.readers.mapping import FieldMapping
from curation.records import arguments_string

NAME = "ai_sdk"
KEYS = openai.KEYS
# What a UI message carries that the canonical message holds in other keys (or, for the id, in turn_fields)
_UI_KEYS = frozenset({"role", "content", "toolInvocations"})


def _sdk_message(message: Any) -> bool:
    return type(message) is dict and type(message.get("toolInvocations")) is list


def is_ai_sdk(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    messages = obj.get("messages")
    return type(messages) is list and any(_sdk_message(m) for m in messages)


def _result_text(result: Any) -> str:
    return result if isinstance(result, str) else orjson.dumps(result).decode()


class _Calls:
    """Tool-call ids through one conversation: the SDK's own, else ``call_<n>`` so a rerun gives the same."""

    def __init__(self) -> None:
        self.count = 0

    def call(self, call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
        self.count += 1
        if not isinstance(call_id, str) or not call_id:
            call_id = f"call_{self.count}"
        return {"id": call_id, "type": "function",
                "function": {"name": name if isinstance(name, str) else str(name),
                             "arguments": arguments_string(arguments)}}


def _invocations(message: dict[str, Any], calls: _Calls) -> list[dict[str, Any]]:
    """An SDK 4 assistant message: its calls, their results, then the text it wrote from them."""
    extra = {k: v for k, v in message.items() if k not in _UI_KEYS}
    tool_calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for invocation in message["toolInvocations"]:
        if not isinstance(invocation, dict):
            continue
        call = calls.call(invocation.get("toolCallId"), invocation.get("toolName"), invocation.get("args"))
        tool_calls.append(call)
        if invocation.get("state") == "result" and "result" in invocation:
            results.append({"role": "tool", "tool_call_id": call["id"],
                            "content": _result_text(invocation["result"])})
    if not tool_calls:
        return [{k: v for k, v in message.items() if k != "toolInvocations"}]
    turns: list[dict[str, Any]] = [{"role": message.get("role"), "content": None, "tool_calls": tool_calls,
                                    **extra}, *results]
    content = message.get("content")
    if content not in (None, "", []):
        turns.append({"role": message.get("role"), "content": content})
    return turns


def chat_messages(messages: list[Any]) -> list[Any]:
    """The SDK's messages as canonical ones; messages in the OpenAI shape pass as they are."""
    calls = _Calls()
    out: list[Any] = []
    for message in messages:
        if _sdk_message(message):
            out.extend(_invocations(message, calls))
        else:
            out.append(message)
    return out


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    body: dict[str, Any] = {"messages": openai.fix_messages(chat_messages(obj["messages"]), mapping)}
    add_tools(body, obj, mapping)
    return [(None, body, None)]
