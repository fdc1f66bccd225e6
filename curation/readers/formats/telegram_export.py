"""Telegram Desktop's chat export in JSON (a chat's menu > Export chat history > JSON: ``result.json``, written by
Telegram/SourceFiles/export/output/export_output_json.cpp): ``{"name", "type", "id", "messages": [{"id", "type",
"date", "from", "from_id", "text", "text_entities", "photo", "file", "media_type", ...}]}``.

A chat between people names no assistant, so the speakers' roles come from a field mapping, ``roles: {"<from>":
"assistant", "<other>": "user"}`` naming each speaker (by ``from``, or ``from_id`` when a deleted account has no
name); without it the chat is refused as ``unrecognized_role``, naming the speakers and the mapping to pass (in a
``bot_chat``, the bot as the assistant); a mapping that names the turns' keys itself (``role: from``) reads the
export as any mapped layout does. ``text`` is a string, or a list of strings and formatted pieces
(``{"type": "bold", "text"}``...), joined as the words they are. Service messages (joins, pins, calls) and messages
of a type the export could not write (``unsupported``) are left out and counted; so is a message's media other than a
photo (a sticker, voice message, video, file: ``metadata.left_out.media``), its caption kept, and a
message with no words (a poll, a location, a contact: ``other_messages``). A photo is
``image_missing``: the export holds it as a file beside ``result.json``, not in the chat.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from curation.readers.formats._common import ConvertProblem, speaker_roles
from curation.readers.mapping import FieldMapping

NAME = "telegram_export"
KEYS = frozenset({"messages"})
_TYPES = frozenset({"message", "service", "unsupported"})


def is_telegram_export(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if mapping is not None and (mapping.role or mapping.content):
        return False  # the user's own keys for the turns: read as any mapped layout
    messages = obj.get("messages")
    return isinstance(obj.get("type"), str) and isinstance(messages, list) and bool(messages) and all(
        isinstance(m, dict) and m.get("type") in _TYPES and "id" in m for m in messages) and any(
        "date" in m for m in messages)


def _speaker(message: dict[str, Any]) -> str:
    name = message.get("from")
    return name if isinstance(name, str) and name else str(message.get("from_id"))


def speakers(obj: dict[str, Any]) -> tuple[list[str], set[str]]:
    """The chat's speakers in order of appearance, and which of them are bots: what a roles mapping must name."""
    names = [_speaker(m) for m in obj.get("messages") or [] if isinstance(m, dict) and m.get("type") == "message"]
    return list(dict.fromkeys(names)), _bots(obj)


def _bots(obj: dict[str, Any]) -> set[str]:
    return {obj["name"]} if obj.get("type") == "bot_chat" and isinstance(obj.get("name"), str) else set()


def _words(text: Any, where: str) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        pieces = [p if isinstance(p, str) else p.get("text") if isinstance(p, dict) else None for p in text]
        words = [p for p in pieces if isinstance(p, str)]
        if len(words) == len(pieces):
            return "".join(words)
    raise ConvertProblem("data_type", f"{where}: text is {type(text).__name__}, expected a string or a list of "
                         "strings and formatted pieces")


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    left_out: Counter[str] = Counter()
    said: list[tuple[str, str]] = []
    for message in obj["messages"]:
        where = f"message {message.get('id')!r}"
        if message.get("type") == "service":
            left_out["service_messages"] += 1
            continue
        if message.get("type") == "unsupported":
            left_out["unsupported_messages"] += 1
            continue
        if "photo" in message:
            raise ConvertProblem("image_missing", f"{where} ({_speaker(message)!r}): a photo "
                                 f"({str(message['photo'])[:60]!r}) the export keeps beside result.json, not in the "
                                 "chat; leave such chats out")
        if "file" in message or "media_type" in message:
            left_out["media"] += 1
        text = _words(message.get("text", ""), where)
        if text.strip():
            said.append((_speaker(message), text))
        elif "file" not in message and "media_type" not in message:
            left_out["other_messages"] += 1  # a poll, a location, a contact: no words to read
    roles = speaker_roles("Telegram", list(dict.fromkeys(name for name, _ in said)), _bots(obj), mapping)
    body: dict[str, Any] = {"messages": [{"role": roles[name], "content": text} for name, text in said]}
    if left_out:
        body["metadata"] = {"left_out": dict(sorted(left_out.items()))}
    own_id = obj.get("id")
    return [(str(own_id) if own_id not in (None, "") else None, body, None)]
