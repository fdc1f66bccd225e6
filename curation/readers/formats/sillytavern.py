"""SillyTavern's chat file (``data/<user>/chats/<character>/<character> - <date>.jsonl``, or a chat's "Export as
.jsonl"): a header line ``{"user_name", "character_name", "create_date", "chat_metadata"}``, then one line per
message ``{"name", "is_user", "is_system", "send_date", "mes", "swipes", "swipe_id", "extra", ...}``.

A file is one conversation, its lines put together first (``assemble``). A message's role is its ``is_user``
(recent versions write ``"unused"`` for both names in the header): the user's persona is the user, the character
the assistant. ``mes`` is the text the chat shows, the chosen swipe (edited or not); the other swipes are
alternatives the user moved away from, counted in ``metadata.left_out.other_swipes``. The character's opening
message before any user turn is the card's greeting (``first_mes``), not the model's writing: it stays as
context with weight 0. ``extra.reasoning`` (a reasoning model's thoughts) is the turn's ``reasoning_content``.
Hidden messages (``is_system``: left out of the prompt with /hide, or the app's own notices) and narrator
messages (/sys, ``extra.type: "narrator"``) are left out and counted. The character card (description,
personality, scenario) is not in the chat file, so there is no system turn.

A group chat (more than one character speaking) needs the user to say who is the assistant: a field mapping
``roles: {"<character>": "assistant", "<other>": "user"}``; without it, the chat is refused as
``unrecognized_role``, naming the characters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from curation.readers.formats._common import ConvertProblem, row_of
from curation.readers.mapping import FieldMapping

NAME = "sillytavern"
CHAT = "sillytavern_chat"  # the assembled file's message lines
KEYS = frozenset({CHAT, "user_name", "character_name", "name", "is_user", "is_system", "mes", "swipes",
                  "swipe_id", "swipe_info", "extra", "send_date", "gen_started", "gen_finished", "force_avatar",
                  "is_name", "original_avatar"})
_NARRATOR = "narrator"


def _message(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("is_user"), bool) and "mes" in obj and "name" in obj


_RECORD_KEYS = frozenset({"messages", "conversations", "conversation", "instruction", "prompt", "chosen", "mes"})


def _header(obj: dict[str, Any]) -> bool:
    # a group chat's header holds chat_metadata alone; an old one has no chat_metadata but a create_date
    return _RECORD_KEYS.isdisjoint(obj) and (isinstance(obj.get("chat_metadata"), dict) or (
        "character_name" in obj and "user_name" in obj and "create_date" in obj))


def is_sillytavern(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return isinstance(obj.get(CHAT), list) or _message(obj) or _header(obj)


def assemble(payloads: Iterable[tuple[int | None, int, Any]],
             mapping: FieldMapping | None = None) -> Iterator[tuple[int | None, int, Any]]:
    """A chat file's header and message lines -> one conversation payload (at its first line); others pass."""
    out: list[tuple[int | None, int, Any]] = []
    slot: int | None = None
    header: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for line, index, payload in payloads:
        row = row_of(payload, lambda obj: _message(obj) or _header(obj))
        if row is None:
            out.append((line, index, payload))
            continue
        if slot is None:
            slot = len(out)
            out.append((line, index, None))
        if _message(row):
            rows.append(row)
        elif not header:
            header = row
        else:
            out.append((line, index, payload))  # a second header: read on its own, refused as empty
    if slot is not None:
        line, index, _ = out[slot]
        out[slot] = (line, index, {**header, CHAT: rows})
    yield from out


def _roles(rows: list[dict[str, Any]], mapping: FieldMapping | None) -> dict[str, str]:
    """The role of each character's name: the one character is the assistant; a group chat's come from the
    mapping."""
    names = sorted({str(r.get("name")) for r in rows if not r.get("is_user") and not _left_out(r)})
    given = dict(mapping.roles) if mapping is not None and mapping.roles else {}
    if len(names) <= 1 and not given:
        return {name: "assistant" for name in names}
    unmapped = [name for name in names if name not in given]
    if unmapped:
        raise ConvertProblem("unrecognized_role", f"a SillyTavern group chat: characters {', '.join(map(repr, names))}"
                             f" all speak, and nothing says which is the assistant ({', '.join(map(repr, unmapped))} "
                             "unmapped); pass a field mapping roles: {\"<character>\": \"assistant\", \"<other>\": "
                             "\"user\"} naming each")
    return {name: given[name] for name in names}


def _left_out(row: dict[str, Any]) -> str | None:
    if row.get("is_system") is True:
        return "hidden_messages"
    extra = row.get("extra")
    if isinstance(extra, dict) and extra.get("type") == _NARRATOR:
        return "narrator_messages"
    return None


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    rows = obj[CHAT] if isinstance(obj.get(CHAT), list) else [obj] if _message(obj) else []
    if not rows:
        raise ConvertProblem("empty_record", "a SillyTavern chat header with no message lines after it (an empty "
                             "chat, or the header line read without its file)")
    roles = _roles(rows, mapping)
    user_role = mapping.roles.get(str(obj.get("user_name")), "user") if mapping is not None and mapping.roles \
        else "user"
    left_out: Counter[str] = Counter()
    messages: list[dict[str, Any]] = []
    for n, row in enumerate(rows):
        skipped = _left_out(row)
        if skipped is not None:
            left_out[skipped] += 1
            continue
        extra = row.get("extra") if isinstance(row.get("extra"), dict) else {}
        if extra.get("image") or extra.get("inline_image"):
            raise ConvertProblem("image_missing", f"message {n + 1} ({row.get('name')!r}): an image "
                                 f"({str(extra.get('image'))[:60]!r}) the chat file only links; leave such chats out")
        role = user_role if row.get("is_user") else roles[str(row.get("name"))]
        turn: dict[str, Any] = {"role": role, "content": row.get("mes")}
        reasoning = extra.get("reasoning")
        if role == "assistant" and isinstance(reasoning, str) and reasoning.strip():
            turn["reasoning_content"] = reasoning
        if role == "assistant" and not any(m["role"] == "user" for m in messages):
            turn["weight"] = 0  # the card's greeting: written by the card's author, not the model
        swipes = row.get("swipes")
        if isinstance(swipes, list) and len(swipes) > 1:
            left_out["other_swipes"] += len(swipes) - 1
        messages.append(turn)
    body: dict[str, Any] = {"messages": messages}
    if left_out:
        body["metadata"] = {"left_out": dict(sorted(left_out.items()))}
    meta = obj.get("chat_metadata")
    integrity = meta.get("integrity") if isinstance(meta, dict) else None
    return [(str(integrity) if isinstance(integrity, str) and integrity else None, body, None)]
