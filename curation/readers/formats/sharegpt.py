"""ShareGPT: ``{"conversations": [{"from": "human", "value": ...}, ...], "tools"?, "system"?}``.

Also ``conversation`` (singular) holding the turns, as LMSYS-Chat-1M writes it.

Covers FastChat, axolotl and LLaMA-Factory (``function_call`` / ``observation`` turns, ``tools`` as a JSON
string). Unknown speaker names (axolotl's ``Customer``) are kept for the checks to report, or mapped
through ``FieldMapping.roles``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import add_tools, conversation_lists, convert_turns
from curation.readers.mapping import FieldMapping

NAME = "sharegpt"
KEYS = frozenset({"conversations", "conversation", "tools"})


def is_sharegpt(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    # `conversation` (singular, a list of turns): LMSYS-Chat-1M, and French sets with UTILISATEUR/ASSISTANT roles.
    return "conversations" in obj or isinstance(obj.get("conversation"), list)


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    turns = obj["conversations"] if "conversations" in obj else obj["conversation"]
    out = []
    for chat in conversation_lists(turns) or [turns]:
        body: dict[str, Any] = {"messages": convert_turns(chat, mapping)}
        add_tools(body, obj, mapping)
        out.append((None, body, None))
    return out
