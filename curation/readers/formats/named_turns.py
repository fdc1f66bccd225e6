"""A conversation's turns under another name than ``messages`` or ``conversations``: ``dialog``, ``dialogue``,
``turns``, ``utterances`` or ``chat``, each turn naming its speaker (``role``, ``speaker``, ``sender``,
``from``, ``author``) and its words (``content``, ``text``, ``utterance``, ``value``, ``message``), as
dialogue corpora (Taskmaster's ``utterances``, MultiWOZ's ``turns``) and many apps' own exports write them.

Matched only when exactly one of those keys holds such a list, so other uses of the names are left alone;
speaker names go through the usual role aliases (``USER``, ``ASSISTANT``, ``bot``) and the checks.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import convert_turns
from curation.readers.mapping import FieldMapping

NAME = "named_turns"
TURN_KEYS = ("dialog", "dialogue", "turns", "utterances", "chat")
SPEAKER_KEYS = ("role", "speaker", "sender", "from", "author")
WORDS_KEYS = ("content", "text", "utterance", "value", "message")
KEYS = frozenset(TURN_KEYS)


def _is_turn(turn: Any) -> bool:
    return (isinstance(turn, dict) and any(isinstance(turn.get(k), str) for k in SPEAKER_KEYS)
            and any(k in turn for k in WORDS_KEYS))


def _key(obj: dict[str, Any]) -> str | None:
    found = [k for k in TURN_KEYS if isinstance(obj.get(k), list) and obj[k] and all(_is_turn(t) for t in obj[k])]
    return found[0] if len(found) == 1 else None


_TURN_SET = frozenset(TURN_KEYS)


def is_named_turns(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return not _TURN_SET.isdisjoint(obj) and _key(obj) is not None


def _canonical(turn: dict[str, Any]) -> dict[str, Any]:
    speaker = next(k for k in SPEAKER_KEYS if isinstance(turn.get(k), str))
    words = next(k for k in WORDS_KEYS if k in turn)
    rest = {k: v for k, v in turn.items() if k not in (speaker, words)}
    return {"role": turn[speaker], "content": turn[words], **rest}


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    key = _key(obj)
    assert key is not None  # is_named_turns found it
    turns = [_canonical(t) for t in obj[key]]
    speakers = {t["role"].lower() for t in turns}
    if speakers == {"user", "system"} and turns[0]["role"].lower() == "user":
        # Dialogue corpora (MultiWOZ, SGD) call the agent that answers the user SYSTEM: it is the assistant
        # here, not a system prompt in the middle of the conversation.
        turns = [{**t, "role": "assistant"} if t["role"].lower() == "system" else t for t in turns]
    return [(None, {"messages": convert_turns(turns, mapping)}, None)]
