"""Prompt-completion (TRL): ``{"prompt", "completion"}`` as strings or as message lists."""

from __future__ import annotations

from typing import Any

from curation.readers.formats import chat_text
from curation.readers.formats._common import convert_turns
from curation.readers.mapping import FieldMapping

NAME = "prompt_completion"
KEYS = frozenset({"prompt", "completion"})


def is_prompt_completion(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return "prompt" in obj and "completion" in obj


def as_messages(value: Any, role: str, mapping: FieldMapping | None) -> list[Any]:
    """A string becomes one message with ``role``; a list of turns is converted; a dict is one turn."""
    if isinstance(value, list):
        return convert_turns(value, mapping)
    if isinstance(value, dict):
        return convert_turns([value], mapping)
    return [{"role": role, "content": value}]


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    # A prompt already rendered with a chat template holds its turns in markup: read them, not the markup.
    messages = chat_text.rendered_turns(obj["prompt"], obj["completion"], mapping) or [
        *as_messages(obj["prompt"], "user", mapping), *as_messages(obj["completion"], "assistant", mapping)]
    return [(None, {"messages": messages}, None)]
