"""Tool calls written in the bracket syntax of BFCL and ToolACE, with the function list inside the system prompt:

    system:    "You are an expert in composing functions. ... Here is a list of functions in JSON format that you
                can invoke:\n[{"name": "Market Trends API", "description": ..., "parameters": {"type": "dict", ...}}]"
    assistant: [Market Trends API(trend_type="MARKET_INDEXES", country="us"), Other(a=1)]
    tool:      [{"name": "Market Trends API", "results": {...}}, {"name": "Other", "results": {...}}]

Read as text, the model would learn to write calls as prose and the tool turns answer no call. A turn is read as
calls only when the whole turn is one bracketed list of ``Name(key=value, ...)`` whose every name is a function
the system prompt lists and whose values are literals; anything else stays text.
"""

from __future__ import annotations

import ast
import json
from typing import Any

import orjson

from curation.readers.formats import tool_markup
from curation.records import arguments_string
from curation.type_names import type_schema

_LITERAL_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}


def functions_in(system: str) -> list[dict[str, Any]] | None:
    """The JSON list of function schemas a system prompt holds (the first ``[{`` that decodes to one), or None."""
    start = system.find("[{")
    decoder = json.JSONDecoder()
    while start != -1:
        try:
            value, _ = decoder.raw_decode(system, start)
        except ValueError:
            value = None
        if isinstance(value, list) and value and all(
                isinstance(f, dict) and isinstance(f.get("name"), str) and ("parameters" in f or "description" in f)
                for f in value):
            return value
        start = system.find("[{", start + 2)
    return None


def as_json_schema(value: Any) -> Any:
    """A schema with Python type names (``"dict"``, ``"str"``, as ToolACE writes them) in JSON Schema's words."""
    if isinstance(value, dict):
        out = {k: as_json_schema(v) for k, v in value.items()}
        if isinstance(out.get("type"), str):
            schema, _ = type_schema(out["type"])
            if schema is not None:  # the node's own items (or anything else it says) win over the name's
                out = {**schema, **{k: v for k, v in out.items() if k != "type"}}
        return out
    if isinstance(value, list):
        return [as_json_schema(v) for v in value]
    return value


def _value(node: ast.expr) -> Any:
    if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
        return _LITERAL_NAMES[node.id]
    if isinstance(node, ast.List | ast.Tuple):
        return [_value(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values, strict=True) if k is not None}
    return ast.literal_eval(node)


def _arguments(text: str) -> dict[str, Any] | None:
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not isinstance(call, ast.Call) or call.args or any(k.arg is None for k in call.keywords):
        return None
    try:
        arguments = {k.arg: _value(k.value) for k in call.keywords}
        orjson.dumps(arguments)
    except (ValueError, TypeError, SyntaxError, RecursionError, orjson.JSONEncodeError):
        return None
    return arguments  # type: ignore[return-value]


def parse_calls(content: str, names: set[str]) -> list[tuple[str, dict[str, Any]]] | None:
    """[(name, arguments)] when ``content`` is exactly ``[Name(k=v, ...), ...]`` over known ``names``; else None."""
    text = content.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    calls: list[tuple[str, dict[str, Any]]] = []
    i, end = 1, len(text) - 1
    while True:
        opening = text.find("(", i, end)
        if opening == -1:
            return None
        name = text[i:opening].strip()
        if name not in names:
            return None
        closing = tool_markup.closing(text, opening)
        if closing == -1 or text[closing] != ")" or closing >= end:
            return None
        arguments = _arguments(text[opening + 1 : closing])
        if arguments is None:
            return None
        calls.append((name, arguments))
        rest = text[closing + 1 : end].lstrip()
        if not rest:
            return calls
        if not rest.startswith(","):
            return None
        i = end - len(rest) + 1


def lift(messages: list[Any], tools: list[dict[str, Any]]) -> bool:
    """Turn bracket-call assistant turns into ``tool_calls`` and give the tool turns after them their ids (a
    result list as long as the calls becomes one tool message per call). True when any turn changed."""
    names = {f["name"] for f in tools}
    changed = False
    n = 0
    i = 0
    while i < len(messages):
        message = messages[i]
        calls = None
        if isinstance(message, dict) and message.get("role") == "assistant" and not message.get("tool_calls"):
            content = message.get("content")
            calls = parse_calls(content, names) if isinstance(content, str) else None
        if not calls:
            i += 1
            continue
        ids = [f"call_{n + k}" for k in range(len(calls))]
        n += len(calls)
        del message["content"]
        message["tool_calls"] = [{"id": cid, "type": "function",
                                  "function": {"name": name, "arguments": arguments_string(arguments)}}
                                 for cid, (name, arguments) in zip(ids, calls, strict=True)]
        changed = True
        following = messages[i + 1] if i + 1 < len(messages) else None
        if isinstance(following, dict) and following.get("role") == "tool" and "tool_call_id" not in following:
            results = _results(following.get("content"))
            if results is not None and len(results) == len(ids) > 1:
                messages[i + 1 : i + 2] = [{"role": "tool", "content": orjson.dumps(r).decode(), "tool_call_id": cid}
                                           for cid, r in zip(ids, results, strict=True)]
            else:
                following["tool_call_id"] = ids[0]
        i += 1
    return changed


def _results(content: Any) -> list[Any] | None:
    if not isinstance(content, str):
        return None
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None
