"""Help Scout conversations (Mailbox API 2.0: a conversation with ``_embedded.threads[]``, as ``GET
/v2/conversations/{id}?embed=threads`` returns it, or a threads list page; webhooks and older exports put
``threads`` at the top).

A thread's ``type`` says what it is: ``customer`` (the customer's message), ``message`` and ``reply`` (an agent's
reply), ``chat`` and ``phone`` (by ``createdBy.type``: ``customer`` or ``user``, Help Scout's word for an agent).
The API lists threads newest first: the listing is reversed (unless the times it has rise: an export written
oldest first), then put in ``createdAt`` order; threads of the same instant, and all of them when one has no
time that can be read, keep the reversed listing's order.

Left out, and counted in ``metadata.left_out``: notes (internal), line items (events: assignments, status changes,
workflows), forwards (``forwardparent``, ``forwardchild``, ``forwardcustomer``: mail to third parties), threads not
``published`` (drafts, held for review, hidden), threads of other types, attachments (named, not held), inline
images (``images``; an emoji sent as an image is kept as its character), and quoted earlier e-mail below a reply.
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
    first_dict,
    holds_turns,
    newest_first,
)
from curation.readers.mapping import FieldMapping

NAME = "helpscout"
KEYS = frozenset({"_embedded", "threads"})
_FORWARDS = frozenset({"forwardparent", "forwardchild", "forwardcustomer"})
_BY_AUTHOR = frozenset({"chat", "phone"})


def _threads(obj: dict[str, Any]) -> Any:
    embedded = obj.get("_embedded")
    return embedded.get("threads") if type(embedded) is dict and "threads" in embedded else obj.get("threads")


def _is_thread(thread: Any) -> bool:
    return type(thread) is dict and isinstance(thread.get("type"), str) and type(thread.get("createdBy")) is dict


def is_helpscout(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if holds_turns(obj):
        return False
    threads = _threads(obj)
    return type(threads) is list and bool(threads) and all(_is_thread(t) for t in threads)


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    left_out: Counter[str] = Counter()
    turns: list[Turn] = []
    for thread in _threads(obj):
        kind = thread["type"]
        author = thread["createdBy"].get("type")
        if kind == "note":
            left_out["private_notes"] += 1
            continue
        if kind == "lineitem":
            left_out["events"] += 1
            continue
        if kind in _FORWARDS:
            left_out["forwards"] += 1
            continue
        if thread.get("state", "published") != "published":
            left_out["unpublished_threads"] += 1
            continue
        if kind == "customer" or (kind in _BY_AUTHOR and author == "customer"):
            side = CUSTOMER
        elif kind in ("message", "reply") or (kind in _BY_AUTHOR and author == "user"):
            side = AGENT
        else:
            left_out["other_threads"] += 1
            continue
        attachments = first_dict(thread.get("_embedded")).get("attachments", thread.get("attachments"))
        if type(attachments) is list and attachments:
            left_out["attachments"] += len(attachments)
        turns.append(Turn(side, body_text(None, thread.get("body"), left_out), thread.get("createdAt")))
    if newest_first(turns):
        turns.reverse()  # oldest first: then a thread without createdAt, and threads of one second, fall in place
    # a conversation's own `threads` is its thread count when the threads are embedded: a field, not the turns
    count = {"threads": obj["threads"]} if "threads" in obj and type(obj["threads"]) is not list else None
    return [(None, conversation("Help Scout", turns, left_out), count)]
