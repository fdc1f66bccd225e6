"""Converting canonical messages into the OpenAI chat shape and its close relatives (Azure, Together, Mistral).

One function per level (message, conversation, preference pair), parameterised by :class:`ChatRules`:
which roles the provider takes, where weights may sit, whether tools exist, whether turns must alternate.
Every departure from the canonical record is named in ``flags`` (codes in :mod:`.issues`); a record that
cannot be written returns None and at least one error flag.
"""

from __future__ import annotations

import base64
import hashlib
import re
import string
from dataclasses import dataclass
from typing import Any

import orjson

from ..records import has_image, message_text
from .base import find_reserved

_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class ChatRules:
    roles: frozenset[str] = frozenset({"system", "user", "assistant", "tool", "function"})
    weight_roles: frozenset[str] = frozenset({"assistant"})
    image_roles: frozenset[str] = frozenset({"user"})
    tools: bool = True
    function_call: bool = True  # the legacy functions/function_call shape
    alternate: bool = False  # user/assistant must alternate after an optional leading system message
    end_with_assistant: bool = False
    mistral_ids: bool = False  # tool-call ids must be 9 characters of [a-zA-Z0-9]
    reasoning_key: str | None = None  # where assistant reasoning goes (Together: "reasoning"); None: dropped
    function_descriptions: bool = False  # every tool function needs a description (mistral-finetune)
    dpo_single_output: bool = False  # preferred/non-preferred: exactly one assistant message (Together)
    parallel_tool_calls: bool = True  # the OpenAI top-level key (Together documents only `tools`)
    # OpenAI vision fine-tuning: at most 10 images per example, 10 MB each (Azure: 64 images, 10 MB); an image
    # given as a data URL is measured, a URL is not (its size is only known to the provider)
    max_images: int | None = None
    max_image_bytes: int | None = None
    image_data_only: bool = False  # images as base64 data URLs only (Together)
    # the image types a data URL may hold (OpenAI's and Azure's vision fine-tuning: JPEG, PNG, WEBP); None: any
    image_types: frozenset[str] | None = None


_VISION_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/webp"})
OPENAI_RULES = ChatRules(max_images=10, max_image_bytes=10 * 1024 * 1024, image_types=_VISION_TYPES)
AZURE_RULES = ChatRules(max_images=64, max_image_bytes=10 * 1024 * 1024, image_types=_VISION_TYPES)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def _data_url_ok(url: str, rules: ChatRules) -> str | None:
    """The reason code a data URL is refused with under ``rules``, or None: its type, and base64 that decodes."""
    head, _, payload = url.partition(",")
    media = head[len("data:"):].split(";")[0].strip().lower()
    if rules.image_types is not None and media not in rules.image_types:
        return "image_format"
    payload = "".join(payload.split())  # line-wrapped base64 is still base64
    if ";base64" in head.lower():
        if len(payload) % 4 or not _BASE64.fullmatch(payload):
            return "image_format"
        # the bytes must be the type the URL says: PNG bytes labelled image/jpeg are refused by the provider
        magic = base64.b64decode(payload[:16])
        said = _MAGIC.get(media)
        if rules.image_types is not None and said is not None and not said(magic):
            return "image_format"
    return None


_MAGIC = {
    "image/png": lambda b: b.startswith(b"\x89PNG"),
    "image/jpeg": lambda b: b.startswith(b"\xff\xd8\xff"),
    "image/jpg": lambda b: b.startswith(b"\xff\xd8\xff"),
    "image/webp": lambda b: b.startswith(b"RIFF") and b[8:12] == b"WEBP",
}


def mistral_id(original: Any, salt: str) -> str:
    """A deterministic 9-character alphanumeric id for a tool call (Mistral refuses any other shape)."""
    text = str(original)
    if len(text) == 9 and text.isascii() and text.isalnum():
        return text
    digest = int.from_bytes(hashlib.sha1(f"{salt}\x00{text}".encode()).digest()[:8], "big")
    chars = []
    for _ in range(9):
        digest, rest = divmod(digest, 62)
        chars.append(_ALNUM[rest])
    return "".join(chars)


def _arguments(value: Any, flags: set[str]) -> str:
    if isinstance(value, str):
        try:
            orjson.loads(value)
        except orjson.JSONDecodeError:
            flags.add("arguments_not_json")
        return value
    flags.add("arguments_serialised")
    return orjson.dumps(value if value is not None else {}).decode()


def convert_message(
    message: Any, rules: ChatRules, flags: set[str], ids: dict[str, str] | None = None, salt: str = ""
) -> dict[str, Any] | None:
    """One canonical message in the OpenAI chat shape (keys in the documented order), or None."""
    if not isinstance(message, dict):
        flags.add("missing_content")
        return None
    role = message.get("role")
    # Fast path for the common plain turn ({role, content: str[, weight]}): same result, a third of the work.
    content = message.get("content")
    if type(content) is str and content and role in rules.roles and role != "tool" and role != "function":
        n = len(message)
        if n == 2:
            return {"role": role, "content": content}
        if n == 3 and "weight" in message and message["weight"] in (0, 1) and type(message["weight"]) is not bool:
            if role in rules.weight_roles:
                return {"role": role, "content": content, "weight": int(message["weight"])}
            if message["weight"] == 0:
                return {"role": role, "content": content}
    if role == "developer" and "developer" not in rules.roles:
        role = "system"
        flags.add("developer_as_system")
    if role == "function" and ("function" not in rules.roles or not message.get("name")):
        # the legacy role: a provider without it cannot take it, and OpenAI refuses one that names no function
        flags.add("function_call_legacy")
        return None
    if role not in rules.roles:
        flags.add("tools_unsupported" if role == "tool" else "unrecognized_role")
        return None
    out: dict[str, Any] = {"role": role}
    content = message.get("content")
    if isinstance(content, list):
        if has_image(message):
            if role not in rules.image_roles:
                flags.add("image_unsupported")
                return None
            parts = [_part(p) for p in content if isinstance(p, dict)]
            urls = [p["image_url"].get("url") for p in parts if p["type"] == "image_url"]
            if any(not _fetchable(p["image_url"]) for p in parts if p["type"] == "image_url"):
                flags.add("image_local_path")
                return None
            if rules.image_data_only and any(not url.startswith("data:") for url in urls):
                flags.add("image_not_inline")
                return None
            for url in urls:
                problem = _data_url_ok(url, rules) if url.startswith("data:") else None
                if problem is not None:
                    flags.add(problem)
                    return None
            for part in parts:  # a data URL written in lines is one string to a provider
                url = part["image_url"].get("url") if part["type"] == "image_url" else None
                if isinstance(url, str) and url.startswith("data:") and any(c.isspace() for c in url):
                    part["image_url"] = {**part["image_url"], "url": "".join(url.split())}
            out["content"] = parts
        else:  # text-only parts join losslessly into the string OpenAI requires on tool/assistant turns
            out["content"] = message_text(message)
    elif content is not None:
        out["content"] = content if isinstance(content, str) else orjson.dumps(content).decode()
    name = message.get("name")
    if name is not None:
        out["name"] = name
    tool_calls = message.get("tool_calls")
    if tool_calls:
        if not rules.tools:
            flags.add("tools_unsupported")
            return None
        calls = []
        for call in tool_calls:
            call = call if isinstance(call, dict) else {}
            function = call.get("function") if isinstance(call.get("function"), dict) else {}
            call_id = call.get("id")
            if rules.mistral_ids and ids is not None:
                call_id = ids.setdefault(str(call_id), mistral_id(call_id, f"{salt}:{len(ids)}"))
            calls.append(
                {
                    "id": call_id,
                    "type": "function",
                    "function": {
                        "name": function.get("name"),
                        "arguments": _arguments(function.get("arguments"), flags),
                    },
                }
            )
        out["tool_calls"] = calls
    if role == "tool":
        if not rules.tools:
            flags.add("tools_unsupported")
            return None
        call_id = message.get("tool_call_id")
        if not call_id:
            flags.add("tool_missing_call_id")
            return None
        if rules.mistral_ids and ids is not None:
            call_id = ids.setdefault(str(call_id), mistral_id(call_id, f"{salt}:{len(ids)}"))
        out["tool_call_id"] = call_id
    function_call = message.get("function_call")
    if function_call is not None:
        if not rules.function_call:
            flags.add("function_call_legacy")
            return None
        fc = function_call if isinstance(function_call, dict) else {}
        out["function_call"] = {"name": fc.get("name"), "arguments": _arguments(fc.get("arguments"), flags)}
    weight = message.get("weight")
    if weight is not None:
        if weight not in (0, 1) or isinstance(weight, bool):
            flags.add("invalid_weight")
            return None
        if role in rules.weight_roles:
            out["weight"] = int(weight)
        elif weight == 1:
            flags.add("weight_misplaced")  # weight 0 off the assistant means "not trained", which is the default
    if message.get("refusal") is not None:
        flags.add("refusal_dropped")
    reasoning = message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        if rules.reasoning_key is not None and role == "assistant":
            out[rules.reasoning_key] = reasoning
        else:
            flags.add("reasoning_dropped")
    text = out.get("content")
    if not text and not out.get("tool_calls") and not out.get("function_call"):
        # an empty tool result is the tool's own (valid for the run): this file needs text, so its record is left
        # out here with a warning, and the other formats take it
        flags.add("empty_tool_result" if role == "tool" and isinstance(text, str) else "missing_content")
        return None
    if rules.mistral_ids and "tool_calls" in out and "content" not in out:
        out["content"] = ""  # Mistral's validator wants content on every message
    return out


def _fetchable(image: Any) -> bool:
    """Whether a provider can fetch the image: an http(s) URL or inline data, not a path on this machine."""
    url = image.get("url") if isinstance(image, dict) else None
    return isinstance(url, str) and url.startswith(("https://", "http://", "data:"))


def _part(part: dict[str, Any]) -> dict[str, Any]:
    if part.get("type") == "image_url":
        image = part.get("image_url")
        return {"type": "image_url", "image_url": image if isinstance(image, dict) else {"url": image}}
    return {"type": "text", "text": part.get("text") or ""}


def convert_messages(messages: Any, rules: ChatRules, flags: set[str], salt: str = "") -> list[dict[str, Any]] | None:
    if not isinstance(messages, list) or not messages:
        flags.add("missing_messages")
        return None
    ids: dict[str, str] | None = {} if rules.mistral_ids else None
    out = []
    ok = True
    for message in messages:
        converted = convert_message(message, rules, flags, ids, salt)
        if converted is None:
            ok = False
        else:
            out.append(converted)
    if ids and any(k != v for k, v in ids.items()):
        flags.add("tool_call_id_rewritten")
    if ok and (rules.max_images or rules.max_image_bytes) and not _images_fit(out, rules, flags):
        return None
    return out if ok else None


def _images_fit(messages: list[dict[str, Any]], rules: ChatRules, flags: set[str]) -> bool:
    urls = [p["image_url"].get("url") if isinstance(p.get("image_url"), dict) else p.get("image_url")
            for m in messages if isinstance(m.get("content"), list) for p in m["content"]
            if isinstance(p, dict) and p.get("type") == "image_url"]
    if rules.max_images and len(urls) > rules.max_images:
        flags.add("too_many_images")
        return False
    if rules.max_image_bytes:
        for url in urls:
            if isinstance(url, str) and url.startswith("data:") and "," in url:
                encoded = len(url) - url.index(",") - 1
                if encoded * 3 // 4 > rules.max_image_bytes:  # base64: 4 characters per 3 bytes
                    flags.add("image_too_large")
                    return False
    return True


def _alternate(messages: list[dict[str, Any]], flags: set[str]) -> list[dict[str, Any]] | None:
    """Together-style structure: optional system first, then user/assistant strictly alternating."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if (out and out[-1]["role"] == message["role"] and message["role"] != "tool"
                and isinstance(message.get("content"), str) and not out[-1].get("tool_calls")):
            prev = out[-1]
            if message["role"] == "system" or isinstance(prev.get("content"), str):
                merged = dict(prev)
                merged["content"] = f"{prev.get('content') or ''}\n\n{message['content']}"
                if "reasoning" in message:  # (Together's key) both turns' reasoning, in order
                    merged["reasoning"] = "\n\n".join(r for r in (prev.get("reasoning"), message["reasoning"]) if r)
                if "weight" in prev or "weight" in message:
                    merged["weight"] = max(int(prev.get("weight", 1)), int(message.get("weight", 1)))
                out[-1] = merged
                flags.add("merged_consecutive")
                continue
        out.append(message)
    body = out[1:] if out and out[0]["role"] == "system" else out
    if not body or body[0]["role"] != "user":
        flags.add("first_not_user")
        return None
    if any(m["role"] == "system" for m in body):
        flags.add("unrecognized_role")  # a system turn in the middle has no place in an alternating chat
        return None
    return out


def conversation(record: dict[str, Any], rules: ChatRules, flags: set[str]) -> dict[str, Any] | None:
    """An SFT line: ``{"messages", "tools"?, "parallel_tool_calls"?, "functions"?}`` (no id, no metadata)."""
    messages = convert_messages(record.get("messages"), rules, flags, str(record.get("id", "")))
    if messages is None:
        return None
    if rules.alternate:
        messages = _alternate(messages, flags)
        if messages is None:
            return None
    if rules.end_with_assistant:
        while messages and messages[-1]["role"] != "assistant":
            messages.pop()
            flags.add("last_not_assistant")
    if not messages or (messages[-1]["role"] != "assistant" and not any(m["role"] == "assistant" for m in messages)):
        flags.add("example_missing_assistant_message")
        return None
    out: dict[str, Any] = {"messages": messages}
    if not _tools_into(record, out, rules, flags):
        return None
    return out


def _tools_into(record: dict[str, Any], out: dict[str, Any], rules: ChatRules, flags: set[str]) -> bool:
    if "tools" not in record and "functions" not in record and "parallel_tool_calls" not in record:
        return True
    tools = record.get("tools")
    if isinstance(tools, str):  # some sources keep tools as a JSON string (LLaMA-Factory's glaive demo)
        try:
            tools = orjson.loads(tools)
        except orjson.JSONDecodeError:
            tools = None
    if tools:
        if not rules.tools:
            flags.add("tools_unsupported")
            return False
        if isinstance(tools, list) and not all(
            isinstance(t, dict) and isinstance(t.get("function"), dict)
            and _FUNCTION_NAME.fullmatch(str(t["function"].get("name", ""))) for t in tools
        ):
            flags.add("function_name_invalid")
            return False
        if rules.function_descriptions and isinstance(tools, list) and any(
            not (isinstance(t, dict) and isinstance(t.get("function"), dict) and t["function"].get("description"))
            for t in tools
        ):
            flags.add("function_missing_description")
            return False
        if rules.function_descriptions and isinstance(tools, list) and not all(
            _schema_ok(t["function"]) for t in tools
        ):
            flags.add("function_schema_invalid")
            return False
        out["tools"] = tools
    if record.get("parallel_tool_calls") is not None and rules.tools and rules.parallel_tool_calls:
        out["parallel_tool_calls"] = bool(record["parallel_tool_calls"])
    functions = record.get("functions")
    if functions:
        if not rules.function_call:
            flags.add("function_call_legacy")
            return False
        out["functions"] = functions
    return True


_FUNCTION_KEYS = frozenset({"name", "description", "parameters", "strict"})
# The function names the provider APIs take (OpenAI's pattern; Mistral's and Together's are the same or wider).
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_JSON_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})


def _types_ok(schema: Any) -> bool:
    """Every ``type`` in a JSON Schema names a JSON Schema type (``dict``/``str`` are Python names)."""
    if isinstance(schema, dict):
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
        if any(not isinstance(k, str) or k not in _JSON_TYPES for k in kinds):
            return False
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                if not all(_types_ok(v) for v in value.values()):
                    return False
            elif key in ("items", "additionalProperties") and not _types_ok(value):
                return False
    return True


def _schema_ok(function: dict[str, Any]) -> bool:
    """A function declaration Mistral's parser takes: known keys only, a JSON Schema for parameters."""
    return set(function) <= _FUNCTION_KEYS and _types_ok(function.get("parameters") or {})


def preference(record: dict[str, Any], rules: ChatRules, flags: set[str]) -> dict[str, Any] | None:
    """A DPO line: ``{"input": {"messages", "tools"?}, "preferred_output": [...], "non_preferred_output": [...]}``."""
    salt = str(record.get("id", ""))
    prompt = convert_messages(record.get("prompt"), rules, flags, salt)
    if prompt is None:
        if "missing_messages" in flags:
            flags.discard("missing_messages")
            flags.add("dpo_empty_prompt")
        return None
    if prompt[-1]["role"] != "user":
        flags.add("dpo_prompt_not_user")
    if rules.alternate:
        prompt = _alternate(prompt, flags)
        if prompt is None:
            return None
    if rules.dpo_single_output and any(
        a["role"] == b["role"] == "assistant" for a, b in zip(prompt, prompt[1:], strict=False)
    ):
        flags.add("dpo_consecutive_assistant")
        return None
    sides = []
    for key in ("chosen", "rejected"):
        side = record.get(key)
        if not isinstance(side, list) or not side:
            flags.add("dpo_missing_output")
            return None
        # weights have no meaning on a preference output (the whole output is compared)
        stripped = [{k: v for k, v in m.items() if k != "weight"} if isinstance(m, dict) else m for m in side]
        converted = convert_messages(stripped, rules, flags, salt)
        if converted is None:
            return None
        if any(m["role"] not in ("assistant", "tool") for m in converted):
            flags.add("dpo_output_role")
            return None
        if not any(m["role"] == "assistant" for m in converted):
            flags.add("dpo_missing_output")
            return None
        if rules.dpo_single_output and len(converted) != 1:
            flags.add("dpo_output_not_single")
            return None
        sides.append(converted)
    inp: dict[str, Any] = {"messages": prompt}
    if not _tools_into(record, inp, rules, flags):
        return None
    return {"input": inp, "preferred_output": sides[0], "non_preferred_output": sides[1]}


def encode_line(out: dict[str, Any] | None, flags: set[str], check_reserved: bool) -> bytes | None:
    """The JSONL line for a converted record (encoded once), refused when it carries reserved special tokens."""
    if out is None:
        return None
    line = orjson.dumps(out)
    if check_reserved and b"<|" in line and find_reserved(line) is not None:
        flags.add("reserved_token")
        return None
    return line + b"\n"
