"""Prefix dedup as a global stage: a conversation whose turns open a longer kept conversation.

Real logs hold one conversation many times over: an app that logs every request logs the whole chat so far,
and ToolBench writes each step of a tool-use run as its own example (``Step 2``, ``Step 4``, ... of one query).
Exact dedup sees different records and near dedup catches only the longest pairs (one of ToolBench's four steps
of a query), so the opening reply was trained four times. Here a record is dropped as ``prefix_duplicate``
when its messages, up to its last reply, are the first messages of another record with the same tools (system
prompt included; compared as written: a log re-sends the history byte for byte), so the longer record, which
trains every reply the shorter one has, stays.

Workers key each conversation by a 64-bit hash of its messages and tools, and, with two or more replies, of its
messages up to the reply before its last (its *parent*), in one pass (17 bytes a record; 2.5 us of CPU on a
one-turn self-instruct row, 5.7 on a cookbook row with 16 tools, 8 on twelve long turns); ``decide`` drops
every record whose own key is the parent of a live record, so a chain of steps keeps its longest and a branch
point keeps both branches. A
record is never keyed as a parent when one of its replies is not trained (``weight: 0``): then the shorter
record trains a reply the longer does not. Labelled records (KTO) are neither dropped nor keyed: a good
opening of a run labelled bad is still a good example. Steps that skip a logged turn are not chained (only
the parent one reply back is keyed); near dedup still sees them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import orjson
import xxhash

from curation.dedup.config import PrefixDedupConfig
from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable
from curation.records import is_preference

if TYPE_CHECKING:
    from curation.config import RunConfig

KEY_DTYPE = np.dtype([("own", "<u8"), ("parent", "<u8"), ("keyed", "u1")])  # keyed 0: labelled, left alone


def _message_bytes(message: Any) -> bytes:
    """What a message says (role, text, calls, reasoning, name): not its weight, which the shorter record may set
    otherwise on the turns it shares (a log re-sends the history as context)."""
    if not isinstance(message, dict):
        return orjson.dumps(repr(message))
    return orjson.dumps([message.get("role"), message.get("content"), message.get("tool_calls"),
                         message.get("reasoning"), message.get("name")], default=repr)


def prefix_keys(record: dict[str, Any]) -> tuple[int, int]:
    """(own, parent): 64-bit hashes of the record's messages and tools, and of its messages up to the reply
    before its last (0 when it has fewer than two replies, or a reply that is not trained). One pass: the
    parent is a copy of the running hash at that reply."""
    messages = record.get("messages")
    if not isinstance(messages, list) or is_preference(record):
        return 0, 0
    tools = orjson.dumps(record.get("tools"), default=repr)
    replies = [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "assistant"]
    cut = replies[-2] if len(replies) >= 2 and all(messages[i].get("weight") != 0 for i in replies) else -1
    running = xxhash.xxh3_64()
    parent = 0
    for i, message in enumerate(messages):
        running.update(_message_bytes(message))
        if i == cut:
            head = running.copy()
            head.update(tools)
            parent = head.intdigest() or 1
    running.update(tools)
    return running.intdigest() or 1, parent


def _labelled(record: dict[str, Any]) -> bool:
    metadata = record.get("metadata")
    return isinstance(metadata, dict) and metadata.get("label") is not None


class PrefixDedupStage(GlobalStage):
    name: ClassVar[str] = "prefix_dedup"
    needs_keys: ClassVar[bool] = True

    def __init__(self, config: PrefixDedupConfig) -> None:
        self.config = config

    def keys(self, records: list[dict[str, Any]]) -> np.ndarray:
        rows = [(0, 0, 0) if _labelled(record) else (*prefix_keys(record), 1) for record in records]
        return np.array(rows, dtype=KEY_DTYPE) if rows else np.zeros(0, dtype=KEY_DTYPE)

    def decide(self, table: KeyTable) -> Decision:
        keys = table.extra.get(self.name)
        rows = np.flatnonzero(table.alive)
        if keys is None or len(rows) == 0:
            return Decision()
        parents, keyed = keys["parent"][rows], keys["keyed"][rows].astype(bool)
        child_of: dict[int, int] = {}  # parent key -> the first live row it opens
        for row, parent in zip(rows[parents != 0].tolist(), parents[parents != 0].tolist(), strict=True):
            child_of.setdefault(parent, row)
        if not child_of:
            return Decision()
        own = keys["own"][rows]
        dropped = {row: child_of[key] for row, key, ok in zip(rows.tolist(), own.tolist(), keyed.tolist(),
                                                              strict=True)
                   if ok and key in child_of and child_of[key] != row}
        drops: dict[int, GlobalDrop] = {}
        for row, child in dropped.items():
            survivor, seen = child, {row}
            while survivor in dropped and survivor not in seen:  # a chain of steps: name the longest, kept one
                seen.add(survivor)
                survivor = dropped[survivor]
            drops[row] = GlobalDrop("prefix_duplicate", "its turns open a longer conversation, kept in its place "
                                    "(which trains every reply this one has)", survivor, 1.0)
        return Decision(drops=drops)


def build(config: RunConfig) -> PrefixDedupStage | None:
    settings = config.prefix_dedup  # type: ignore[attr-defined] - added from the registry
    return PrefixDedupStage(settings) if settings.enabled else None
