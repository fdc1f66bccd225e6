"""Prefix dedup as a global stage: a conversation whose turns open a longer kept conversation.

Real logs hold one conversation many times over: an app that logs every request logs the whole chat so far,
and ToolBench writes each step of a tool-use run as its own example (``Step 2``, ``Step 4``, ... of one query).
Exact dedup sees different records and near dedup catches only the longest pairs (one of ToolBench's four steps
of a query), so the opening reply was trained four times. Here a record is dropped as ``prefix_duplicate``
when its messages, up to its last reply, are the first messages of another record, compared as exact dedup
compares (``exact_text``: system prompt and tools included, case and whitespace folded), so the longer record,
which trains every reply the shorter one has, stays.

Workers key each conversation with two or more replies by the exact key of its messages up to the reply before
its last (its *parent*, 8 bytes); ``decide`` drops every record whose own exact key (its first 8 bytes) is the
parent of a live record, so a chain of steps keeps its longest and a branch point keeps both branches. A
record is never keyed as a parent when one of its replies is not trained (``weight: 0``): then the shorter
record trains a reply the longer does not. Labelled records (KTO) are neither dropped nor keyed: a good
opening of a run labelled bad is still a good example. Steps that skip a logged turn are not chained (only
the parent one reply back is keyed); near dedup still sees them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from curation.dedup.config import PrefixDedupConfig
from curation.dedup.text import exact_key, exact_text
from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable
from curation.records import is_preference

if TYPE_CHECKING:
    from curation.config import RunConfig

KEY_DTYPE = np.dtype([("parent", "<u8"), ("keyed", "u1")])  # keyed 0: neither dropped nor a parent (labelled)


def parent_key(record: dict[str, Any]) -> int:
    """The first 8 bytes (as an integer) of the exact key of ``record``'s messages up to the reply before its
    last one; 0 when it has fewer than two replies, or a reply that is not trained."""
    messages = record.get("messages")
    if not isinstance(messages, list) or is_preference(record):
        return 0
    replies = [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "assistant"]
    if len(replies) < 2 or any(messages[i].get("weight") == 0 for i in replies):
        return 0
    head: dict[str, Any] = {"messages": messages[:replies[-2] + 1]}
    if "tools" in record:
        head["tools"] = record["tools"]
    return int(np.frombuffer(exact_key(exact_text(head))[:8], dtype="<u8")[0]) or 1


def _labelled(record: dict[str, Any]) -> bool:
    metadata = record.get("metadata")
    return isinstance(metadata, dict) and metadata.get("label") is not None


def _own_keys(exact_keys: Any, rows: np.ndarray) -> np.ndarray:
    """The first 8 bytes of each row's 16-byte exact key, as little-endian integers."""
    if isinstance(exact_keys, np.ndarray):
        picked = np.ascontiguousarray(exact_keys[rows]).astype("S16")
        return np.frombuffer(picked.tobytes(), dtype="<u8").reshape(-1, 2)[:, 0] if len(rows) else \
            np.zeros(0, dtype="<u8")
    joined = b"".join(bytes(exact_keys[i])[:8].ljust(8, b"\0") for i in rows.tolist())
    return np.frombuffer(joined, dtype="<u8")


class PrefixDedupStage(GlobalStage):
    name: ClassVar[str] = "prefix_dedup"
    needs_keys: ClassVar[bool] = True

    def __init__(self, config: PrefixDedupConfig) -> None:
        self.config = config

    def keys(self, records: list[dict[str, Any]]) -> np.ndarray:
        out = np.zeros(len(records), dtype=KEY_DTYPE)
        for i, record in enumerate(records):
            if _labelled(record):
                continue
            out[i] = (parent_key(record), 1)
        return out

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
        own = _own_keys(table.exact_keys, rows)
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
