"""The canonical record model: a conversation (SFT) and a preference pair (DPO).

Everything in the project speaks this model. Readers convert every input format into it, stages
annotate its ``metadata``, exporters convert it into what providers and trainers consume.

On the hot path records travel as plain dicts of exactly this shape (``model_dump(exclude_none=True)``)
because building pydantic objects for millions of records costs more than all the checks together;
``checks.py`` validates those dicts with reason codes, and these models are the schema of record.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal, get_args

import orjson
from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
ROLES: frozenset[str] = frozenset(get_args(Role))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ImageURL(_Model):
    url: str
    detail: str | None = None


class ContentPart(_Model):
    type: Literal["text", "image_url"]
    text: str | None = None
    image_url: ImageURL | None = None


class FunctionCall(_Model):
    name: str
    arguments: str


class ToolCall(_Model):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Message(_Model):
    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    function_call: FunctionCall | None = None
    weight: Literal[0, 1] | None = None
    refusal: str | None = None
    # The assistant's reasoning (chain of thought) before its answer; readers lift it here from
    # ``reasoning_content``, typed ``reasoning`` parts and ``<think>`` blocks (see curation/reasoning.py).
    reasoning: str | None = None


MESSAGE_KEYS: frozenset[str] = frozenset(Message.model_fields)


class Conversation(_Model):
    """One supervised fine-tuning example."""

    id: str
    messages: list[Message]
    tools: list[dict[str, Any]] | None = None
    functions: list[dict[str, Any]] | None = None
    parallel_tool_calls: bool | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class PreferencePair(_Model):
    """One preference (DPO) example: a shared prompt and two alternative completions."""

    id: str
    prompt: list[Message]
    chosen: list[Message]
    rejected: list[Message]
    tools: list[dict[str, Any]] | None = None
    parallel_tool_calls: bool | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


Record = Conversation | PreferencePair


def is_preference(record: dict[str, Any]) -> bool:
    """A canonical dict is a preference pair when it has chosen and rejected turns."""
    return "chosen" in record and "rejected" in record


def parse_record(record: dict[str, Any]) -> Record:
    """Build the pydantic model for a canonical dict (raises pydantic.ValidationError)."""
    if is_preference(record):
        return PreferencePair.model_validate(record)
    return Conversation.model_validate(record)


def message_text(message: dict[str, Any]) -> str:
    """The text a message carries, for hashing, tokens and filters (image parts contribute nothing)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text") or "" for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def has_image(message: dict[str, Any]) -> bool:
    """Whether a message carries an image part (what text-only provider formats must refuse)."""
    content = message.get("content")
    return isinstance(content, list) and any(isinstance(p, dict) and p.get("type") == "image_url" for p in content)


def record_messages(record: dict[str, Any]) -> list[dict[str, Any]]:
    """All messages of a record in reading order; a preference pair gives prompt + chosen + rejected."""
    if is_preference(record):
        # Lists only: a malformed pair (`"chosen": true`) gets here before validation rejects it.
        return [m for key in ("prompt", "chosen", "rejected") if isinstance(record.get(key), list)
                for m in record[key]]
    messages = record.get("messages")
    return messages if isinstance(messages, list) else []


def user_snippet(record: dict[str, Any], limit: int = 160) -> str:
    """The first user turn's text on one line, cut to ``limit`` characters: what reports show of a record.
    Messages that are not objects (in records validation rejected) are skipped."""
    for message in record_messages(record):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message).strip().replace("\n", " ")[:limit]
    return ""


def content_hash(record: dict[str, Any]) -> str:
    """A stable hash of a record's content (not its id or metadata): the id of records that have none."""
    body = {k: v for k, v in record.items() if k not in ("id", "metadata")}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def dumps(record: dict[str, Any]) -> bytes:
    """The canonical JSONL line for a record: compact, keys in model order, non-ASCII kept as UTF-8."""
    return orjson.dumps(record) + b"\n"


def arguments_string(arguments: Any) -> str:
    """Tool-call arguments as the JSON string OpenAI expects (strings are kept, even when not valid JSON)."""
    if isinstance(arguments, str):
        return arguments
    if arguments is None:
        return "{}"
    return orjson.dumps(arguments).decode()


_MISSING = object()


def metadata_value(record: dict[str, Any], path: str, default: Any = None) -> Any:
    """The value at a dotted path inside ``record["metadata"]`` (``fields.status``, ``language``), or
    ``default``. A leading ``metadata.`` is allowed. Readers keep a record's extra top-level keys under
    ``metadata.fields``, so ``fields.<key>`` reaches what the input file carried."""
    node: Any = record.get("metadata") or {}
    for part in path.removeprefix("metadata.").split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return default
    return node


def tree_id(record: dict[str, Any]) -> Any:
    """The conversation tree a record is a path through (OpenAssistant's ``tree_id`` or ``message_tree_id``, kept
    in ``metadata.fields``), or None."""
    return metadata_value(record, "fields.tree_id") or metadata_value(record, "fields.message_tree_id")


def has_metadata_value(record: dict[str, Any], path: str) -> bool:
    return metadata_value(record, path, _MISSING) is not _MISSING


def is_undesirable(record: dict[str, Any]) -> bool:
    """A KTO record labelled ``false``: an answer not to learn (never in an SFT split or export)."""
    metadata = record.get("metadata")
    return isinstance(metadata, dict) and metadata.get("label") is False
