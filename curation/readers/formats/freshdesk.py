"""Freshdesk tickets with their conversations (``GET /api/v2/tickets/{id}?include=conversations``: the ticket's
``description``/``description_text`` and ``conversations[]`` of ``{body, body_text, incoming, private, user_id,
source, created_at}``).

The description is the requester's opening message (the agent's, on an outbound ticket: ``source`` 10). A
conversation entry is the customer's when it is ``incoming`` (a reply from outside the helpdesk) or written by the
requester (``user_id`` = ``requester_id``), else the agent's. A ticket read without its conversations has no
agent reply and is refused (``one_sided_ticket``); so is a conversation entry without its ticket.

Left out, and counted in ``metadata.left_out``: private notes (``private: true``), forwards to third parties
(``source`` 8), satisfaction-survey feedback (``source`` 6), attachments (named, not held), inline images
(``images``; an emoji sent as an image is kept as its character), and quoted earlier e-mail below a reply.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from curation.readers.formats._common import ConvertProblem
from curation.readers.formats._support import AGENT, CUSTOMER, Turn, body_text, conversation, holds_turns
from curation.readers.mapping import FieldMapping

NAME = "freshdesk"
KEYS = frozenset({"description", "description_text", "conversations"})
_OUTBOUND_EMAIL = 10
_FORWARD, _SURVEY = 8, 6


def _is_entry(entry: Any) -> bool:
    return type(entry) is dict and "incoming" in entry and "private" in entry and (
        "body_text" in entry or "body" in entry)


def is_freshdesk(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if holds_turns(obj, ("messages",)):  # its own turns are `conversations`
        return False
    if _is_entry(obj) and "ticket_id" in obj:
        return True  # one conversation entry alone: recognised, to be refused with the fix
    if "requester_id" not in obj or not ("description_text" in obj or "description" in obj):
        return False
    conversations = obj.get("conversations")
    if conversations is None:
        return "description_text" in obj  # a ticket read without ?include=conversations
    return type(conversations) is list and all(_is_entry(c) for c in conversations)


def _attachments(value: Any, left_out: Counter[str]) -> None:
    if type(value) is list and value:
        left_out["attachments"] += len(value)


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    if "requester_id" not in obj:
        raise ConvertProblem("one_sided_ticket", f"a Freshdesk conversation entry of ticket {obj.get('ticket_id')!r} "
                             "without its ticket: the ticket's description and its other replies are not here "
                             "(export each ticket with GET /api/v2/tickets/{id}?include=conversations)")
    requester = obj["requester_id"]
    left_out: Counter[str] = Counter()
    opening = body_text(obj.get("description_text"), obj.get("description"), left_out)
    turns = [Turn(AGENT if obj.get("source") == _OUTBOUND_EMAIL else CUSTOMER, opening, obj.get("created_at"))]
    _attachments(obj.get("attachments"), left_out)
    for entry in obj.get("conversations") or []:
        if entry.get("private") is True:
            left_out["private_notes"] += 1
            continue
        if entry.get("source") == _FORWARD:
            left_out["forwards"] += 1
            continue
        if entry.get("source") == _SURVEY:
            left_out["survey_feedback"] += 1
            continue
        _attachments(entry.get("attachments"), left_out)
        side = CUSTOMER if entry.get("incoming") is True or entry.get("user_id") == requester else AGENT
        turns.append(Turn(side, body_text(entry.get("body_text"), entry.get("body"), left_out),
                          entry.get("created_at")))
    return [(None, conversation("Freshdesk", turns, left_out), None)]
