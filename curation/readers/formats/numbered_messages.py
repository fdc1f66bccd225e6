"""A conversation stored as numbered top-level keys, ``message_1`` ... ``message_N``, each one message dict:
CAMEL's role-playing sets (``ai_society``, ``code``), where ``message_1`` is the AI user's instruction
(``role_type: USER``) and the AI assistant answers in ``message_2``. Their task texts (``original_task``,
``specified_task``), role names and termination reason stay as fields.

The numbered single-exchange files of CAMEL's ``math``/``physics`` sets hold plain strings under
``message_1``/``message_2`` and are read by ``pairs``.
"""

from __future__ import annotations

import re
from typing import Any

from curation.readers.formats._common import convert_turns
from curation.readers.mapping import FieldMapping

NAME = "numbered_messages"
_MAX = 1000  # CAMEL stops a chat at 40 messages by default; past this the keys stay as fields
_NUMBERED = re.compile(r"message_([1-9][0-9]*)")
KEYS = frozenset({f"message_{n}" for n in range(1, _MAX + 1)} | {"num_messages"})
_SPEAKER_KEYS = ("role_type", "role")


def _is_message(value: Any) -> bool:
    return type(value) is dict and "content" in value and any(type(value.get(k)) is str for k in _SPEAKER_KEYS)


def is_numbered_messages(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return "message_1" in obj and _is_message(obj["message_1"]) and _is_message(obj.get("message_2"))


def _numbered(obj: dict[str, Any]) -> list[tuple[int, Any]]:
    found = []
    for key, value in obj.items():
        match = _NUMBERED.fullmatch(key)
        if match is not None and int(match.group(1)) <= _MAX:
            found.append((int(match.group(1)), value))
    return sorted(found, key=lambda pair: pair[0])


def _turn(message: Any) -> Any:
    if type(message) is not dict:
        return message  # for the checks to name
    speaker = next((k for k in _SPEAKER_KEYS if type(message.get(k)) is str), None)
    if speaker is None:
        return message
    rest = {k: v for k, v in message.items() if k not in _SPEAKER_KEYS and k != "content" and v is not None}
    return {"role": message[speaker], "content": message["content"], **rest}


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    turns = [_turn(message) for _, message in _numbered(obj)]
    return [(None, {"messages": convert_turns(turns, mapping)}, None)]
