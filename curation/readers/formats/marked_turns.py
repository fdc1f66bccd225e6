"""Chats whose turns are told apart by speaker markers inside strings, in two public layouts:

* Baize (project-baize): ``input``, one string ``"The conversation between human and AI assistant.\n[|Human|]
  ...\n[|AI|] ...\n[|Human|] "`` (it ends on an open human cue), beside ``topic``.
* MOSS-003 (OpenMOSS/MOSS SFT data): ``meta_instruction`` (the system prompt) and ``chat: {"turn_1": {"Human":
  "<|Human|>: ...<eoh>", "Inner Thoughts": "<|Inner Thoughts|>: ...<eot>", "Commands": "<|Commands|>: None<eoc>",
  "Tool Responses": "<|Results|>: None<eor>", "MOSS": "<|MOSS|>: ...<eom>"}, ...}``. Inner thoughts become the
  answer's ``reasoning``; a turn that runs a plugin (``Commands`` other than None) writes its call as text in
  MOSS's own syntax, which no provider's tool format holds, so such a conversation is refused
  (``tool_calls_as_text``) rather than trained on calls written as prose.
"""

from __future__ import annotations

import re
from typing import Any

from curation.readers.formats._common import ConvertProblem
from curation.readers.mapping import FieldMapping

NAME = "marked_turns"
KEYS = frozenset({"input", "chat", "meta_instruction", "num_turns"})

_BAIZE = re.compile(r"\[\|(Human|AI)\|\]")
_BAIZE_HEADER = "The conversation between human and AI assistant."
_MOSS_TURN = re.compile(r"turn_(\d+)")
_MOSS_MARK = re.compile(r"\A\s*<\|[^|>]+\|>:\s?(.*?)\s*(?:<eo[hmtcr]>)?\s*\Z", re.S)


def _is_baize(obj: dict[str, Any]) -> bool:
    text = obj.get("input")
    return isinstance(text, str) and "[|Human|]" in text and "[|AI|]" in text and "instruction" not in obj


def _is_moss(obj: dict[str, Any]) -> bool:
    chat = obj.get("chat")
    return isinstance(chat, dict) and bool(chat) and all(
        isinstance(k, str) and _MOSS_TURN.fullmatch(k) and isinstance(v, dict) and "Human" in v
        for k, v in chat.items())


def is_marked_turns(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return _is_baize(obj) or _is_moss(obj)


def _baize(text: str) -> list[dict[str, Any]]:
    parts = _BAIZE.split(text)
    head = parts[0].strip()
    messages: list[dict[str, Any]] = []
    if head and head != _BAIZE_HEADER:
        messages.append({"role": "system", "content": head})
    turns = [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]
    while turns and turns[-1] == ("Human", ""):
        turns.pop()  # the open cue for the next human turn
    expected = "Human"
    for speaker, body in turns:
        if speaker != expected or not body:
            raise ConvertProblem("data_type", f"the Baize transcript has {'an empty' if not body else 'a second'} "
                                 f"[|{speaker}|] turn where a [|{expected}|] turn belongs (turns alternate from "
                                 "[|Human|], each with text)")
        messages.append({"role": "user" if speaker == "Human" else "assistant", "content": body})
        expected = "AI" if speaker == "Human" else "Human"
    return messages


def _moss_text(value: Any) -> str | None:
    """The text of one MOSS field without its ``<|Name|>:`` opener and ``<eo?>`` closer; None for "None"."""
    if not isinstance(value, str):
        return None
    match = _MOSS_MARK.match(value)
    text = (match.group(1) if match else value).strip()
    return None if text in ("", "None") else text


def _moss(obj: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    system = obj.get("meta_instruction")
    if isinstance(system, str) and system.strip():
        messages.append({"role": "system", "content": system.strip()})
    chat = obj["chat"]
    for key in sorted(chat, key=lambda k: int(_MOSS_TURN.fullmatch(k).group(1))):  # type: ignore[union-attr]
        turn = chat[key]
        command = _moss_text(turn.get("Commands"))
        if command is not None:
            raise ConvertProblem("tool_calls_as_text", f"{key} runs a MOSS plugin ({command[:60]!r}): its call and "
                                 "results are written as text in MOSS's own syntax, which a tuned model would learn "
                                 "as prose; convert them to tool_calls and tool messages, or leave the "
                                 "conversation_with_plugins files out")
        messages.append({"role": "user", "content": _moss_text(turn.get("Human")) or ""})
        answer: dict[str, Any] = {"role": "assistant", "content": _moss_text(turn.get("MOSS")) or ""}
        thoughts = _moss_text(turn.get("Inner Thoughts"))
        if thoughts is not None:
            answer["reasoning"] = thoughts
        messages.append(answer)
    return messages


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    messages = _baize(obj["input"]) if _is_baize(obj) else _moss(obj)
    return [(None, {"messages": messages}, None)]
