"""Vercel AI SDK chats: ``{"messages": [...]}`` as ``useChat`` saves them.

AI SDK 4 keeps an assistant's tool use beside its text, in ``toolInvocations`` (``{"state": "result",
"toolCallId", "toolName", "args", "result"}``). Read as plain OpenAI messages those were dropped, and the
model would learn to state live data without calling the tool; here each becomes a tool call and its result a
tool message, before the text the assistant wrote from them. An invocation that never got a result stays a
call with no answer, which the checks report (``tool_call_unanswered``) instead of the reader hiding it.

AI SDK 5's UIMessage has no ``content``, only ``parts``: ``text`` (joined into the content), ``reasoning`` (the
message's reasoning), ``tool-<name>`` and ``dynamic-tool`` parts (``toolCallId``, ``input``, ``output`` once
``state`` is ``output-available``, ``errorText`` for ``output-error``), and bookkeeping (``step-start``,
sources) that is no text of the turn. SDK 4's ``tool-invocation`` parts are read the same way. A text part after
a tool call starts a new assistant turn, after the call's results, as the model wrote it. A saved ``useChat``
history is a bare array of such messages: one conversation (``containers.is_bare_turn``).

ModelMessages (CoreMessages before SDK 5), what the SDK sends a model, hold content parts: ``tool-call`` parts
(``args``, or ``input`` in SDK 5) on the assistant's turn become its tool calls, and each ``tool-result`` part of
a tool turn (``result``, or SDK 5's ``output`` ``{"type", "value"}``) its own tool message.
"""

from __future__ import annotations

from typing import Any

import orjson

from curation.readers.containers import ui_parts
from curation.readers.formats import openai
from curation.readers.formats._common import add_tools
from curation.readers.mapping import FieldMapping
from curation.records import arguments_string

NAME = "ai_sdk"
KEYS = openai.KEYS
# What a UI message carries that the canonical message holds in other keys (or, for the id, in turn_fields)
_UI_KEYS = frozenset({"role", "content", "toolInvocations", "parts"})
# No words of the turn: where a step began, the sources a search cited
_BOOKKEEPING = frozenset({"step-start", "source-url", "source-document", "source"})
_NO_RESULT = object()


_CALL_PARTS = frozenset({"tool-call", "tool-result"})


def _model_parts(message: Any) -> bool:
    content = message.get("content")
    return type(content) is list and any(type(p) is dict and p.get("type") in _CALL_PARTS for p in content)


def _sdk_message(message: Any) -> bool:
    return type(message) is dict and (type(message.get("toolInvocations")) is list or ui_parts(message)
                                      or _model_parts(message))


def is_ai_sdk(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    messages = obj.get("messages")
    if type(messages) is not list:
        return False
    # Asked of every OpenAI record (plain openai is "not AI SDK"): a plain turn has none of these keys or a
    # string content, which is tested first, in C.
    for message in messages:
        if type(message) is dict and ("parts" in message or "toolInvocations" in message
                                      or type(message.get("content")) is list) and _sdk_message(message):
            return True
    return False


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
        text_turn: dict[str, Any] = {"role": message.get("role"), "content": content}
        if "weight" in message:  # the text is the message's too: weight 0 must not make it trained
            text_turn["weight"] = message["weight"]
        turns.append(text_turn)
    return turns


def _tool_part(part: dict[str, Any]) -> dict[str, Any] | None:
    """The invocation a part holds, with its tool's name under ``toolName``; None when it holds none."""
    kind = part["type"]
    if kind == "tool-invocation":
        invocation = part.get("toolInvocation")
        return invocation if isinstance(invocation, dict) else None
    if kind == "dynamic-tool":
        return part
    if kind.startswith("tool-"):
        return {**part, "toolName": kind.removeprefix("tool-")}
    return None


def _result(invocation: dict[str, Any]) -> Any:
    """What the tool gave the model (its output, or the error it was shown), else ``_NO_RESULT``."""
    state = invocation.get("state")
    if state == "output-available" and "output" in invocation:
        return invocation["output"]
    if state == "output-error" and isinstance(invocation.get("errorText"), str):
        return invocation["errorText"]
    if state == "result" and "result" in invocation:
        return invocation["result"]
    return _NO_RESULT


class _Turn:
    """The assistant turn being built from parts; a text or reasoning part after a call starts the next."""

    def __init__(self, role: Any) -> None:
        self.role = role
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.other: list[Any] = []
        self.tool_calls: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []

    def empty(self) -> bool:
        return not (self.text or self.reasoning or self.other or self.tool_calls)

    def messages(self) -> list[dict[str, Any]]:
        if self.other:
            content: Any = [*({"type": "text", "text": t} for t in self.text), *self.other]
        elif self.text:
            content = "\n".join(self.text)
        else:
            content = None if self.tool_calls else ""
        turn: dict[str, Any] = {"role": self.role, "content": content}
        if self.reasoning:
            turn["reasoning"] = "\n\n".join(self.reasoning)
        if self.tool_calls:
            turn["tool_calls"] = self.tool_calls
        return [turn, *self.results]


def _file_part(part: dict[str, Any]) -> Any:
    media = part.get("mediaType") or part.get("mimeType")
    if isinstance(media, str) and media.startswith("image/") and isinstance(part.get("url"), str):
        return {"type": "image_url", "image_url": {"url": part["url"]}}
    return part  # another file: kept for the checks to name


def _from_parts(message: dict[str, Any], calls: _Calls) -> list[dict[str, Any]]:
    role = message["role"]
    turns: list[dict[str, Any]] = []
    turn = _Turn(role)
    reasoned = False
    for part in message["parts"]:
        kind = part["type"]
        invocation = _tool_part(part)
        if kind in ("text", "reasoning") and turn.tool_calls:
            turns.extend(turn.messages())
            turn = _Turn(role)
        if kind == "text":
            if isinstance(part.get("text"), str):
                turn.text.append(part["text"])
        elif kind == "reasoning":
            reasoned = True
            text = part.get("text", part.get("reasoning"))  # SDK 5, SDK 4
            if isinstance(text, str) and text.strip():
                turn.reasoning.append(text)
        elif invocation is not None:
            call = calls.call(invocation.get("toolCallId"), invocation.get("toolName"),
                              invocation.get("input", invocation.get("args")))
            turn.tool_calls.append(call)
            result = _result(invocation)
            if result is not _NO_RESULT:
                turn.results.append({"role": "tool", "tool_call_id": call["id"], "content": _result_text(result)})
        elif kind in _BOOKKEEPING:
            continue
        elif kind == "file":
            turn.other.append(_file_part(part))
        else:
            turn.other.append(part)  # an app's data-* part: kept for the checks to name
    if not turn.empty() or not turns:
        turns.extend(turn.messages())
    skip = _UI_KEYS | {"reasoning"} if reasoned else _UI_KEYS
    turns[0].update((k, v) for k, v in message.items() if k not in skip)
    return turns


def _output(part: dict[str, Any]) -> str:
    """A tool-result part's result as the tool message's text."""
    if "result" in part or not isinstance(part.get("output"), dict):
        return _result_text(part.get("result", part.get("output")))
    output = part["output"]  # SDK 5: {"type": "text" | "json" | "error-text" | "error-json" | "content", "value"}
    value = output.get("value")
    if output.get("type") == "content" and isinstance(value, list) and all(
            isinstance(v, dict) and v.get("type") == "text" and isinstance(v.get("text"), str) for v in value):
        return "\n".join(v["text"] for v in value)
    return _result_text(value)


def _from_content(message: dict[str, Any], calls: _Calls) -> list[dict[str, Any]]:
    extra = {k: v for k, v in message.items() if k not in _UI_KEYS}
    if message.get("role") == "tool":
        results: list[dict[str, Any]] = []
        for part in message["content"]:
            if isinstance(part, dict) and part.get("type") == "tool-result":
                results.append({"role": "tool", "tool_call_id": part.get("toolCallId"), "content": _output(part)})
            else:
                results.append({"role": "tool", "content": [part]})  # not a result: for the checks to name
        results[0].update(extra)
        return results
    turn = _Turn(message.get("role"))
    for part in message["content"]:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            turn.text.append(part["text"])
        elif kind == "reasoning" and isinstance(part.get("text"), str):
            if part["text"].strip():
                turn.reasoning.append(part["text"])
        elif kind == "tool-call":
            turn.tool_calls.append(calls.call(part.get("toolCallId"), part.get("toolName"),
                                              part.get("input", part.get("args"))))
        elif kind == "tool-result":  # a tool the provider ran, answered in the same turn
            turn.results.append({"role": "tool", "tool_call_id": part.get("toolCallId"), "content": _output(part)})
        else:
            turn.other.append(part)
    turns = turn.messages()
    turns[0].update(extra)
    return turns


def chat_messages(messages: list[Any]) -> list[Any]:
    """The SDK's messages as canonical ones; messages in the OpenAI shape pass as they are."""
    calls = _Calls()
    out: list[Any] = []
    for message in messages:
        if ui_parts(message) and (any(_tool_part(p) is not None for p in message["parts"])
                                  or not message.get("toolInvocations")):
            out.extend(_from_parts(message, calls))
        elif type(message) is dict and _model_parts(message):
            out.extend(_from_content(message, calls))
        elif _sdk_message(message):
            out.extend(_invocations(message, calls))
        else:
            out.append(message)
    return out


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    body: dict[str, Any] = {"messages": openai.fix_messages(chat_messages(obj["messages"]), mapping)}
    add_tools(body, obj, mapping)
    return [(None, body, None)]
