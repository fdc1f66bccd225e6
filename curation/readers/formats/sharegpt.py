"""ShareGPT: ``{"conversations": [{"from": "human", "value": ...}, ...], "tools"?, "system"?}``.

Also ``conversation`` (singular) holding the turns, as LMSYS-Chat-1M writes it, and ``texts`` holding exchanges
``{"user", "assistant", "source"}`` beside the row's ``images``, as HuggingFaceM4's the_cauldron and Docmatix do
(one conversation about the images; each exchange read alone lost the images and the turns before it).

Covers FastChat, axolotl and LLaMA-Factory (``function_call`` / ``observation`` turns, ``tools`` as a JSON
string). Unknown speaker names (axolotl's ``Customer``) are kept for the checks to report, or mapped
through ``FieldMapping.roles``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import add_tools, conversation_lists, convert_turns
from curation.readers.mapping import FieldMapping

NAME = "sharegpt"
KEYS = frozenset({"conversations", "conversation", "tools", "texts"})


def is_sharegpt(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    # `conversation` (singular, a list of turns): LMSYS-Chat-1M, and French sets with UTILISATEUR/ASSISTANT roles.
    return "conversations" in obj or isinstance(obj.get("conversation"), list) or _exchanges(obj) is not None


def _exchanges(obj: dict[str, Any]) -> list[dict[str, Any]] | None:
    texts = obj.get("texts")
    if isinstance(texts, list) and texts and all(
            isinstance(t, dict) and isinstance(t.get("user"), str) and isinstance(t.get("assistant"), str)
            for t in texts):
        return texts
    return None


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    turns = obj["conversations"] if "conversations" in obj else obj.get("conversation", _exchanges(obj))
    out = []
    for chat in conversation_lists(turns) or [turns]:
        body: dict[str, Any] = {"messages": convert_turns(chat, mapping)}
        add_tools(body, obj, mapping)
        out.append((None, body, None))
    return out
