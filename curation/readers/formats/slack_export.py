"""A Slack workspace export (Workspace settings > Import/Export Data > Export: a zip of ``<channel>/<YYYY-MM-DD>.json``
files beside ``users.json`` and ``channels.json``): each day's file is a JSON array of Slack's message objects,
``{"type": "message", "subtype", "user", "text", "ts", "thread_ts", "user_profile": {"real_name", ...}, "files",
"bot_id", "username", ...}``.

A day's file is read as conversations (``assemble``): each thread (a message and its replies, by ``thread_ts``) is
one, the channel's other messages another, each at its first message's place. A thread that goes on into a later
day is read from each day's file on its own. A speaker is named by ``user_profile.real_name`` (or its ``name``, a
bot's ``username`` or ``bot_profile.name``, else the ``user`` id). A channel between people names no assistant, so
the roles come from a field mapping, ``roles: {"<speaker>": "assistant", "<other>": "user"}`` naming each speaker;
without it the conversation is refused as ``unrecognized_role``, naming the speakers and the mapping to pass (bots
as the assistant). Slack's notices (``channel_join``, ``channel_topic``, ``pinned_item``, a deleted thread's
``tombstone``, ...) are left out and counted in ``metadata.left_out.system_messages``; a shared image is
``image_missing`` (the export links it), other shared files are left out and counted. Text stays as Slack wrote
it (``<@U123>`` mentions, ``*bold*``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from curation.readers.formats._common import ConvertProblem, row_of, speaker_roles
from curation.readers.mapping import FieldMapping

NAME = "slack_export"
CHAT = "slack_messages"  # the assembled conversation's message rows
KEYS = frozenset({CHAT, "type", "subtype", "user", "text", "ts", "thread_ts", "files", "bot_id", "username",
                  "user_profile", "bot_profile"})
_WORDS = frozenset({None, "bot_message", "thread_broadcast", "file_share", "me_message"})


def _message(obj: dict[str, Any]) -> bool:
    return obj.get("type") == "message" and isinstance(obj.get("ts"), str) and "text" in obj


def is_slack_export(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if mapping is not None and (mapping.role or mapping.content):
        return False  # the user's own keys for the turns: read as any mapped layout
    return isinstance(obj.get(CHAT), list) or _message(obj)


def assemble(payloads: Iterable[tuple[int | None, int, Any]],
             mapping: FieldMapping | None = None) -> Iterator[tuple[int | None, int, Any]]:
    """A day file's message rows -> one conversation payload per thread and one for the rest; others pass."""
    out: list[tuple[int | None, int, Any]] = []
    slots: dict[str, int] = {}  # thread_ts ("" for the channel's other messages) -> its place in out
    groups: dict[str, list[dict[str, Any]]] = {}
    for line, index, payload in payloads:
        row = row_of(payload, _message)
        if row is None:
            out.append((line, index, payload))
            continue
        key = str(row.get("thread_ts") or "")
        if key not in slots:
            slots[key] = len(out)
            out.append((line, index, None))
            groups[key] = []
        groups[key].append(row)
    for key, slot in slots.items():
        line, index, _ = out[slot]
        out[slot] = (line, index, {CHAT: groups[key]})
    yield from out


def _speaker(row: dict[str, Any]) -> str:
    profile = row.get("user_profile") if isinstance(row.get("user_profile"), dict) else {}
    bot = row.get("bot_profile") if isinstance(row.get("bot_profile"), dict) else {}
    for name in (profile.get("real_name"), profile.get("name"), row.get("username"), bot.get("name"),
                 row.get("user"), row.get("bot_id")):
        if isinstance(name, str) and name:
            return name
    return "?"


def _bot(row: dict[str, Any]) -> bool:
    return row.get("subtype") == "bot_message" or bool(row.get("bot_id"))


def speakers(obj: dict[str, Any]) -> tuple[list[str], set[str]]:
    """The speakers of a message row (or an assembled conversation) and which are bots: what roles must name."""
    rows = [r for r in (obj[CHAT] if isinstance(obj.get(CHAT), list) else [obj])
            if isinstance(r, dict) and r.get("subtype") in _WORDS]
    return list(dict.fromkeys(_speaker(r) for r in rows)), {_speaker(r) for r in rows if _bot(r)}


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    rows = obj[CHAT] if isinstance(obj.get(CHAT), list) else [obj]
    left_out: Counter[str] = Counter()
    said: list[tuple[str, str]] = []
    bots: set[str] = set()
    for row in rows:
        where = f"message ts {row.get('ts')!r}"
        if row.get("subtype") not in _WORDS:
            left_out["system_messages"] += 1
            continue
        name = _speaker(row)
        if _bot(row):
            bots.add(name)
        for file in row.get("files") or []:
            kind = str(file.get("mimetype") or "") if isinstance(file, dict) else ""
            if kind.startswith("image/"):
                raise ConvertProblem("image_missing", f"{where} ({name!r}): a shared image "
                                     f"({str(file.get('name'))[:60]!r}) the export only links; leave such "
                                     "conversations out")
            left_out["files"] += 1
        text = row.get("text")
        if not isinstance(text, str):
            raise ConvertProblem("data_type", f"{where}: text is {type(text).__name__}, expected a string")
        if text.strip():
            said.append((name, text))
        elif not row.get("files"):
            left_out["other_messages"] += 1  # a bot's attachments alone: no words to read
    if not said:
        raise ConvertProblem("empty_record", f"Slack messages with no words ({sum(left_out.values())} notices or "
                             "files only)")
    speakers = list(dict.fromkeys(name for name, _ in said))
    roles = speaker_roles("Slack", speakers, bots, mapping)
    body: dict[str, Any] = {"messages": [{"role": roles[name], "content": text} for name, text in said]}
    if left_out:
        body["metadata"] = {"left_out": dict(sorted(left_out.items()))}
    thread = rows[0].get("thread_ts")
    return [(f"thread-{thread}" if isinstance(thread, str) and thread else None, body, None)]
