"""LangChain message dumps: ``{"messages": [...]}`` (or a bare list) of what ``messages_to_dict`` writes
(``{"type": "human", "data": {"content", ...}}``) or ``dumpd`` does (``{"lc": 1, "type": "constructor", "id":
["langchain", "schema", "messages", "HumanMessage"], "kwargs": {...}}``), as apps save a chain's memory.

Read as OpenAI messages they had no role and no content. The type names the speaker (human, ai, system, tool);
an ai message's ``tool_calls`` (``{"name", "args", "id"}``) become OpenAI tool calls, and a tool message answers
its ``tool_call_id``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.containers import lc_type
from curation.readers.formats import openai
from curation.readers.formats._common import add_tools
from curation.readers.mapping import FieldMapping
from curation.records import arguments_string

NAME = "langchain"
KEYS = openai.KEYS
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "function",
          "HumanMessage": "user", "AIMessage": "assistant", "SystemMessage": "system", "ToolMessage": "tool",
          "FunctionMessage": "function", "ChatMessage": "chat"}


def is_langchain(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    messages = obj.get("messages")
    return type(messages) is list and bool(messages) and all(lc_type(m) is not None for m in messages)


def _tool_calls(fields: dict[str, Any]) -> list[dict[str, Any]] | None:
    calls = fields.get("tool_calls")
    if isinstance(calls, list) and calls:
        return [{"id": c.get("id"), "type": "function",
                 "function": {"name": c.get("name"), "arguments": arguments_string(c.get("args"))}}
                if isinstance(c, dict) and "function" not in c else c for c in calls]
    extra = fields.get("additional_kwargs")  # older dumps kept the provider's OpenAI-shaped calls here
    calls = extra.get("tool_calls") if isinstance(extra, dict) else None
    return calls if isinstance(calls, list) and calls else None


def message(dumped: dict[str, Any]) -> dict[str, Any]:
    """One dumped LangChain message as a canonical message."""
    kind = lc_type(dumped) or ""
    fields = dumped["kwargs"] if "lc" in dumped else dumped["data"]
    role: Any = _ROLES.get(kind.removesuffix("Chunk"), kind)
    if role == "chat":  # a ChatMessage names its speaker itself
        role = fields.get("role")
    turn: dict[str, Any] = {"role": role, "content": fields.get("content")}
    calls = _tool_calls(fields) if role == "assistant" else None
    if calls:
        turn["tool_calls"] = calls
        if turn["content"] in ("", []):
            turn["content"] = None
    if role == "tool" and fields.get("tool_call_id") is not None:
        turn["tool_call_id"] = fields["tool_call_id"]
    if role == "function" and isinstance(fields.get("name"), str):
        turn["name"] = fields["name"]
    return turn


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    body: dict[str, Any] = {"messages": openai.fix_messages([message(m) for m in obj["messages"]], mapping)}
    add_tools(body, obj, mapping)
    return [(None, body, None)]
