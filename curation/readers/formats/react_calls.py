"""Tool calls written as ReAct text, as ToolBench's ToolLLaMA training data (and its DFS answer files) hold them:

    system:    "... Specifically, you have access to the following APIs: [{'name': 'love_quote_for_olato_quotes',
                'description': ..., 'parameters': {...}}, {'name': 'Finish', ...}]"   (Python's repr, not JSON)
    assistant: "\\nThought: I should call ...\\nAction: love_quote_for_olato_quotes\\nAction Input: {}"
    function:  '{"error": "", "response": "..."}'
    assistant: "\\nThought: ...\\nAction: Finish\\nAction Input: {\\n  \\"return_type\\": \\"give_answer\\", ..."

Read as text, every file is refused by the providers (a ``function`` turn answers no call) and the model would
learn to write calls as prose. A turn is read as a call only when it is exactly ``Thought / Action / Action
Input`` and the action is an API the system prompt lists. The thought is the turn's ``reasoning`` (ReAct's
Thought is the model reasoning before it acts). ``Finish`` is ToolBench's way of answering: ``give_answer``
becomes the assistant's reply (its ``final_answer``), and a ``give_up_and_restart`` is a run that failed, which
makes the record undesirable; ``Finish`` leaves the record's tools once no call to it is left.
"""

from __future__ import annotations

import re
from typing import Any

from curation.readers.formats.tool_markup import closing, parse_loose
from curation.records import arguments_string

MARKER = "you have access to the following APIs:"
FINISH = "Finish"
_STEP = re.compile(r"\A\s*(?:Thought:[ \t]*(?P<thought>.*?)\s*)?^Action:[ \t]*(?P<name>[^\n]+?)[ \t]*\n"
                   r"Action Input:[ \t]*(?P<input>.*?)\s*\Z", re.S | re.M)


def functions_in(system: str) -> list[dict[str, Any]] | None:
    """The API list after ToolBench's "you have access to the following APIs:" (a Python literal), or None."""
    at = system.find(MARKER)
    start = system.find("[", at + len(MARKER)) if at >= 0 else -1
    if start < 0:
        return None
    end = closing(system, start)
    value = parse_loose(system[start:end + 1]) if end > 0 else None
    if isinstance(value, list) and value and all(isinstance(f, dict) and isinstance(f.get("name"), str)
                                                 for f in value):
        return value
    return None


def _step(content: str, names: set[str]) -> tuple[str, str, str] | None:
    """(thought, action, action input) of a turn that is exactly one ReAct step over known names; else None."""
    if "Action Input:" not in content:
        return None
    match = _STEP.match(content)
    if match is None or match["name"] not in names or "\nObservation:" in match["input"]:
        return None  # an observation in the turn: a whole transcript in one turn (Qwen's ReAct), left as text
    return (match["thought"] or "").strip(), match["name"], match["input"]


def lift(messages: list[Any], functions: list[dict[str, Any]]) -> tuple[bool, str | None]:
    """ReAct assistant turns as tool calls (``Finish`` then settled, see ``settle_finish``), in place; the
    ``function`` turn after a call becomes its tool result. Returns (whether any turn changed, why the run
    failed or None)."""
    names = {f["name"] for f in functions}
    changed, n = False, 0
    for i, message in enumerate(messages):
        if not (isinstance(message, dict) and message.get("role") == "assistant"
                and isinstance(message.get("content"), str) and not message.get("tool_calls")):
            continue
        step = _step(message["content"], names)
        if step is None:
            continue
        thought, name, raw = step
        data = parse_loose(raw)
        call_id = f"call_{n}"
        n += 1
        del message["content"]
        # input that does not read stays as written: the checks report a call whose arguments are no JSON
        message["tool_calls"] = [{"id": call_id, "type": "function", "function": {
            "name": name, "arguments": arguments_string(data) if isinstance(data, dict) else raw}}]
        if thought:
            message["reasoning"] = thought
        following = messages[i + 1] if i + 1 < len(messages) else None
        if isinstance(following, dict) and following.get("role") in ("function", "tool") \
                and "tool_call_id" not in following:
            following["role"] = "tool"
            following["tool_call_id"] = call_id
            following.pop("name", None)
        changed = True
    return changed, settle_finish(messages) if changed else None


def settle_finish(messages: list[Any]) -> str | None:
    """A ``Finish`` call that gives its answer becomes the assistant's reply, in place; returns why the run
    failed when one gives up (``give_up_and_restart``), else None."""
    failed = None
    for message in messages:
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        if not (isinstance(calls, list) and len(calls) == 1 and isinstance(calls[0], dict)):
            continue
        function = calls[0].get("function")
        if not (isinstance(function, dict) and function.get("name") == FINISH):
            continue
        arguments = parse_loose(function.get("arguments") or "")
        kind = arguments.get("return_type") if isinstance(arguments, dict) else None
        if kind == "give_answer" and isinstance(arguments.get("final_answer"), str):
            del message["tool_calls"]
            message["content"] = arguments["final_answer"]
        elif kind == "give_up_and_restart":
            failed = "Finish: give_up_and_restart (the run gave up on its task)"
    return failed


def without_unused_finish(functions: list[dict[str, Any]], messages: list[Any]) -> list[dict[str, Any]]:
    """The API list without ``Finish`` once no turn calls it (its answers became replies)."""
    return functions if calls_finish(messages) else [f for f in functions if f.get("name") != FINISH]


def calls_finish(messages: list[Any]) -> bool:
    return any(isinstance(m, dict) and any(isinstance(c, dict) and (c.get("function") or {}).get("name") == FINISH
                                           for c in m.get("tool_calls") or ()) for m in messages)
