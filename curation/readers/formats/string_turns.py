"""UltraChat: ``{"id", "data": ["user text", "assistant text", ...]}``, plain strings that alternate,
user first. Matched only when ``data`` is a non-empty list of strings, so other uses of a ``data`` key
are left alone."""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import convert_turns
from curation.readers.mapping import FieldMapping

NAME = "string_turns"
KEYS = frozenset({"data"})


def is_string_turns(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    data = obj.get("data")
    return isinstance(data, list) and bool(data) and all(isinstance(t, str) for t in data)


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    return [(None, {"messages": convert_turns(obj["data"], mapping)}, None)]  # strings alternate, user first
