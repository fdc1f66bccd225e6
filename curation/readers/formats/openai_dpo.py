"""OpenAI DPO fine-tuning format: ``{"input": {"messages", "tools"?}, "preferred_output", "non_preferred_output"}``."""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import normalize_tools
from curation.readers.formats.openai import fix_messages
from curation.readers.mapping import FieldMapping

NAME = "openai_dpo"
KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})


def is_openai_dpo(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return "input" in obj and "preferred_output" in obj and "non_preferred_output" in obj


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    source = obj["input"] if isinstance(obj["input"], dict) else {"messages": obj["input"]}
    body: dict[str, Any] = {
        "prompt": fix_messages(source.get("messages"), mapping),
        "chosen": fix_messages(obj["preferred_output"], mapping),
        "rejected": fix_messages(obj["non_preferred_output"], mapping),
    }
    tools = normalize_tools(source.get("tools"))
    if tools is not None:
        body["tools"] = tools
    if source.get("parallel_tool_calls") is not None:
        body["parallel_tool_calls"] = source["parallel_tool_calls"]
    return [(None, body, None)]
