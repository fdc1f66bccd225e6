"""Assistant reasoning and typed tool-call parts, lifted into the canonical message at read time.

Sources write a model's reasoning four ways; the canonical message keeps it in one place, ``reasoning``
(a string on an assistant message), so that checks, token counts and exporters see it the same way:

- ``reasoning_content`` (DeepSeek, vLLM, Qwen3 chat templates) or ``reasoning`` (Together) on the message;
- typed content parts ``{"type": "reasoning", "text"|"value": ...}`` (LLaMA-Factory's reason_tool_use demo);
- a leading ``<think>...</think>`` block in the assistant's text (R1-style distilled data).

LLaMA-Factory also writes tool calls as parts ``{"type": "tool_call", "value": "{\"name\", \"arguments\"}"}``
and answers them with tool messages without ids (one tool message may answer several calls with a JSON list
of results). These become ``tool_calls`` with ids ``call_<n>`` numbered through the conversation, and tool
messages answering them in order (a JSON list with one result per open call is split into one message each).

Every function here is a ``maybe_*``: safe to re-run, and it returns its input untouched when nothing applies.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

REASONING_KEYS = ("reasoning_content", "reasoning")
_REASONING_KEY_SET = frozenset(REASONING_KEYS)
_THINK = re.compile(r"\A\s*<think>(.*?)</think>\s*", re.S)
_MESSAGE_LISTS = ("messages", "prompt", "chosen", "rejected")


def split_think(text: str) -> tuple[str | None, str]:
    """(reasoning, answer) for a text that opens with a ``<think>`` block; (None, text) otherwise."""
    if "<think>" not in text[:64]:
        return None, text
    match = _THINK.match(text)
    if match is None:
        return None, text
    return match.group(1).strip(), text[match.end():]


def _part_text(part: dict[str, Any]) -> Any:
    return part.get("text", part.get("value"))


def _call_from_part(value: Any, number: int) -> dict[str, Any]:
    data = value
    if isinstance(value, str):
        try:
            data = orjson.loads(value)
        except orjson.JSONDecodeError:
            data = None
    if isinstance(data, dict):
        name = data.get("name", "")
        arguments = data.get("arguments", data.get("parameters", {}))
    else:  # not a call object: kept as a nameless call, which the checks report
        name, arguments = "", value if isinstance(value, str) else ""
    args = arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode()
    return {"id": f"call_{number}", "type": "function",
            "function": {"name": name if isinstance(name, str) else str(name), "arguments": args}}


def maybe_lift_message(message: Any, n_calls: int) -> tuple[Any, list[str]]:
    """One message with its reasoning in ``reasoning`` and tool-call parts in ``tool_calls``; returns the
    (possibly new) message and the ids of the calls it added (numbered from ``n_calls``)."""
    if not isinstance(message, dict):
        return message, []
    content = message.get("content")
    has_key = not _REASONING_KEY_SET.isdisjoint(message)  # one C loop over the message's keys, read per message
    has_parts = isinstance(content, list) and any(
        isinstance(p, dict) and p.get("type") in ("reasoning", "tool_call", "thinking") for p in content
    )
    has_think = isinstance(content, str) and message.get("role") == "assistant" and "<think>" in content[:64]
    if not (has_key or has_parts or has_think):
        return message, []
    out = dict(message)
    reasoning: list[str] = []
    for key in REASONING_KEYS:
        if key in out:
            value = out.pop(key)
            if isinstance(value, str):
                if value.strip():
                    reasoning.append(value)
            elif value is not None:  # a wrong type stays for the checks to report
                out["reasoning"] = value
                return out, []
    added: list[str] = []
    if has_parts:
        kept: list[Any] = []
        calls = list(out.get("tool_calls") or [])
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind in ("reasoning", "thinking"):
                text = _part_text(part)
                if isinstance(text, str) and text.strip():
                    reasoning.append(text)
            elif kind == "tool_call":
                call = _call_from_part(_part_text(part), n_calls + len(added))
                calls.append(call)
                added.append(call["id"])
            else:
                kept.append(part)
        if calls:
            out["tool_calls"] = calls
        if kept:
            out["content"] = kept
        elif calls:
            out.pop("content", None)
        else:
            out["content"] = ""
    elif has_think:
        thought, answer = split_think(content)
        if thought is not None:
            if thought:
                reasoning.append(thought)
            out["content"] = answer
    if reasoning:
        out["reasoning"] = "\n\n".join(reasoning)
    return out, added


def _tool_text(message: dict[str, Any]) -> str | None:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list) and len(content) == 1 and isinstance(content[0], dict):
        text = _part_text(content[0])
        return text if isinstance(text, str) else None
    return None


def _answer_tools(message: dict[str, Any], pending: list[str]) -> list[dict[str, Any]]:
    """A tool message without an id, answering the pending calls: one message per result."""
    text = _tool_text(message)
    if len(pending) > 1 and text is not None:
        try:
            results = orjson.loads(text)
        except orjson.JSONDecodeError:
            results = None
        if isinstance(results, list) and len(results) == len(pending):
            out = []
            for result in results:
                body = result.get("content", result) if isinstance(result, dict) else result
                out.append({"role": "tool", "content": body if isinstance(body, str) else orjson.dumps(body).decode(),
                            "tool_call_id": pending.pop(0)})
            return out
    fixed = dict(message)
    if text is not None:
        fixed["content"] = text
    fixed["tool_call_id"] = pending.pop(0)
    return [fixed]


def _nothing_to_lift(messages: list[Any]) -> bool:
    """True when no message has a reasoning key, content parts or a leading ``<think>`` in the assistant's text:
    then :func:`maybe_lift_message` keeps every one as it is and adds no call (so no tool result is rewired).
    One cheap pass for the common conversation; False only means "lift message by message"."""
    for message in messages:
        if type(message) is not dict:
            continue
        content = message.get("content")
        if not _REASONING_KEY_SET.isdisjoint(message) or isinstance(content, list):
            return False
        if isinstance(content, str) and "<think>" in content[:64] and message.get("role") == "assistant":
            return False
    return True


def maybe_lift_messages(messages: Any) -> Any:
    """:func:`maybe_lift_message` over a conversation, wiring id-less tool results to the calls it added."""
    if not isinstance(messages, list) or _nothing_to_lift(messages):
        return messages
    out: list[Any] = []
    pending: list[str] = []
    n_calls = 0
    changed = False
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "tool" and "tool_call_id" not in message and pending:
            out.extend(_answer_tools(message, pending))
            changed = True
            continue
        lifted, added = maybe_lift_message(message, n_calls)
        if added:
            n_calls += len(added)
            pending = list(added)
        elif isinstance(lifted, dict) and lifted.get("role") != "tool":
            pending = []
        changed = changed or lifted is not message
        out.append(lifted)
    return out if changed else messages


def maybe_lift_record(body: dict[str, Any]) -> dict[str, Any]:
    """Every message list of a record body (conversation or preference pair), in place."""
    for key in _MESSAGE_LISTS:
        value = body.get(key)
        if isinstance(value, list):
            lifted = maybe_lift_messages(value)
            if lifted is not value:
                body[key] = lifted
    return body


def message_reasoning(message: Any) -> str:
    """The reasoning text of a canonical message ('' when it has none)."""
    if isinstance(message, dict):
        value = message.get("reasoning")
        if isinstance(value, str):
            return value
    return ""


def has_reasoning(record: dict[str, Any]) -> bool:
    return any(
        isinstance(m, dict) and m.get("reasoning")
        for key in _MESSAGE_LISTS if isinstance(record.get(key), list) for m in record[key]
    )
