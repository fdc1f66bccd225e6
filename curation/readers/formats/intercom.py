"""Intercom conversations (Conversations API: ``{"type": "conversation", "source": {...}, "conversation_parts":
{"conversation_parts": [...]}}``); a ``conversation.list`` page is read through its ``conversations``.

The ``source`` is the first message (its other keys, such as ``subject`` and ``url``, stay in
``metadata.fields.source``); each part has a ``part_type`` and an ``author.type``. A user, lead or contact
is the customer, an admin or team the agent. A part with words is a message whatever its type: a customer's reply
to a closed conversation is an ``open`` part, an agent's last words a ``close`` part.

Left out, and counted in ``metadata.left_out``: notes (``note``, ``note_and_reopen``: internal, never shown to the
customer), a bot's replies (Fin, custom bots: ``author.type`` ``bot``; read as the agent's with the mapping's
``bot_replies``), events without words (assignments, snoozes, attribute updates, custom actions, closes and opens
with no message), attachments (named, not held), inline images (``images``; an emoji sent as an image is kept as its
character), a redacted part, and quoted earlier e-mail below a reply.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from curation.readers.formats._support import (
    AGENT,
    CUSTOMER,
    Turn,
    body_text,
    conversation,
    holds_turns,
    in_order,
    is_plain,
    wrong_type,
)
from curation.readers.mapping import FieldMapping

NAME = "intercom"
KEYS = frozenset({"type", "source", "conversation_parts"})
_CUSTOMERS = frozenset({"user", "lead", "contact"})
_AGENTS = frozenset({"admin", "team"})
_NOTES = frozenset({"note", "note_and_reopen"})


def is_intercom(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return not holds_turns(obj) and obj.get("type") == "conversation" and type(obj.get("source")) is dict \
        and "conversation_parts" in obj


def _parts(value: Any) -> list[Any]:
    if type(value) is dict:
        value = value.get("conversation_parts")
    return value if type(value) is list else []


def _turn(entry: dict[str, Any], where: str, bots: bool, left_out: Counter[str]) -> Turn | None:
    author = entry.get("author") if type(entry.get("author")) is dict else {}
    kind = author.get("type")
    body = entry.get("body")
    if entry.get("part_type") is not None and not is_plain(entry["part_type"]):
        raise wrong_type("Intercom", f"{where}.part_type", entry["part_type"], "a part type such as 'comment', "
                         "'note' or 'close'")
    if kind is not None and not is_plain(kind):
        raise wrong_type("Intercom", f"{where}.author.type", kind, "'user', 'lead', 'contact', 'admin', 'team' or "
                         "'bot'")
    if entry.get("part_type") in _NOTES:
        left_out["private_notes"] += 1
        return None
    if not isinstance(body, str) or not body.strip():
        left_out["events"] += 1
        return None
    if entry.get("redacted") is True:
        left_out["redacted_parts"] += 1
        return None
    if kind == "bot" and not bots:
        left_out["bot_replies"] += 1
        return None
    if kind in _CUSTOMERS:
        side = CUSTOMER
    elif kind in _AGENTS or kind == "bot":
        side = AGENT
    else:
        left_out["unknown_authors"] += 1  # e.g. an integration's part: no side to give it
        return None
    attachments = entry.get("attachments")
    if type(attachments) is list and attachments:
        left_out["attachments"] += len(attachments)
    return Turn(side, body_text(None, body, left_out), entry.get("created_at"))


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    bots = mapping is not None and mapping.bot_replies
    left_out: Counter[str] = Counter()
    source = _turn({**obj["source"], "created_at": obj.get("created_at")}, "source", bots, left_out)
    parts = [t for n, part in enumerate(_parts(obj["conversation_parts"])) if type(part) is dict
             for t in [_turn(part, f"conversation_parts[{n}]", bots, left_out)] if t is not None]
    # the source opens the conversation whatever the parts' times say (the examples in Intercom's own API
    # description date the source after its replies); the parts are put in their order among themselves
    turns = ([source] if source is not None else []) + in_order(parts)
    for turn in turns:
        turn.at = None  # in order now: conversation() keeps it
    # the source is read for its body; the rest of it (subject, url, delivered_as, author, recipients) stays a field
    rest = {k: v for k, v in obj["source"].items() if k != "body"}
    return [(None, conversation("Intercom", turns, left_out), {"source": rest} if rest else None)]
