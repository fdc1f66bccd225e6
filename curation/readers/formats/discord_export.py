"""A Discord channel exported by DiscordChatExporter as JSON (DiscordChatExporter.Core/Exporting/
JsonMessageWriter.cs): ``{"guild", "channel", "dateRange", "exportedAt", "messages": [{"id", "type", "timestamp",
"content", "author": {"id", "name", "nickname", "isBot", ...}, "attachments", "embeds", "stickers", ...}],
"messageCount"}``.

A channel between people names no assistant, so the speakers' roles come from a field mapping, ``roles:
{"<author.name>": "assistant", "<other>": "user"}`` naming each author; without it the channel is refused as
``unrecognized_role``, naming the authors and the mapping to pass (the bots, ``isBot``, as the assistant). A
mapping that names the turns' keys itself (``role: author.name``) reads the export as any mapped layout does. Only
``Default`` and ``Reply`` messages are words; Discord's own notices (``GuildMemberJoin``, ``ChannelPinnedMessage``,
``Call``, ...) are left out and counted in ``metadata.left_out.system_messages``, as are stickers, attachments
other than images and messages with no words (``other_messages``). An image attachment is ``image_missing``: the
export links it, and an answer may be about it.
Link previews (``embeds``) are Discord's rendering of links the message's words hold, so they are not read.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from curation.readers.formats._common import ConvertProblem, speaker_roles
from curation.readers.mapping import FieldMapping

NAME = "discord_export"
KEYS = frozenset({"messages"})  # the guild, channel and dates stay in metadata.fields
_WORDS = frozenset({"Default", "Reply"})
_IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".heic")


def is_discord_export(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if mapping is not None and (mapping.role or mapping.content):
        return False  # the user's own keys for the turns: read as any mapped layout
    messages = obj.get("messages")
    return isinstance(obj.get("channel"), dict) and isinstance(messages, list) and bool(messages) and all(
        isinstance(m, dict) and isinstance(m.get("author"), dict) and "content" in m for m in messages)


def _name(author: dict[str, Any]) -> str:
    return str(author.get("name") or author.get("id"))


def speakers(obj: dict[str, Any]) -> tuple[list[str], set[str]]:
    """The channel's authors in order of appearance, and which of them are bots: what a roles mapping must name."""
    said = [m for m in obj.get("messages") or [] if isinstance(m, dict) and isinstance(m.get("author"), dict)
            and m.get("type", "Default") in _WORDS]
    return (list(dict.fromkeys(_name(m["author"]) for m in said)),
            {_name(m["author"]) for m in said if m["author"].get("isBot") is True})


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    left_out: Counter[str] = Counter()
    said: list[tuple[str, str]] = []
    bots: set[str] = set()
    for message in obj["messages"]:
        where = f"message {message.get('id')!r}"
        author = message["author"]
        name = _name(author)
        if message.get("type", "Default") not in _WORDS:
            left_out["system_messages"] += 1
            continue
        for attachment in message.get("attachments") or []:
            file_name = str(attachment.get("fileName") or "") if isinstance(attachment, dict) else ""
            if file_name.lower().endswith(_IMAGES):
                raise ConvertProblem("image_missing", f"{where} ({name!r}): an attached image ({file_name[:60]!r}) "
                                     "the export only links; leave such channels out")
            left_out["attachments"] += 1
        left_out["stickers"] += len(message.get("stickers") or [])
        content = message.get("content")
        if not isinstance(content, str):
            raise ConvertProblem("data_type", f"{where}: content is {type(content).__name__}, expected a string")
        if author.get("isBot") is True:
            bots.add(name)
        if content.strip():
            said.append((name, content))
        elif not message.get("attachments") and not message.get("stickers"):
            left_out["other_messages"] += 1  # a bot's embed alone, a poll: no words to read
    speakers = list(dict.fromkeys(name for name, _ in said))
    roles = speaker_roles("Discord", speakers, bots, mapping)
    body: dict[str, Any] = {"messages": [{"role": roles[name], "content": text} for name, text in said]}
    counted = {k: v for k, v in sorted(left_out.items()) if v}
    if counted:
        body["metadata"] = {"left_out": counted}
    channel = obj["channel"]
    own_id = channel.get("id")
    return [(str(own_id) if own_id not in (None, "") else None, body, None)]
