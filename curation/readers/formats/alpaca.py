"""Alpaca: ``{"instruction", "input"? | "context"?, "output" | "response", "system"?, "history"?}``.

``context`` is Dolly's name for the input (the passage a closed-QA or summarisation answer rests on).

The user turn is the instruction, followed by the input after a blank line when there is one; ``history``
pairs ``[[question, answer], ...]`` (LLaMA-Factory) come before it.
"""

from __future__ import annotations

import re
from typing import Any

from curation.readers.formats._common import history_messages
from curation.readers.formats.chat_text import history_in_text
from curation.readers.mapping import FieldMapping

NAME = "alpaca"
KEYS = frozenset({"instruction", "input", "context", "output", "response", "history"})


def is_alpaca(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return "instruction" in obj and ("output" in obj or "response" in obj)


# What an input means when there is none: self-instruct's and code_alpaca's "<noinput>" / "< noinput >".
_NO_INPUT = re.compile(r"\s*<\s*no[ _-]?input\s*>\s*", re.I)


def blank(value: Any) -> Any:
    """pandas writes a missing cell as the text "nan" when a column goes through ``astype(str)``; as an input it
    means nothing was there, and kept it would put "nan" in the prompt. Exactly "nan": "Nan" is a word. So do
    the self-instruct placeholders ``<noinput>`` (code_alpaca writes ``< noinput >``)."""
    if value == "nan":
        return ""
    if isinstance(value, str) and "<" in value and _NO_INPUT.fullmatch(value):
        return ""
    return value


def user_text(instruction: Any, input_: Any) -> Any:
    """Instruction plus input, the way Alpaca's own prompt joins them (blank line between)."""
    input_ = blank(input_)
    if isinstance(input_, str) and input_.strip() and isinstance(instruction, str):
        return f"{instruction}\n\n{input_}"
    return instruction


def _input(obj: dict[str, Any]) -> Any:
    """``input`` and ``context`` (both kept when a record has both, input first)."""
    texts = [v for v in map(blank, (obj.get("input"), obj.get("context"))) if isinstance(v, str) and v.strip()]
    if len(texts) == 2:
        return "\n\n".join(texts)
    return texts[0] if texts else obj.get("input")


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    output = obj["output"] if "output" in obj else obj.get("response")
    dialogue = history_in_text(obj.get("instruction"))
    if dialogue is not None:
        extra = _input(obj)
        if isinstance(extra, str) and extra.strip():
            dialogue[-1]["content"] = f"{dialogue[-1]['content']}\n\n{extra}"
        messages = [*history_messages(obj.get("history")), *dialogue, {"role": "assistant", "content": output}]
        return [(None, {"messages": messages}, None)]
    messages = [
        *history_messages(obj.get("history")),
        {"role": "user", "content": user_text(obj.get("instruction"), _input(obj))},
        {"role": "assistant", "content": output},
    ]
    return [(None, {"messages": messages}, None)]
