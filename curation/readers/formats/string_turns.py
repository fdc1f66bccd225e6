"""Plain strings that alternate, user first: UltraChat's ``{"id", "data": [...]}`` and DailyDialog's
``{"dialog": [...], "act": [...], "emotion": [...]}`` (also ``dialogue``). Matched only when
the list is non-empty and holds only strings, so other uses of those keys are left alone."""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import convert_turns
from curation.readers.mapping import FieldMapping

NAME = "string_turns"
# Not ``turns``: MT-Bench and other prompt-only benchmarks list the user's questions there, with no answers.
TURN_KEYS = ("data", "dialog", "dialogue")
KEYS = frozenset(TURN_KEYS)


def _key(obj: dict[str, Any]) -> str | None:
    for key in TURN_KEYS:
        turns = obj.get(key)
        if isinstance(turns, list) and turns and all(isinstance(t, str) for t in turns):
            return key
    return None


_TURN_SET = frozenset(TURN_KEYS)


def is_string_turns(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return not _TURN_SET.isdisjoint(obj) and _key(obj) is not None


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    key = _key(obj)
    assert key is not None
    return [(None, {"messages": convert_turns(obj[key], mapping)}, None)]  # strings alternate, user first
