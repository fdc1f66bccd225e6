"""OpenAI chat format: ``{"messages": [...], "tools"?, "parallel_tool_calls"?}``, also LLaMA-Factory v1.

Kept as it is apart from role aliases; what LLaMA-Factory v1 writes differently (content parts with ``value``
instead of ``text``, ``loss_weight`` instead of ``weight``) is normalised for every format in ``turn_fields``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats import tool_markup
from curation.readers.formats._common import (
    ROLE_KEYS,
    ConvertProblem,
    add_tools,
    conversation_lists,
    convert_turns,
    map_role,
)
from curation.readers.formats.media import image_source
from curation.readers.mapping import FieldMapping
from curation.records import ROLES

NAME = "openai"
KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls", "toolConfig"})


def is_openai(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return "messages" in obj


def _fix_part(part: Any) -> Any:
    if not isinstance(part, dict):
        return part
    kind = part.get("type")
    if kind == "image_url" and "value" in part and "image_url" not in part:
        # v1 writes an image as {"type": "image_url", "value": "path or URL"}
        rest = {k: v for k, v in part.items() if k not in ("type", "value")}
        return {"type": "image_url", "image_url": {"url": part["value"]}, **rest}
    if kind == "image_url" and isinstance(part.get("image_url"), str):
        return {**part, "image_url": {"url": part["image_url"]}}
    anthropic = _anthropic_image(part) if kind == "image" else None
    if anthropic is not None:
        rest = {k: v for k, v in part.items() if k not in ("type", "source")}
        return {"type": "image_url", "image_url": {"url": anthropic}, **rest}
    source = image_source(part) if kind == "image" else None
    if source is not None:
        # Qwen-VL's and Hugging Face processors' {"type": "image", "image" | "url" | "path": ...}
        key, url = source
        rest = {k: v for k, v in part.items() if k not in ("type", key)}
        return {"type": "image_url", "image_url": {"url": url}, **rest}
    if "value" in part and "text" not in part:
        return {("text" if k == "value" else k): v for k, v in part.items()}
    if kind is None and isinstance(part.get("text"), str) and set(part) == {"text"}:
        return {"type": "text", "text": part["text"]}  # Bedrock Converse blocks carry no type
    return part


def _anthropic_image(part: dict[str, Any]) -> str | None:
    """Anthropic's image block, ``{"type": "image", "source": {"type": "base64", "media_type", "data"} | {"type":
    "url", "url"}}``, as the URL an ``image_url`` part holds (a data URL for base64); None for anything else."""
    source = part.get("source")
    if not isinstance(source, dict):
        return None
    if source.get("type") == "base64" and isinstance(source.get("data"), str) and isinstance(
            source.get("media_type"), str):
        return f"data:{source['media_type']};base64,{source['data']}"
    if source.get("type") == "url" and isinstance(source.get("url"), str):
        return source["url"]
    return None


def _needs_fix(part: Any) -> bool:
    return isinstance(part, dict) and (("value" in part and "text" not in part)
                                       or ("type" not in part and set(part) == {"text"})
                                       or (part.get("type") == "image" and (image_source(part) is not None
                                                                            or _anthropic_image(part) is not None))
                                       or (part.get("type") == "image_url" and isinstance(part.get("image_url"), str)))


def maybe_fix_parts(content: list[Any]) -> list[Any]:
    """Content parts written ``{"type": "text", "value": ...}`` (LLaMA-Factory v1) or as typeless
    ``{"text": ...}`` blocks (Bedrock Converse) get the OpenAI shape."""
    if not any(_needs_fix(p) for p in content):
        return content
    return [_fix_part(p) for p in content]


def maybe_fix_message(message: dict[str, Any], mapping: FieldMapping | None) -> dict[str, Any]:
    """One message with its role mapped (a mapping's role names, or a known alias such as Cohere's
    ``Chatbot``); the same dict when nothing applies. Content parts, weights and extra keys are normalised
    for every format alike afterwards (``turn_fields.set_aside``)."""
    role = message.get("role")
    if type(role) is not str:
        return message  # a list or dict role stays for the checks to report
    if mapping is not None and mapping.roles and role in mapping.roles:
        return {**message, "role": map_role(role, mapping)}
    if role not in ROLES:
        return {**message, "role": map_role(role, None)}  # unknown names stay as they are
    return message


def maybe_call_id(message: dict[str, Any], index: int) -> dict[str, Any]:
    """SWE-agent names the call a tool result answers in a list, ``"tool_call_ids": ["toolu_01..."]`` (its own
    model code sends ``tool_call_ids[0]`` on as ``tool_call_id``, and its parser lets a turn make one call): one id
    is read as the ``tool_call_id``. A result naming several calls is refused, since one text cannot be told apart
    into the answer of each. The same dict when nothing applies."""
    ids = message.get("tool_call_ids")
    if type(ids) is not list or message.get("role") != "tool" or "tool_call_id" in message:
        return message
    if len(ids) == 1 and isinstance(ids[0], str) and ids[0]:
        fixed = {k: v for k, v in message.items() if k != "tool_call_ids"}
        fixed["tool_call_id"] = ids[0]
        return fixed
    if len(ids) > 1:
        shown = ", ".join(repr(i) for i in ids[:4]) + (", ..." if len(ids) > 4 else "")
        raise ConvertProblem("shared_tool_result", f"message {index} is one tool result for {len(ids)} tool calls "
                             f"(tool_call_ids {shown}): a fine-tuning file needs one tool message per call, each "
                             "with its tool_call_id; split the result per call, or leave the record out")
    return message  # an empty list answers nothing: the checks and exporters say so


def fix_messages(messages: Any, mapping: FieldMapping | None) -> Any:
    if type(messages) is not list:
        return messages
    for i, message in enumerate(messages):
        if type(message) is dict:
            fixed = maybe_fix_message(message, mapping)
            if "tool_call_ids" in fixed:
                fixed = maybe_call_id(fixed, i)
            content = fixed.get("content")
            if type(content) is list and any(tool_markup.is_bedrock_block(p) for p in content):
                parts = [tool_markup.bedrock_part(p) if tool_markup.is_bedrock_block(p) else p for p in content]
                fixed = {**fixed, "content": parts}
            if fixed is not message:
                messages[i] = fixed
    return messages


_OTHER_SPEAKERS = frozenset(ROLE_KEYS) - {"role"} | {"human"}


def _other_turn(message: dict[str, Any]) -> bool:
    return not _OTHER_SPEAKERS.isdisjoint(message) or type(message.get("is_human")) is bool


_CALL_ROLES = frozenset({"function_call", "tool_call"})


def _call_turns(messages: list[Any], mapping: FieldMapping | None) -> bool:
    """Whether some turn is a tool call written as its own role (ms-swift's ``tool_call``)."""
    names = _CALL_ROLES
    if mapping is not None and mapping.roles:
        names = names | {k for k, v in mapping.roles.items() if v == "function_call"}
    for message in messages:
        role = message.get("role") if type(message) is dict else None
        if type(role) is str and role not in ROLES and (role in names or role.lower() in names):
            return True
    return False


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    chats = conversation_lists(obj["messages"])
    if chats is None:
        return [(None, _body(obj, obj["messages"], mapping), None)]
    return [(None, _body(obj, chat, mapping), None) for chat in chats]


def _body(obj: dict[str, Any], messages: Any, mapping: FieldMapping | None) -> dict[str, Any]:
    if type(messages) is list and (any(type(m) is dict and "role" not in m and _other_turn(m) for m in messages)
                                   or _call_turns(messages, mapping)):
        # ShareGPT turns (from/value), Firefly's {human, assistant}, a speaker or sender named otherwise, or
        # PIPPA's is_human flag, under the `messages` key; ms-swift's tool_call turns, whose calls are turn text
        body: dict[str, Any] = {"messages": convert_turns(messages, mapping)}
    else:
        body = {"messages": fix_messages(messages, mapping)}
    add_tools(body, obj, mapping)
    if "tools" not in body and "toolConfig" in obj:
        tools = tool_markup.bedrock_tools(obj["toolConfig"])
        if tools:
            body["tools"] = tools
    if obj.get("functions") is not None:
        body["functions"] = obj["functions"]
    if obj.get("parallel_tool_calls") is not None:
        body["parallel_tool_calls"] = obj["parallel_tool_calls"]
    return body
