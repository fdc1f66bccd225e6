"""ShareGPT: ``{"conversations": [{"from": "human", "value": ...}, ...], "tools"?, "system"?}``.

Covers FastChat, axolotl and LLaMA-Factory (``function_call`` / ``observation`` turns, ``tools`` as a JSON
string). Unknown speaker names (axolotl's ``Customer``) are kept for the checks to report, or mapped
through ``FieldMapping.roles``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import add_tools, convert_turns
from curation.readers.mapping import FieldMapping

NAME = "sharegpt"
KEYS = frozenset({"conversations", "tools"})


def is_sharegpt(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return "conversations" in obj


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    body: dict[str, Any] = {"messages": convert_turns(obj["conversations"], mapping)}
    add_tools(body, obj, mapping)
    return [(None, body, None)]
