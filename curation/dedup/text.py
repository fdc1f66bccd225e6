"""The text that identifies a record for deduplication, and its exact-duplicate key.

What counts (documented decision):
- every message's text in reading order, each line tagged with its role, so that a user turn and an
  identical assistant turn are not the same conversation;
- an assistant's tool calls (function name and arguments), since two tool-use examples that call
  different functions teach different things;
- an assistant's reasoning (``reasoning``), since the same answer with and without a reasoning trace teach
  different things (xtuner's qwen35 test data holds each answer both ways);
- for a preference pair: prompt, chosen *and* rejected. Pairs that share prompt and chosen but differ in
  the rejected answer are common on purpose (one prompt, several ranked answers, as UltraFeedback builds
  them): each carries a distinct negative, so dropping them would lose signal.

What does not count: ``id``, ``metadata``, ``weight`` and ``name``.

Near-duplicate detection compares what differs between conversations (``near_text``): system and developer
prompts and the ``tools`` schema list are left out, because real data sets put the same long system prompt
and the same tool list on every line (the cookbook's drone_training.jsonl: one prompt and 16 functions on
all 103 records, whose user asks and function calls all differ). Compared with them, 95 of its 103 records
were "near duplicates" of one; without them no pair reaches 0.7. They still count for *exact* duplicates
(``exact_text``): the same conversation under another system prompt or tool list is a different example.
"""

from __future__ import annotations

from typing import Any

import orjson
import xxhash

from curation.dedup.shingles import fold_text, fold_texts
from curation.records import is_preference, message_text

_INSTRUCTION_ROLES = frozenset({"system", "developer"})


def _walk_lines(messages: Any, prefix: str, every: list[str] | None, near: list[str] | None) -> None:
    """Append each message's role-tagged line to ``every`` and, unless it is a system or developer turn, to
    ``near`` (either may be None): one walk builds the exact and the near text."""
    if not isinstance(messages, list):
        return
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role") or ""
        instruction = isinstance(role, str) and role in _INSTRUCTION_ROLES
        if instruction and every is None:
            continue
        text = message_text(message)
        content = message.get("content")
        if type(content) is list:
            # an image is content: two questions about different pictures are different examples
            for part in content:
                image = part.get("image_url") if isinstance(part, dict) and part.get("type") == "image_url" else None
                url = image.get("url") if isinstance(image, dict) else image
                if isinstance(url, str):
                    text += f"\n[image {url[:200]}]"
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    text += f"\n{function.get('name') or ''}({function.get('arguments') or ''})"
        legacy = message.get("function_call")
        if isinstance(legacy, dict):
            text += f"\n{legacy.get('name') or ''}({legacy.get('arguments') or ''})"
        reasoning = message.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            # the same answer with and without its reasoning are two examples: one teaches the model to think
            text = f"[reasoning] {reasoning}\n{text}"
        line = f"{prefix}{role}: {text}"
        if every is not None:
            every.append(line)
        if near is not None and not instruction:
            near.append(line)


def _walk_record(record: dict[str, Any], every: list[str] | None, near: list[str] | None) -> None:
    if is_preference(record):
        _walk_lines(record.get("prompt"), "", every, near)
        _walk_lines(record.get("chosen"), "chosen ", every, near)
        _walk_lines(record.get("rejected"), "rejected ", every, near)
    else:
        _walk_lines(record.get("messages"), "", every, near)


def dedup_text(record: dict[str, Any], *, skip_instructions: bool = False) -> str:
    """Role-tagged message texts of a record in order (see the module docstring for what is left out);
    ``skip_instructions`` leaves out system and developer turns."""
    lines: list[str] = []
    if skip_instructions:
        _walk_record(record, None, lines)
    else:
        _walk_record(record, lines, None)
    return "\n".join(lines)


def near_text(record: dict[str, Any]) -> str:
    """What near-duplicate detection compares: the conversation without system/developer prompts and tools."""
    return dedup_text(record, skip_instructions=True)


def _with_tools(text: str, record: dict[str, Any]) -> str:
    tools = record.get("tools")
    if tools:
        try:
            text += "\ntools: " + orjson.dumps(tools, option=orjson.OPT_SORT_KEYS).decode()
        except (TypeError, orjson.JSONEncodeError):
            text += "\ntools: " + repr(tools)
    return text


def exact_text(record: dict[str, Any]) -> str:
    """What exact dedup compares: every message (system prompt included) plus the tools schema list."""
    return _with_tools(dedup_text(record), record)


def exact_and_near_text(record: dict[str, Any]) -> tuple[str, str]:
    """``(exact_text(record), near_text(record))`` from one walk over the messages (the runner needs both)."""
    every: list[str] = []
    near: list[str] = []
    _walk_record(record, every, near)
    return _with_tools("\n".join(every), record), "\n".join(near)


def user_turn_texts(record: dict[str, Any]) -> list[str]:
    """The texts of a record's user turns (a preference pair's prompt included): what decontamination
    compares with evaluation items, which are usually embedded as one user turn."""
    messages = record.get("prompt") if is_preference(record) else record.get("messages")
    if not isinstance(messages, list):
        return []
    return [message_text(m) for m in messages if isinstance(m, dict) and m.get("role") == "user"]


def normalise_for_exact(text: str) -> str:
    """NFKC, casefold, every run of whitespace to one space, stripped: whitespace and case variants
    (and full-width/half-width forms) of one text become the same string."""
    # fold_text equals NFKC+casefold, ~10x faster than unicodedata.normalize on CJK text (shingles.py)
    return collapse_spaces(fold_text(text))


def exact_key(text: str) -> bytes:
    """A 16-byte key (xxh3-128) of the normalised text: collision odds ~2^-64 at a billion records."""
    return xxhash.xxh3_128_digest(normalise_for_exact(text).encode("utf-8"))


def exact_keys(texts: list[str]) -> list[bytes]:
    """``[exact_key(t) for t in texts]``, folding the whole batch at once (2-3x cheaper on non-ASCII text)."""
    digest = xxhash.xxh3_128_digest
    return [digest(collapse_spaces(folded).encode("utf-8")) for folded in fold_texts(texts)]


def collapse_spaces(text: str) -> str:
    """``" ".join(text.split())`` without building one string per word (~80 ns each, 13 us on 150 words).

    Newlines, tabs and carriage returns become spaces (a few C-speed replaces); if no other whitespace is
    left (``isprintable`` is False for every whitespace character but the space), runs of spaces are halved
    until none is left and the ends stripped, which is what split-and-join does; otherwise split-and-join."""
    for space in ("\n", "\t", "\r"):
        if space in text:
            text = text.replace(space, " ")
    if not text.isprintable():
        return " ".join(text.split())
    while "  " in text:
        text = text.replace("  ", " ")
    return text.strip(" ")
