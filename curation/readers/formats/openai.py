"""OpenAI chat format: ``{"messages": [...], "tools"?, "parallel_tool_calls"?}``, also LLaMA-Factory v1.

Kept as it is; the ``maybe_*`` fixes only touch what LLaMA-Factory v1 writes differently (content parts
with ``value`` instead of ``text``, ``loss_weight`` 0.0/1.0 instead of ``weight``) and do nothing otherwise.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import add_tools, map_role
from curation.readers.mapping import FieldMapping

NAME = "openai"
KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls"})


def is_openai(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return "messages" in obj


def maybe_fix_parts(content: list[Any]) -> list[Any]:
    """Content parts written ``{"type": "text", "value": ...}`` get the OpenAI key ``text``."""
    if not any(isinstance(p, dict) and "value" in p and "text" not in p for p in content):
        return content
    fixed = []
    for part in content:
        if isinstance(part, dict) and "value" in part and "text" not in part:
            part = {("text" if k == "value" else k): v for k, v in part.items()}
        fixed.append(part)
    return fixed


def maybe_fix_message(message: dict[str, Any], mapping: FieldMapping | None) -> dict[str, Any]:
    """One message with v1 fixes and mapped roles applied; the same dict when nothing applies."""
    content = message.get("content")
    needs = "loss_weight" in message or type(content) is list or (mapping is not None and mapping.roles)
    if not needs:
        return message
    fixed: dict[str, Any] = {}
    for key, value in message.items():
        if key == "loss_weight":
            # 0.0/1.0 become the canonical int; anything else is kept for the checks to report as a bad weight.
            # LLaMA-Factory puts loss_weight on every turn, but only assistant turns are trained on (and
            # OpenAI rejects `weight` anywhere else), so a prompt turn's loss_weight carries no information.
            if "weight" not in message and message.get("role") == "assistant":
                fixed["weight"] = int(value) if value in (0, 1) and not isinstance(value, bool) else value
            continue
        if key == "content" and type(value) is list:
            value = maybe_fix_parts(value)
        elif key == "role" and mapping is not None:
            value = map_role(value, mapping) if value in mapping.roles else value
        fixed[key] = value
    return fixed


def fix_messages(messages: Any, mapping: FieldMapping | None) -> Any:
    if type(messages) is not list:
        return messages
    for i, message in enumerate(messages):
        if type(message) is dict:
            fixed = maybe_fix_message(message, mapping)
            if fixed is not message:
                messages[i] = fixed
    return messages


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    body: dict[str, Any] = {"messages": fix_messages(obj["messages"], mapping)}
    add_tools(body, obj, mapping)
    if obj.get("functions") is not None:
        body["functions"] = obj["functions"]
    if obj.get("parallel_tool_calls") is not None:
        body["parallel_tool_calls"] = obj["parallel_tool_calls"]
    return [(None, body, None)]
