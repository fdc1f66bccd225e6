"""Zendesk Support tickets with their comments (Ticket Comments API: ``{id, type, author_id, body, html_body,
plain_body, public, via, created_at, attachments}``).

Read: a ticket with its ``comments`` inlined (as ticket export tools write it), the comments list response
``{"comments": [...], "users": [...]}`` and ``{"ticket": {...}, "comments": [...]}``; a tickets list or incremental
export page ``{"tickets": [...], "users": [...]}`` is split into its tickets (``split``), each with the users its
comments name.

Who speaks: with the ``users`` sideload (``?include=users``), an ``end-user`` is the customer and an ``agent`` or
``admin`` the agent; without it (or for an author it does not list), the ticket's requester (``requester_id``,
else ``submitter_id``) and whoever the ticket copies in (``email_cc_ids``, ``collaborator_ids``) but not its
assignee or a follower are the customer's side, every other author an agent: export with ``include=users`` to
tell them apart for sure. Without users and requester the sides cannot be told, and the
comments are refused (``unknown_speaker``).

Left out, and counted in ``metadata.left_out``: private comments (``public: false``: internal notes), comments a
trigger or automation wrote (``via.channel`` ``rule``), answer-bot replies (unless the mapping sets
``bot_replies``), voice comments (a call's recording), attachments (named, not held), inline images (``images``; an
emoji sent as an image is kept as its character), and quoted earlier e-mail below a reply (Zendesk's "##- Please
type your reply above this line -##" and the mail client's quote).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from curation.readers.formats._common import ConvertProblem
from curation.readers.formats._support import (
    AGENT,
    CUSTOMER,
    Turn,
    body_text,
    conversation,
    holds_turns,
    is_plain,
    wrong_type,
)
from curation.readers.mapping import FieldMapping

NAME = "zendesk"
KEYS = frozenset({"comments", "users"})
_CUSTOMER_ROLES = frozenset({"end-user", "end_user"})
_AGENT_ROLES = frozenset({"agent", "admin"})
_BODIES = ("plain_body", "body", "html_body")


def _is_comment(comment: Any) -> bool:
    return type(comment) is dict and "author_id" in comment and "public" in comment and any(
        k in comment for k in _BODIES)


def is_zendesk(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if holds_turns(obj):
        return False
    comments = obj.get("comments")
    return type(comments) is list and bool(comments) and all(_is_comment(c) for c in comments)


def split(obj: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The tickets of a tickets list or export page, each with the sideloaded users its comments name; None when
    ``obj`` is no such page (or its tickets hold no comments). Never raises: a ``users`` that is no list, and a
    user whose id or role is of the wrong type, go to every ticket, whose reading refuses it with the field named
    (a damaged sideload cannot be matched to the tickets it belongs to)."""
    tickets = obj.get("tickets")
    if type(tickets) is not list or not any(type(t) is dict and is_zendesk(t) for t in tickets):
        return None
    if "users" not in obj:
        return tickets
    users = obj["users"]
    damaged = type(users) is not list
    damaged_users: list[dict[str, Any]] = []
    if not damaged:
        damaged_users = [u for u in users if type(u) is dict and "id" in u and not _readable_user(u)]
        users = [u for u in users if type(u) is dict and "id" in u and _readable_user(u)]
        if not users and not damaged_users:
            return tickets
    out = []
    for ticket in tickets:
        if type(ticket) is not dict or not is_zendesk(ticket) or "users" in ticket:
            out.append(ticket)
        elif damaged:
            out.append({**ticket, "users": users})
        else:
            named = {a for c in ticket["comments"] for a in [c.get("author_id")] if is_plain(a)}
            out.append({**ticket, "users": [u for u in users if u["id"] in named] + damaged_users})
    return out


def _readable_user(user: dict[str, Any]) -> bool:
    return is_plain(user["id"]) and (user.get("role") is None or isinstance(user.get("role"), str))


def _roles(users: Any) -> dict[Any, str | None]:
    """Each sideloaded user's role by id; a user without an id is no user the comments can name."""
    if users is None:
        return {}
    if type(users) is not list:
        raise wrong_type("Zendesk", "users", users, "the list of users the comments' author_id name (the "
                         "?include=users sideload)")
    roles: dict[Any, str | None] = {}
    for user in users:
        if type(user) is not dict or "id" not in user:
            continue
        if not is_plain(user["id"]):
            raise wrong_type("Zendesk", "a user's id in users", user["id"], "a user id (a number, as the "
                             "comments' author_id)")
        role = user.get("role")
        if role is not None and not isinstance(role, str):
            raise wrong_type("Zendesk", f"the role of user {user['id']!r} in users", role,
                             "'end-user', 'agent' or 'admin'")
        roles[user["id"]] = role
    return roles


def _ids(value: Any) -> set[Any]:
    return {v for v in value if is_plain(v)} if type(value) is list else set()


def _copied_end_users(ticket: dict[str, Any]) -> set[Any]:
    """Who the ticket copies in (``email_cc_ids``, the older ``collaborator_ids``) and is not its assignee or a
    follower (followers are agents): without a users sideload, the requester's colleague answering on the
    thread is the customer's side, not an agent whose reply the model would learn."""
    copied = _ids(ticket.get("email_cc_ids")) | _ids(ticket.get("collaborator_ids"))
    return copied - _ids(ticket.get("follower_ids")) - _ids([ticket.get("assignee_id")])


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    ticket = obj["ticket"] if type(obj.get("ticket")) is dict else obj
    roles = _roles(obj.get("users"))
    requester = ticket.get("requester_id", ticket.get("submitter_id"))
    copied = _copied_end_users(ticket)
    bots = mapping is not None and mapping.bot_replies
    left_out: Counter[str] = Counter()
    turns: list[Turn] = []
    for n, comment in enumerate(obj["comments"]):
        author = comment.get("author_id")
        if author is not None and not is_plain(author):
            raise wrong_type("Zendesk", f"comments[{n}].author_id", author, "the id of the comment's author (a "
                             "number)")
        role = roles.get(author)
        if role in _CUSTOMER_ROLES:
            side = CUSTOMER
        elif role in _AGENT_ROLES:
            side = AGENT
        elif requester is not None:
            side = CUSTOMER if author == requester or author in copied else AGENT
        else:
            raise ConvertProblem("unknown_speaker", f"comments[{n}]: author {author!r} cannot be told customer or "
                                 "agent: the export names no requester and no users (export the ticket with its "
                                 "requester_id, or the comments with ?include=users)")
        channel = comment.get("via", {}).get("channel") if type(comment.get("via")) is dict else None
        attachments = comment.get("attachments")
        if comment.get("public") is False:
            left_out["private_notes"] += 1
            continue
        if comment.get("type") == "VoiceComment":
            left_out["voice_comments"] += 1
            continue
        if channel == "rule":
            left_out["automated_messages"] += 1
            continue
        if isinstance(channel, str) and channel.startswith("answer_bot") and side == AGENT:
            if not bots:
                left_out["bot_replies"] += 1
                continue
        if type(attachments) is list and attachments:
            left_out["attachments"] += len(attachments)
        plain = comment.get("plain_body") if isinstance(comment.get("plain_body"), str) else comment.get("body")
        turns.append(Turn(side, body_text(plain, comment.get("html_body"), left_out), comment.get("created_at")))
    return [(None, conversation("Zendesk", turns, left_out), None)]
