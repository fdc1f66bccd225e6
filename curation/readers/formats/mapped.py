"""Any other chat layout, read through a user's ``FieldMapping`` (turns field, role and content keys)."""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import add_tools, convert_turns
from curation.readers.mapping import FieldMapping

NAME = "mapped"
KEYS = frozenset({"tools"})


def is_mapped(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return mapping is not None and mapping.messages is not None and mapping.messages in obj


def keys(mapping: FieldMapping | None) -> frozenset[str]:
    extra = {mapping.messages, mapping.tools} - {None} if mapping is not None else set()
    return KEYS | frozenset(extra)  # type: ignore[arg-type]


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    assert mapping is not None and mapping.messages is not None
    body: dict[str, Any] = {"messages": convert_turns(obj[mapping.messages], mapping)}
    add_tools(body, obj, mapping)
    return [(None, body, None)]
