"""Hypothesis strategies for record-shaped JSON, shared by the property tests of readers, checks and stages.

Cheap on purpose: hypothesis draws one integer and a plain ``random.Random`` seeded by it builds the value
(hypothesis's own recursive strategies cost ~5 ms an example; this costs ~50 us), so 2,000 examples per
target stay within seconds. Keys come from every input format's vocabulary so converters and checks see
near-valid records, and values from every JSON type so that each ``isinstance`` assumption is tried.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
from hypothesis import strategies as st

KEYS = [
    "messages", "role", "content", "name", "tool_calls", "tool_call_id", "function_call", "function", "arguments",
    "id", "type", "text", "image_url", "url", "weight", "tools", "parallel_tool_calls", "metadata", "system",
    "conversations", "from", "value", "instruction", "input", "output", "prompt", "completion", "chosen",
    "rejected", "preferred_output", "non_preferred_output", "instances", "history", "message_id", "parent_id",
    "replies", "lang", "x",
]
ROLES = ["user", "assistant", "system", "tool", "function", "developer", "human", "gpt", "User", "bot", ""]
TEXTS = ["", " ", "hi", "hello there, how are you?", "<|endoftext|>", "{{name}}", "[INSERT]", "a@b.co", "```x```",
         "\u0000", "日本語のテキスト", "sk-" + "a" * 24, "call +1 415 555 0100", "\t\n", "text" * 30, '{"a": 1}',
         "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----", "1.2.3.4", "x" * 3]
SCALARS: list[Any] = [None, True, False, 0, 1, -1, 2.5, 1e300, "", "type", "text", "function", "image_url"]
FORMATS = ["openai", "sharegpt", "alpaca", "pair", "openai_dpo", "prompt", "oasst", "any"]


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth >= 3 or roll < 0.45:
        return rng.choice(SCALARS) if rng.random() < 0.5 else rng.choice(TEXTS + ROLES)
    if roll < 0.7:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randrange(4))}


def _maybe(rng: random.Random, good: Any, depth: int = 1) -> Any:
    """Mostly the well-formed value, sometimes any JSON value in its place."""
    return good if rng.random() < 0.8 else _value(rng, depth)


def _message(rng: random.Random) -> Any:
    if rng.random() < 0.08:
        return _value(rng, 2)
    msg: dict[str, Any] = {"role": _maybe(rng, rng.choice(ROLES)), "content": _maybe(rng, rng.choice(TEXTS))}
    if rng.random() < 0.15:
        call = {"id": _maybe(rng, "c1"), "type": "function",
                "function": _maybe(rng, {"name": _maybe(rng, "f"), "arguments": _maybe(rng, '{"q": "x"}')})}
        msg["tool_calls"] = _maybe(rng, [call])
    if rng.random() < 0.1:
        msg["tool_call_id"] = _maybe(rng, "c1")
    if rng.random() < 0.15:
        msg[rng.choice(KEYS)] = _value(rng, 2)
    return msg


def _messages(rng: random.Random) -> list[Any]:
    return [_message(rng) for _ in range(rng.randrange(6))]


def make_record(seed: int) -> dict[str, Any]:
    """A dict that looks like one of the input formats, with random damage."""
    rng = random.Random(seed)
    shape = rng.choice(FORMATS)
    if shape == "openai":
        rec: dict[str, Any] = {"messages": _maybe(rng, _messages(rng))}
    elif shape == "sharegpt":
        rec = {"conversations": _maybe(rng, [{"from": _maybe(rng, rng.choice(ROLES)), "value": _maybe(rng, rng.choice(
            TEXTS))} for _ in range(rng.randrange(4))])}
    elif shape == "alpaca":
        rec = {"instruction": _maybe(rng, rng.choice(TEXTS)), "output": _maybe(rng, rng.choice(TEXTS))}
    elif shape == "pair":
        rec = {"prompt": _maybe(rng, _messages(rng)), "chosen": _maybe(rng, _messages(rng)),
               "rejected": _maybe(rng, _messages(rng))}
    elif shape == "openai_dpo":
        rec = {"input": _maybe(rng, {"messages": _messages(rng)}), "preferred_output": _maybe(rng, _messages(rng)),
               "non_preferred_output": _maybe(rng, _messages(rng))}
    elif shape == "prompt":
        rec = {"prompt": _maybe(rng, rng.choice(TEXTS)), "completion": _maybe(rng, rng.choice(TEXTS))}
    elif shape == "oasst":
        rec = {"message_id": "m", "text": _maybe(rng, "hi"), "role": _maybe(rng, "prompter"),
               "replies": _maybe(rng, [{"message_id": "r", "text": "yo", "role": "assistant", "replies": []}])}
    else:
        rec = {rng.choice(KEYS): _value(rng, 1) for _ in range(rng.randrange(5))}
    for _ in range(rng.randrange(3) if rng.random() < 0.3 else 0):
        rec[rng.choice(KEYS)] = _value(rng, 1)
    return rec


def _encode(value: object) -> bytes:
    return orjson.dumps(value)


def make_file(seed: int) -> bytes:
    """JSONL/JSON file contents: records, arrays of them, and damaged variants (cut, stray bytes, BOM)."""
    rng = random.Random(seed)
    records = [make_record(rng.randrange(1 << 30)) for _ in range(rng.randrange(4))]
    layout = rng.choice(["jsonl", "array", "pretty", "pretty_array"])
    if layout == "jsonl":
        data = b"".join(_encode(r) + b"\n" for r in records)
    elif layout == "array":
        data = _encode(records)
    elif layout == "pretty":
        data = orjson.dumps(records[0] if records else {}, option=orjson.OPT_INDENT_2)
    else:
        data = orjson.dumps(records, option=orjson.OPT_INDENT_2)
    how = rng.choice(["keep", "cut", "insert", "insert", "bom"])
    if how == "cut" and data:
        data = data[: rng.randrange(len(data) + 1)]
    elif how == "insert":
        at = rng.randrange(len(data) + 1)
        data = data[:at] + rng.choice([b"}", b"]", b"[", b"{", b",", b'"', b"\n", b"\x00", b"\xff", b"\\"]) + data[at:]
    elif how == "bom":
        data = b"\xef\xbb\xbf" + data
    return data


def make_payload(seed: int) -> Any:
    """What the container layer hands the converter: a raw line, a table row dict, or any value."""
    rng = random.Random(seed)
    kind = rng.random()
    if kind < 0.4:
        return make_file(seed).split(b"\n")[0] if rng.random() < 0.5 else _encode(make_record(seed))
    if kind < 0.85:
        return make_record(seed)
    if kind < 0.95:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(12)))
    return _value(rng)


SEEDS = st.integers(min_value=0, max_value=(1 << 32) - 1)
records = SEEDS.map(make_record)
files = SEEDS.map(make_file)
payloads = SEEDS.map(make_payload)
