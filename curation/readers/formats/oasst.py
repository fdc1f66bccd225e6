"""OpenAssistant export trees: ``{"message_tree_id", "prompt": {"text", "role", "replies": [...]}}``, or
a tree given as its root message ``{"message_id", "text", "role", "replies": [...]}``.

Messages the OpenAssistant team removed (``deleted: true``) or that failed review (``review_result: false``)
are pruned with their replies (the ``*_all`` exports keep spam that way; the count goes to
``metadata.fields.pruned_messages``), and a tree whose ``tree_state`` is not ``ready_for_export`` (aborted for
low grades, halted by a moderator, still growing) is refused as ``unreviewed_tree``.

Every root-to-leaf path is one conversation, identified by its leaf's ``message_id``; the ids along the
path, the tree's id (``tree_id``: ``message_tree_id``, else the root message's id), the ``ranks`` along it and
the prompt's language go to ``metadata.fields``; the split keeps every path of one tree in one split by
``tree_id``. A path through an assistant reply that reviewers ranked below a sibling (rank > 0) is flagged
``lower_ranked_reply``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import ConvertProblem, as_number, map_role
from curation.readers.mapping import FieldMapping

NAME = "oasst"
# "prompt" for an export tree; text/role/replies for a tree given as its root message.
KEYS = frozenset({"prompt", "text", "role", "replies"})


def is_root_message(obj: dict[str, Any]) -> bool:
    """A tree given as its prompt message itself (no ``{"prompt": ...}`` wrapper): text, role, replies."""
    return isinstance(obj.get("replies"), list) and "text" in obj and "role" in obj


def is_oasst(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    prompt = obj.get("prompt")
    if isinstance(prompt, dict) and ("replies" in prompt or "message_id" in prompt or "message_tree_id" in obj):
        return True
    return is_root_message(obj)


def _removed(node: dict[str, Any]) -> bool:
    return node.get("deleted") is True or node.get("review_result") is False


def _count(node: dict[str, Any]) -> int:
    total, stack = 0, [node]
    while stack:
        current = stack.pop()
        total += 1
        stack.extend(r for r in current.get("replies") or [] if isinstance(r, dict))
    return total


def _paths(node: dict[str, Any], pruned: list[int]) -> list[list[dict[str, Any]]]:
    # Iterative depth-first walk: deep trees must not hit the recursion limit.
    paths: list[list[dict[str, Any]]] = []
    stack: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [(node, [node])]
    while stack:
        current, path = stack.pop()
        replies = [r for r in current.get("replies") or [] if isinstance(r, dict)]
        removed = [r for r in replies if _removed(r)]
        if removed:
            pruned[0] += sum(_count(r) for r in removed)
            replies = [r for r in replies if not _removed(r)]
        if not replies:
            paths.append(path)
            continue
        for reply in reversed(replies):  # reversed so paths come out in the file's order
            stack.append((reply, [*path, reply]))
    return paths


def convert(
    obj: dict[str, Any], mapping: FieldMapping | None
) -> list[tuple[str | None, dict[str, Any], dict[str, Any]]]:
    wrapped = isinstance(obj.get("prompt"), dict)
    root = obj["prompt"] if wrapped else obj
    state = obj.get("tree_state")
    if isinstance(state, str) and state != "ready_for_export":
        raise ConvertProblem("unreviewed_tree", f"tree_state is {state!r}: only 'ready_for_export' trees passed "
                             "OpenAssistant's review (aborted and halted trees hold spam and low-grade replies); use "
                             "the ready export, or drop such trees")
    if _removed(root):
        raise ConvertProblem("unreviewed_tree", "the tree's prompt was deleted or failed review")
    pruned = [0]
    results = []
    for path in _paths(root, pruned):
        messages = [{"role": map_role(node.get("role"), mapping), "content": node.get("text")} for node in path]
        ids = [node.get("message_id") for node in path]
        fields: dict[str, Any] = {"message_ids": ids}
        tree_id = obj.get("message_tree_id") or root.get("message_tree_id") or ids[0]
        if tree_id is not None:
            fields["tree_id"] = str(tree_id)
        if root.get("lang") is not None:
            fields["lang"] = root["lang"]
        if not wrapped and "message_tree_id" not in obj and root.get("message_id") is not None:
            # The tree's id is its root message's id (what OASST's message_tree_id is): paths of one tree
            # share it, so a group-aware split can keep them together.
            fields["message_tree_id"] = root["message_id"]
        if pruned[0]:
            fields["pruned_messages"] = pruned[0]
        body: dict[str, Any] = {"messages": messages}
        ranks = [node.get("rank") for node in path]
        if any(rank is not None for rank in ranks):
            fields["ranks"] = ranks
        if any(m["role"] == "assistant" and (as_number(rank) or 0) > 0 for m, rank in zip(messages, ranks,
                                                                                          strict=True)):
            # Reviewers ranked this reply below a sibling: the "top-1" SFT recipes (Guanaco, oasst_top1) keep only
            # rank-0 replies, which `flags: {lower_ranked_reply: drop}` gives.
            body["metadata"] = {"flags": ["lower_ranked_reply"]}
        leaf_id = ids[-1]
        results.append((str(leaf_id) if leaf_id is not None else None, body, fields))
    return results
