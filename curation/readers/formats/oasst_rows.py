"""OpenAssistant as flat message rows (the ``OpenAssistant/oasst1`` and ``oasst2`` Hugging Face files):
one row per message with ``message_id``, ``parent_id``, ``message_tree_id``, ``role``, ``text``, ``rank``.

Rows are put back into trees before conversion (``assemble``), since a conversation is a root-to-leaf path
and its messages are scattered over the file. The trees then read exactly like OASST's own export trees
(``oasst.py``): one record per path, ``tree_id`` in ``metadata.fields`` so the split keeps a tree together.
Siblings keep OASST's ranking order (rank 0 first, unranked last, then file order). A row whose parent is
not in the file is one reject naming the missing parent, never a half conversation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from curation.readers.containers import BrokenPayload
from curation.readers.formats._common import map_role, row_of
from curation.readers.mapping import FieldMapping

NAME = "oasst_rows"
KEYS = frozenset({"message_id", "parent_id", "message_tree_id", "text", "role"})
_NODE_KEYS = ("message_id", "text", "role", "lang", "rank")


def is_oasst_row(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return ("message_tree_id" in obj and "message_id" in obj and "text" in obj and "role" in obj
            and "replies" not in obj and "prompt" not in obj)


def assemble(payloads: Iterable[tuple[int | None, int, Any]],
             mapping: FieldMapping | None = None) -> Iterator[tuple[int | None, int, Any]]:
    """Message rows -> one tree payload per root (at the root's position); other payloads pass through."""
    out: list[tuple[int | None, int, Any]] = []
    nodes: dict[str, dict[str, Any]] = {}
    rows: list[tuple[int, dict[str, Any], int | None, int]] = []  # (slot in out, row, line, index)
    for line, index, payload in payloads:
        row = row_of(payload, is_oasst_row)
        if row is None:
            out.append((line, index, payload))
            continue
        node = {k: row[k] for k in _NODE_KEYS if k in row}
        node["replies"] = []
        nodes[str(row["message_id"])] = node
        rows.append((len(out), row, line, index))
        out.append((line, index, None))
    order = {id(n): i for i, n in enumerate(nodes.values())}
    for slot, row, line, index in rows:
        parent = row.get("parent_id")
        node = nodes[str(row["message_id"])]
        if parent is None:
            tree = {"message_tree_id": str(row.get("message_tree_id")), "prompt": node}
            out[slot] = (line, index, tree)
        elif str(parent) in nodes:
            nodes[str(parent)]["replies"].append(node)
        else:
            out[slot] = (line, index, BrokenPayload(
                "orphan_message",
                f"message {row['message_id']} replies to {parent}, which is not in the file (give the whole "
                "export: every message of a tree)"))
    for node in nodes.values():
        node["replies"].sort(key=lambda n: (n.get("rank") is None, n.get("rank") or 0, order[id(n)]))
    for line, index, payload in out:
        if payload is not None:
            yield line, index, payload


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    # Only reached for a row read on its own (assemble was not applied): one message, for the checks to judge.
    return [(None, {"messages": [{"role": map_role(obj["role"], mapping), "content": obj["text"]}]}, None)]
