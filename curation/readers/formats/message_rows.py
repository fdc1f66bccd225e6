"""A flat message table: one row per message, with the conversation it belongs to, as a database or a
support tool exports chats (``conversation_id, role, content, created_at`` in CSV, JSONL or parquet).

Rows are grouped by their conversation key before conversion (``assemble``), since a conversation's
messages may be scattered over the file. Within a conversation the messages keep a turn number's order when
the rows carry one (``turn``, ``turn_index``, ``message_index``, ``position``, ...), else a timestamp's, else
the file's. The conversation is one record at its first row's position; a value every row of the
conversation shares (``model``, ``channel``) is kept once as the record's field, a value that differs from
row to row (``created_at``, ``message_id``) stays with its message (``metadata.fields.turn_fields``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from curation.readers.formats._common import map_role, row_of
from curation.readers.mapping import FieldMapping

NAME = "message_rows"
CONVERSATION_KEYS = ("conversation_id", "conv_id", "session_id", "thread_id", "dialog_id", "dialogue_id",
                     "chat_id", "ticket_id")
ROLE_KEYS = ("role", "speaker", "sender", "author_role", "from")
TEXT_KEYS = ("content", "text", "message", "utterance", "body")
ORDER_KEYS = ("turn", "turn_id", "turn_index", "turn_number", "message_index", "position", "seq", "sequence",
              "order")
TIME_KEYS = ("created_at", "timestamp", "time", "sent_at", "date")
KEYS = frozenset({*CONVERSATION_KEYS, *ROLE_KEYS, *TEXT_KEYS})
_RECORD_KEYS = ("messages", "conversations", "conversation", "prompt", "chosen", "instruction", "message_tree_id",
                "chat_history")


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return next((key for key in keys if key in obj), None)


_CONVERSATION_SET = frozenset(CONVERSATION_KEYS)


def is_message_row(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if _CONVERSATION_SET.isdisjoint(obj):  # every record of every other format: one set test, on the hot path
        return False
    conversation, role, text = (_first(obj, CONVERSATION_KEYS), _first(obj, ROLE_KEYS), _first(obj, TEXT_KEYS))
    if conversation is None or role is None or text is None or any(k in obj for k in _RECORD_KEYS):
        return False
    value = obj[conversation]
    return (isinstance(value, str | int) and not isinstance(value, bool) and isinstance(obj[role], str)
            and isinstance(obj[text], str | type(None)))


def _sort_key(rows: list[dict[str, Any]]) -> Any:
    """The order of a conversation's rows: a turn number, else a timestamp, else the file's (stable sort)."""
    for keys, kinds in ((ORDER_KEYS, (int, float)), (TIME_KEYS, (str, int, float))):
        key = _first(rows[0], keys)
        if key is not None and all(type(r.get(key)) in kinds for r in rows) and \
                len({type(r[key]) is str for r in rows}) == 1:
            return lambda row, key=key: row[key]
        if key is not None and keys is ORDER_KEYS and all(isinstance(r.get(key), str) and r[key].strip().isdigit()
                                                           for r in rows):
            return lambda row, key=key: int(row[key])  # a CSV cell: "3"
    return None


def _conversation(conversation_key: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    order = _sort_key(rows)
    if order is not None:
        rows = sorted(rows, key=order)
    shared = {key: value for key, value in rows[0].items()
              if all(key in r and r[key] == value for r in rows[1:]) and key not in ROLE_KEYS + TEXT_KEYS}
    messages = []
    for row in rows:
        role, text = _first(row, ROLE_KEYS), _first(row, TEXT_KEYS)
        message: dict[str, Any] = {"role": row[role] if role else None, "content": row[text] if text else None}
        message.update((k, v) for k, v in row.items() if k not in shared and k != role and k != text)
        messages.append(message)
    return {**shared, conversation_key: rows[0][conversation_key], "messages": messages}


def assemble(payloads: Iterable[tuple[int | None, int, Any]]) -> Iterator[tuple[int | None, int, Any]]:
    """Message rows -> one conversation payload per conversation (at its first row); others pass through."""
    out: list[tuple[int | None, int, Any]] = []
    groups: dict[tuple[str, str], tuple[int, list[dict[str, Any]]]] = {}
    for line, index, payload in payloads:
        row = row_of(payload, is_message_row)
        if row is None:
            out.append((line, index, payload))
            continue
        key = _first(row, CONVERSATION_KEYS)
        assert key is not None  # is_message_row found it
        group = groups.get((key, str(row[key])))
        if group is None:
            groups[(key, str(row[key]))] = (len(out), [row])
            out.append((line, index, None))
        else:
            group[1].append(row)
    for (key, _value), (slot, rows) in groups.items():
        line, index, _ = out[slot]
        out[slot] = (line, index, _conversation(key, rows))
    yield from out


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    # Only reached for a row read on its own (assemble was not applied): one message, for the checks to judge.
    role, text = _first(obj, ROLE_KEYS), _first(obj, TEXT_KEYS)
    return [(None, {"messages": [{"role": map_role(obj[role] if role else None, mapping),
                                  "content": obj[text] if text else None}]}, None)]
