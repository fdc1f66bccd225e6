"""OpenAssistant export trees: ``{"message_tree_id", "prompt": {"text", "role", "replies": [...]}}``.

Every root-to-leaf path is one conversation, identified by its leaf's ``message_id``; the ids along the
path, the tree's id (``tree_id``: ``message_tree_id``, else the root message's id) and the prompt's language go
to ``metadata.fields``; the split keeps every path of one tree in one split by ``tree_id``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import map_role
from curation.readers.mapping import FieldMapping

NAME = "oasst"
KEYS = frozenset({"prompt"})


def is_oasst(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    prompt = obj.get("prompt")
    return isinstance(prompt, dict) and ("replies" in prompt or "message_id" in prompt or "message_tree_id" in obj)


def _paths(node: dict[str, Any]) -> list[list[dict[str, Any]]]:
    # Iterative depth-first walk: deep trees must not hit the recursion limit.
    paths: list[list[dict[str, Any]]] = []
    stack: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [(node, [node])]
    while stack:
        current, path = stack.pop()
        replies = [r for r in current.get("replies") or [] if isinstance(r, dict)]
        if not replies:
            paths.append(path)
            continue
        for reply in reversed(replies):  # reversed so paths come out in the file's order
            stack.append((reply, [*path, reply]))
    return paths


def convert(
    obj: dict[str, Any], mapping: FieldMapping | None
) -> list[tuple[str | None, dict[str, Any], dict[str, Any]]]:
    root = obj["prompt"]
    results = []
    for path in _paths(root):
        messages = [{"role": map_role(node.get("role"), mapping), "content": node.get("text")} for node in path]
        ids = [node.get("message_id") for node in path]
        fields: dict[str, Any] = {"message_ids": ids}
        tree_id = obj.get("message_tree_id") or root.get("message_tree_id") or ids[0]
        if tree_id is not None:
            fields["tree_id"] = str(tree_id)
        if root.get("lang") is not None:
            fields["lang"] = root["lang"]
        leaf_id = ids[-1]
        results.append((str(leaf_id) if leaf_id is not None else None, {"messages": messages}, fields))
    return results
