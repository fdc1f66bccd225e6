"""Per-turn keys the canonical message has no place for, set aside instead of failing the record.

Real logs carry bookkeeping on every turn: WildChat's ``language``/``country``/``toxic``/``timestamp``,
LMSYS's ``turn``, OpenHermes's ``weight: null`` on prompt turns, LLaMA-Factory v1's ``loss_weight`` on
every turn. Rejecting a conversation for them (as an upload would) throws away good data, and silently
dropping them hides what the file held. So they move to ``metadata.fields.turn_fields`` (side, index,
keys), the message keeps only canonical keys, and the exporters never see the extras.

Weights are normalised on the way: ``loss_weight`` becomes ``weight`` on assistant turns, and so do the
booleans ``loss`` (xtuner, ms-swift: ``"loss": false`` masks a turn) and ``training`` (axolotl's
``message_field_training``) as 1 or 0; ``weight`` of
``None`` is no weight; 0.0/1.0 become 0/1; a weight on a turn that is not the assistant's (only assistant
turns are trained on, and OpenAI rejects ``weight`` elsewhere) carries no information and is dropped.
Anything else odd (a weight of 0.5) stays for the checks to report.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats.openai import maybe_fix_parts
from curation.records import MESSAGE_KEYS, ROLES, arguments_string, message_text

SIDES = ("messages", "prompt", "chosen", "rejected")


_TRAIN_FLAGS = ("loss", "training")


def _weight(value: Any) -> Any:
    if isinstance(value, float) and value in (0.0, 1.0):
        return int(value)
    return value


def _clean(message: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A message with canonical keys only, and the keys set aside."""
    weight = message.get("weight")
    role = message.get("role")
    canonical = isinstance(role, str) and role in ROLES
    # a turn whose role is not canonical is left whole: the checks report the role (and a mapping fixes it)
    weight_ok = "weight" not in message or not canonical or (
        role == "assistant" and weight is not None and not isinstance(weight, float))
    if weight_ok and MESSAGE_KEYS.issuperset(message):
        return message, {}
    named = "weight" in message or "loss_weight" in message
    kept: dict[str, Any] = {}
    aside: dict[str, Any] = {}
    assistant = role == "assistant" or not canonical
    for key, value in message.items():
        if key in ("weight", "loss_weight"):
            if value is None or not assistant:
                continue
            if key == "loss_weight" and "weight" in message:
                aside[key] = value
                continue
            kept["weight"] = _weight(value)
        elif key in _TRAIN_FLAGS and type(value) is bool and assistant and not named:
            kept["weight"] = int(value)  # "loss": false trains nothing on this turn, as weight 0 does
        elif key in MESSAGE_KEYS:
            kept[key] = value
        else:
            aside[key] = value
    return kept, aside


def _flat(call: Any) -> bool:
    return isinstance(call, dict) and "function" not in call and isinstance(call.get("name"), str)


def _call_arguments_fixed(message: dict[str, Any]) -> dict[str, Any]:
    """Tool-call ``arguments`` written as a JSON object (what a logging library or a hand-written script often
    does) become the JSON string OpenAI requires, and a call written flat, the Responses API's way
    (``{"type": "function", "name", "arguments"}``), gets its ``function``; the call means the same. The same dict
    when nothing needs it."""
    calls = message.get("tool_calls")
    if type(calls) is not list or not any(_flat(c) or (
            isinstance(c, dict) and isinstance(c.get("function"), dict)
            and isinstance(c["function"].get("arguments"), dict | list)) for c in calls):
        return message
    fixed = []
    for call in calls:
        if _flat(call):
            rest = {k: v for k, v in call.items() if k not in ("name", "arguments", "call_id")}
            call_id = call.get("id", call.get("call_id"))
            call = {**rest, **({"id": call_id} if call_id is not None else {}), "type": call.get("type", "function"),
                    "function": {"name": call["name"], "arguments": call.get("arguments", "{}")}}
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict) and isinstance(function.get("arguments"), dict | list):
            call = {**call, "function": {**function, "arguments": arguments_string(function["arguments"])}}
        fixed.append(call)
    return {**message, "tool_calls": fixed}


# A text part's keys that join into a string with nothing lost: Anthropic's `cache_control` is a caching hint.
_TEXT_PART_KEYS = frozenset({"type", "text", "cache_control"})


def _text_parts(content: list[Any]) -> bool:
    return bool(content) and all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
                                 and _TEXT_PART_KEYS.issuperset(p) for p in content)


def _result_text(message: dict[str, Any]) -> dict[str, Any]:
    """A tool result logged as an object or a number (the function's return value) is the JSON text the model
    was given. A result of text parts only (SWE-agent's ``[{"type": "text", "text": "OBSERVATION: ..."}]``, which
    the Chat Completions API takes but a fine-tuning file does not) is their text, joined as the exporters and the
    token counts join them; parts holding anything else (an image) stay for the checks to report."""
    content = message["content"]
    if isinstance(content, list) and _text_parts(content):
        return {**message, "content": message_text(message)}
    if isinstance(content, list) and all(isinstance(p, dict) and "type" in p for p in content):
        return message
    return {**message, "content": arguments_string(content)}


def _number_text(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # 42.0 as a spreadsheet shows it
    return repr(value)


def set_aside(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Clean every message of a converted body in place; the set-aside keys, or None when there were none."""
    found: list[dict[str, Any]] = []
    for side in SIDES:
        turns = body.get(side)
        if type(turns) is not list:
            continue
        for index, message in enumerate(turns):
            if type(message) is not dict or "role" not in message:
                continue  # not a message: the checks report it as it is
            if "tool_calls" in message:
                message = turns[index] = _call_arguments_fixed(message)
            if message["role"] == "tool" and isinstance(message.get("content"), dict | list | int | float) \
                    and not isinstance(message.get("content"), bool):
                message = turns[index] = _result_text(message)
            elif type(message.get("content")) in (int, float):
                # a number typed as the answer (a spreadsheet cell holding 42, {"answer": 42}) is its text
                message = turns[index] = {**message, "content": _number_text(message["content"])}
            if type(message.get("content")) is list:
                fixed = maybe_fix_parts(message["content"])  # v1 ``value`` parts on any side of any format
                if fixed is not message["content"]:
                    message = {**message, "content": fixed}
                    turns[index] = message
            elif "weight" not in message and MESSAGE_KEYS.issuperset(message):
                continue  # canonical keys and no weight (most turns): _clean would keep it whole
            kept, aside = _clean(message)
            if kept is not message:
                turns[index] = kept
            if aside:
                found.append({"side": side, "index": index, "fields": aside})
    return found or None
