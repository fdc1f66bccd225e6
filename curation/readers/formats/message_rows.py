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
from datetime import UTC, datetime
from typing import Any

from curation.readers.formats._common import map_role, row_of
from curation.readers.mapping import FieldMapping

NAME = "message_rows"
CONVERSATION_KEYS = ("conversation_id", "conv_id", "session_id", "thread_id", "dialog_id", "dialogue_id",
                     "chat_id", "ticket_id")
# A column of role words before one of names: Intercom-like tables hold both `sender` ("Jane Doe") and
# `sender_type` ("user").
ROLE_KEYS = ("role", "sender_type", "author_type", "sender_role", "speaker_type", "author_role", "speaker", "sender",
             "from")
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


def _columns(obj: dict[str, Any], mapping: FieldMapping | None) -> tuple[str | None, str | None, str | None]:
    """The (conversation, role, text) columns of a row: a mapping's names where it gives them, else the known
    ones."""
    if mapping is not None and mapping.conversation is not None:
        conversation = mapping.conversation if mapping.conversation in obj else None
    else:
        conversation = _first(obj, CONVERSATION_KEYS)
    role = mapping.role if mapping is not None and mapping.role and mapping.role in obj else _first(obj, ROLE_KEYS)
    text = (mapping.content if mapping is not None and mapping.content and mapping.content in obj
            else _first(obj, TEXT_KEYS))
    return conversation, role, text


def is_message_row(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if _CONVERSATION_SET.isdisjoint(obj) and (mapping is None or mapping.conversation not in obj):
        return False  # every record of every other format: one set test, on the hot path
    conversation, role, text = _columns(obj, mapping)
    if conversation is None or role is None or text is None or any(k in obj for k in _RECORD_KEYS):
        return False
    value = obj[conversation]
    return (isinstance(value, str | int) and not isinstance(value, bool) and isinstance(obj[role], str)
            and isinstance(obj[text], str | type(None)))


# Timestamps as spreadsheets and warehouses write them, tried in this order for a whole conversation (US dates
# before day-first ones, as Excel's default locale writes them).
_TIME_FORMATS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y",
                 "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S",
                 "%Y/%m/%d %H:%M")


def _times(values: list[Any]) -> list[float] | None:
    """Each value as seconds: numbers and numeric strings (epochs) as they are, ISO 8601 text, or one of
    ``_TIME_FORMATS`` for every value; None when no one reading holds for all (then the file's order stands: a
    sort of "3/1/2024 9:58 AM" as text put it after "3/1/2024 10:02 AM")."""
    if all(type(v) in (int, float) for v in values):
        return [float(v) for v in values]
    if not all(isinstance(v, str) and v.strip() for v in values):
        return None
    texts = [v.strip() for v in values]
    try:
        return [float(t) for t in texts]
    except ValueError:
        pass
    try:
        stamps = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in texts]
        return [(d if d.tzinfo else d.replace(tzinfo=UTC)).timestamp() for d in stamps]
    except ValueError:
        pass
    readings: list[list[float]] = []
    for pattern in _TIME_FORMATS:
        try:
            readings.append([datetime.strptime(t, pattern).replace(tzinfo=UTC).timestamp() for t in texts])
        except ValueError:
            continue
    if not readings:
        return None
    # "12/03/2024" and "01/04/2024" read as US and as day-first dates: the reading that disagrees least with the
    # file's own order is taken (a conversation that crosses a month while both days are <= 12)
    return min(readings, key=_inversions)


def _inversions(times: list[float]) -> int:
    return sum(1 for a, b in zip(times, times[1:], strict=False) if b < a)


def _numbered(rows: list[dict[str, Any]], key: str) -> Any:
    """Sort key by the turn numbers in column ``key`` (numbers, or a CSV cell's "3"), or None."""
    if all(type(r.get(key)) in (int, float) for r in rows):
        return lambda row: row[key]
    if all(isinstance(r.get(key), str) and r[key].strip().isdigit() for r in rows):
        return lambda row: int(row[key])
    return None


def _timed(rows: list[dict[str, Any]], key: str) -> Any:
    """Sort key by the times in column ``key`` (see :func:`_times`), or None."""
    times = _times([r.get(key) for r in rows])
    if times is None:
        return None
    stamps = {id(row): t for row, t in zip(rows, times, strict=True)}
    return lambda row: stamps[id(row)]


def _sort_key(rows: list[dict[str, Any]], order: str | None = None) -> Any:
    """The order of a conversation's rows: a turn number, else a timestamp, else the file's (stable sort);
    ``order`` (a mapping's column) is read as either, and no other column is tried beside it."""
    if order is not None and order in rows[0]:
        return _numbered(rows, order) or _timed(rows, order)
    key = _first(rows[0], ORDER_KEYS)
    found = _numbered(rows, key) if key is not None else None
    if found is None:
        key = _first(rows[0], TIME_KEYS)
        found = _timed(rows, key) if key is not None else None
    return found


def _conversation(conversation_key: str, rows: list[dict[str, Any]],
                  mapping: FieldMapping | None = None) -> dict[str, Any]:
    order = _sort_key(rows, mapping.order if mapping is not None else None)
    if order is not None:
        rows = sorted(rows, key=order)
    _, role0, text0 = _columns(rows[0], mapping)
    turn_keys = {*ROLE_KEYS, *TEXT_KEYS, role0, text0}
    shared = {key: value for key, value in rows[0].items()
              if all(key in r and r[key] == value for r in rows[1:]) and key not in turn_keys}
    messages = []
    for row in rows:
        _, role, text = _columns(row, mapping)
        message: dict[str, Any] = {"role": row[role] if role else None, "content": row[text] if text else None}
        message.update((k, v) for k, v in row.items() if k not in shared and k != role and k != text)
        messages.append(message)
    return {**shared, conversation_key: rows[0][conversation_key], "messages": messages}


def assemble(payloads: Iterable[tuple[int | None, int, Any]],
             mapping: FieldMapping | None = None) -> Iterator[tuple[int | None, int, Any]]:
    """Message rows -> one conversation payload per conversation (at its first row); others pass through."""
    out: list[tuple[int | None, int, Any]] = []
    groups: dict[tuple[str, str], tuple[int, list[dict[str, Any]]]] = {}

    def matches(obj: dict[str, Any]) -> bool:
        return is_message_row(obj, mapping)

    for line, index, payload in payloads:
        row = row_of(payload, matches)
        if row is None:
            out.append((line, index, payload))
            continue
        key = _columns(row, mapping)[0]
        assert key is not None  # is_message_row found it
        group = groups.get((key, str(row[key])))
        if group is None:
            groups[(key, str(row[key]))] = (len(out), [row])
            out.append((line, index, None))
        else:
            group[1].append(row)
    for (key, _value), (slot, rows) in groups.items():
        line, index, _ = out[slot]
        out[slot] = (line, index, _conversation(key, rows, mapping))
    yield from out


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    # Only reached for a row read on its own (assemble was not applied): one message, for the checks to judge.
    _, role, text = _columns(obj, mapping)
    return [(None, {"messages": [{"role": map_role(obj[role] if role else None, mapping),
                                  "content": obj[text] if text else None}]}, None)]
