"""Function-calling sets in their own layouts, read into messages with ``tool_calls`` and ``tools``.

* Glaive function calling (v2): ``system`` ("SYSTEM: ... Use them if required -" followed by the function
  schemas as JSON objects) and ``chat``, one string of ``USER:`` / ``ASSISTANT:`` / ``FUNCTION RESPONSE:``
  turns, where a call is ``<functioncall> {"name": ..., "arguments": '{...}'}`` (arguments often in single
  quotes, which is not JSON) and turns end with ``<|endoftext|>``.
* Salesforce xLAM (APIGen): ``query``, ``answers`` (a JSON string: the calls) and ``tools`` (a JSON string of
  schemas whose ``parameters`` map each name to ``{type, description, default}``, not JSON Schema; the types
  are Python's names, ``List[int]``, ``Optional[str]``, read by ``curation.type_names``).

The top-level system prompt itself is added by the reader like every format's (``SYSTEM:`` prefix removed).
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from curation.readers.formats._common import parse_json_string
from curation.readers.mapping import FieldMapping
from curation.records import arguments_string
from curation.type_names import type_schema

NAME = "function_calling"
KEYS = frozenset({"chat", "query", "answers", "tools", "system"})

# Turns are usually separated by blank lines, but some copies of the set put them on one line.
_TURN = re.compile(r"(?:^|\s+)(USER|ASSISTANT|FUNCTION RESPONSE):[ \t]?")
_TURN_AFTER_BLANK = re.compile(r"(?:^\s*|\n[ \t]*\n\s*)(USER|ASSISTANT|FUNCTION RESPONSE):[ \t]?")
_END = "<|endoftext|>"
_CALL = "<functioncall>"
_QUOTED_ARGS = re.compile(r"""("arguments"\s*:\s*)'(.*)'(\s*\}\s*)$""", re.S)


def _is_glaive(obj: dict[str, Any]) -> bool:
    chat = obj.get("chat")
    return isinstance(chat, str) and ("USER:" in chat or "ASSISTANT:" in chat)


def _is_xlam(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("query"), str) and "answers" in obj and "tools" in obj and not isinstance(
        obj.get("answers"), (int, float, bool))


def is_function_calling(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return _is_glaive(obj) or _is_xlam(obj)


def _json_objects(text: str) -> list[Any]:
    """Every JSON object in ``text``, in order (schemas one after another, with or without commas)."""
    decoder = json.JSONDecoder()
    found, pos = [], text.find("{")
    while pos >= 0:
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            pos = text.find("{", pos + 1)
            continue
        found.append(value)
        pos = text.find("{", end)
    return found


def _glaive_tools(system: Any) -> list[dict[str, Any]] | None:
    if not isinstance(system, str) or "{" not in system:
        return None
    schemas = [s for s in _json_objects(system) if isinstance(s, dict) and isinstance(s.get("name"), str)]
    return [{"type": "function", "function": s} for s in schemas] or None


def _glaive_call(text: str, call_id: str) -> dict[str, Any]:
    """One ``<functioncall>`` payload as an OpenAI tool call; unreadable JSON stays as raw arguments (the checks
    then report a broken call instead of the reader dropping it)."""
    raw = text.strip()
    fixed = _QUOTED_ARGS.sub(lambda m: m.group(1) + json.dumps(m.group(2)) + m.group(3), raw)
    try:
        call = orjson.loads(fixed)
    except orjson.JSONDecodeError:
        call = None
    if not isinstance(call, dict):
        return {"id": call_id, "type": "function", "function": {"name": "", "arguments": raw}}
    arguments = parse_json_string(call.get("arguments", {}))
    return {"id": call_id, "type": "function",
            "function": {"name": str(call.get("name", "")), "arguments": arguments_string(arguments)}}


def _glaive_turns(chat: str) -> tuple[str, list[tuple[str, str]]]:
    """(the text before the first speaker, [(speaker, text)]). A speaker word starts a turn only where turns
    start: after a blank line when the chat separates its turns so, and never inside an answer before the
    ``<|endoftext|>`` that ends it, so an answer quoting a "USER: ..." transcript stays one answer."""
    splitter = _TURN_AFTER_BLANK if _TURN_AFTER_BLANK.search(chat, 1) else _TURN
    marks = list(splitter.finditer(chat))
    closed = _END in chat
    turns: list[tuple[str, str]] = []
    i = 0
    while i < len(marks):
        mark, j = marks[i], i + 1
        if mark.group(1) == "ASSISTANT" and closed:
            stop = chat.find(_END, mark.end())
            while stop != -1 and j < len(marks) and marks[j].start() < stop:
                j += 1
        end = marks[j].start() if j < len(marks) else len(chat)
        turns.append((mark.group(1), chat[mark.end() : end]))
        i = j
    return (chat[: marks[0].start()] if marks else chat), turns


def _glaive_messages(chat: str) -> list[dict[str, Any]]:
    head, turns = _glaive_turns(chat)
    messages: list[dict[str, Any]] = []
    if head.strip():
        messages.append({"role": "user", "content": head.replace(_END, "").strip()})
    pending: list[str] = []
    n_calls = 0
    for speaker, raw in turns:
        text = raw.replace(_END, "").strip()
        if speaker == "USER":
            messages.append({"role": "user", "content": text})
        elif speaker == "FUNCTION RESPONSE":
            message: dict[str, Any] = {"role": "tool", "content": text}
            if pending:
                message["tool_call_id"] = pending.pop(0)
            messages.append(message)
        elif _CALL in text:
            before, _, payload = text.partition(_CALL)
            call = _glaive_call(payload, f"call_{n_calls}")
            n_calls += 1
            pending.append(call["id"])
            reply: dict[str, Any] = {"role": "assistant", "tool_calls": [call]}
            if before.strip():
                reply["content"] = before.strip()
            messages.append(reply)
        else:
            messages.append({"role": "assistant", "content": text})
    return messages


def _xlam_schema(tool: Any) -> Any:
    """One xLAM tool as an OpenAI function schema (parameters as JSON Schema); anything else as it is."""
    if not isinstance(tool, dict) or not isinstance(tool.get("parameters"), dict):
        return tool
    params = tool["parameters"]
    if params.get("type") == "object" and "properties" in params:  # already JSON Schema
        return {"type": "function", "function": tool}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, spec in params.items():
        spec = spec if isinstance(spec, dict) else {"description": str(spec)}
        schema, optional = type_schema(spec["type"]) if isinstance(spec.get("type"), str) else (None, False)
        prop: dict[str, Any] = dict(schema) if schema is not None else {}
        if "description" in spec:
            prop["description"] = spec["description"]
        if "default" in spec and spec["default"] not in (None, ""):
            prop["default"] = spec["default"]
        properties[name] = prop
        if "default" not in spec and not optional:
            required.append(name)
    function = {k: v for k, v in tool.items() if k != "parameters"}
    function["parameters"] = {"type": "object", "properties": properties, "required": required}
    return {"type": "function", "function": function}


def _xlam_body(obj: dict[str, Any]) -> dict[str, Any]:
    calls = parse_json_string(obj["answers"])
    calls = calls if isinstance(calls, list) else [calls]
    tool_calls = []
    for n, call in enumerate(calls):
        if isinstance(call, dict):
            name, arguments = str(call.get("name", "")), call.get("arguments", {})
        else:
            name, arguments = "", call if isinstance(call, str) else orjson.dumps(call).decode()
        tool_calls.append({"id": f"call_{n}", "type": "function",
                           "function": {"name": name, "arguments": arguments_string(arguments)}})
    tools = parse_json_string(obj["tools"])
    body: dict[str, Any] = {"messages": [{"role": "user", "content": obj["query"]},
                                         {"role": "assistant", "tool_calls": tool_calls}]}
    if isinstance(tools, list) and tools:
        body["tools"] = [_xlam_schema(t) for t in tools]
    elif tools not in (None, "", []):
        body["tools"] = tools  # not a list: kept for the checks to report
    return body


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    if _is_glaive(obj):
        body: dict[str, Any] = {"messages": _glaive_messages(obj["chat"])}
        tools = _glaive_tools(obj.get("system"))
        if tools:
            body["tools"] = tools
        return [(None, body, None)]
    return [(None, _xlam_body(obj), None)]
