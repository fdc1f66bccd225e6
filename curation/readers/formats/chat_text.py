"""Conversations already rendered into one ``text`` field with a chat template's markup.

Recognised (the markup is unambiguous, so parsing it loses nothing): ChatML (``<|im_start|>role ...
<|im_end|>``), Llama 3 (``<|start_header_id|>role<|end_header_id|> ... <|eot_id|>``), Llama 2
(``<s>[INST] <<SYS>>...<</SYS>> q [/INST] a </s>``) and the ``### Human: ... ### Assistant: ...`` style
of openassistant-guanaco. A ``text`` without such markup is pretraining text, not a conversation, and is
reported as such by the reader.
"""

from __future__ import annotations

import re
from typing import Any

from curation.readers.formats._common import map_role
from curation.readers.mapping import FieldMapping

NAME = "chat_text"
KEYS = frozenset({"text"})

_CHATML = re.compile(r"<\|im_start\|>\s*(\w+)\s*\n(.*?)(?:<\|im_end\|>|(?=<\|im_start\|>)|\Z)", re.S)
_LLAMA3 = re.compile(
    r"<\|start_header_id\|>\s*(\w+)\s*<\|end_header_id\|>\s*(.*?)(?:<\|eot_id\|>|(?=<\|start_header_id\|>)|\Z)", re.S)
_LLAMA2 = re.compile(r"\[INST\](.*?)\[/INST\](.*?)(?:</s>|(?=<s>\s*\[INST\])|(?=\[INST\])|\Z)", re.S)
_LLAMA2_SYS = re.compile(r"<<SYS>>(.*?)<</SYS>>", re.S)
_HASH_TURN = re.compile(r"\s*###\s*(Human|Assistant|User|Bot)\s*:\s*", re.I)

def style(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    if "<|im_start|>" in text:
        return "chatml"
    if "<|start_header_id|>" in text:
        return "llama3"
    if "[INST]" in text and "[/INST]" in text:
        return "llama2"
    if re.search(r"###\s*(Human|User)\s*:", text, re.I) and re.search(r"###\s*(Assistant|Bot)\s*:", text, re.I):
        return "hash"
    return None


def is_chat_text(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return style(obj.get("text")) is not None


def _tagged(pattern: re.Pattern[str], text: str, mapping: FieldMapping | None) -> list[dict[str, Any]]:
    return [{"role": map_role(role, mapping), "content": body.strip()} for role, body in pattern.findall(text)]


def _llama2(text: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for user, answer in _LLAMA2.findall(text):
        system = _LLAMA2_SYS.search(user)
        if system:
            if not messages:
                messages.append({"role": "system", "content": system.group(1).strip()})
            user = _LLAMA2_SYS.sub("", user)
        messages.append({"role": "user", "content": user.strip()})
        if answer.strip():
            messages.append({"role": "assistant", "content": answer.strip()})
    return messages


def _hash(text: str) -> list[dict[str, Any]]:
    parts = _HASH_TURN.split(text)
    messages: list[dict[str, Any]] = []
    for i in range(1, len(parts) - 1, 2):
        role = "user" if parts[i].lower() in ("human", "user") else "assistant"
        messages.append({"role": role, "content": parts[i + 1].strip()})
    return messages


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    text = obj["text"]
    kind = style(text)
    if kind == "chatml":
        messages = _tagged(_CHATML, text, mapping)
    elif kind == "llama3":
        messages = _tagged(_LLAMA3, text, mapping)
    elif kind == "llama2":
        messages = _llama2(text)
    else:
        messages = _hash(text)
    return [(None, {"messages": messages}, None)]
