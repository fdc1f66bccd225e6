"""Two chat apps that keep a conversation as a tree of messages, read as the branch the user kept:

* HuggingChat (huggingface/chat-ui, ``src/lib/types/Message.ts`` and ``Conversation.ts``): ``{"title",
  "rootMessageId", "preprompt", "model", "messages": [{"id", "from", "content", "ancestors", "children",
  "interrupted"?, "score"?, "reasoning"?, "files"?}]}``. The app shows the newest child of each message, so that is
  the branch read. The root system message it always writes (``preprompt`` or "") is the system turn when it
  says something.
* llama.cpp's server web UI export (``tools/server/webui``, ``ExportedConversation``): ``{"conv": {"id", "name",
  "currNode"}, "messages": [{"id", "type": "root" | "text", "role", "content", "parent", "children",
  "thinking"?}]}``: the branch that ends at ``currNode``.

Read as plain ``messages`` before, both trained every branch in a row (a regenerated answer after the one it
replaced). An answer the user stopped (``interrupted``) is ``incomplete_answer`` when it is the last, and kept at
weight 0 when the chat went on; a thumbs-down (``score: -1``) makes the conversation undesirable. Uploaded files are
not in the export: such a chat is refused as ``image_missing``. Other branches are counted in
``metadata.left_out.other_branches``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import ConvertProblem, branch, rated_down_metadata, settle_stopped
from curation.readers.mapping import FieldMapping

HUGGINGCHAT = "huggingchat"
LLAMACPP = "llamacpp_webui"
HUGGINGCHAT_KEYS = frozenset({"messages", "rootMessageId", "preprompt"})
LLAMACPP_KEYS = frozenset({"messages"})  # conv (name, currNode) stays a field
_PARENT = "_parent"


def is_huggingchat(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    messages = obj.get("messages")
    return isinstance(messages, list) and bool(messages) and all(
        isinstance(m, dict) and "from" in m and isinstance(m.get("ancestors"), list) and "children" in m
        and "id" in m for m in messages)


def is_llamacpp_webui(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    messages, conv = obj.get("messages"), obj.get("conv")
    return isinstance(conv, dict) and "currNode" in conv and isinstance(messages, list) and bool(messages) and all(
        isinstance(m, dict) and "id" in m and "parent" in m and "children" in m for m in messages)


def _nodes(messages: list[dict[str, Any]], parent_of: Any) -> dict[str, dict[str, Any]]:
    nodes: dict[str, dict[str, Any]] = {}
    for n, message in enumerate(messages):
        key = message.get("id")
        if not isinstance(key, str | int) or str(key) in nodes:
            raise ConvertProblem("data_type", f"message {n + 1} has no id of its own, so its place in the "
                                 "conversation cannot be told; export the conversation again")
        parent = parent_of(message)
        nodes[str(key)] = {**message, _PARENT: str(parent) if parent not in (None, "") else None,
                           "children": [str(c) for c in message.get("children") or []]}
    return nodes


def _turns(path: list[dict[str, Any]], role_key: str, reasoning_key: str) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    stopped: dict[int, str] = {}
    rated_down: list[str] = []
    for node in path:
        where = f"message {node.get('id')!r}"
        role, content = node.get(role_key), node.get("content")
        if node.get("type") == "root" or (role == "system" and not (isinstance(content, str) and content.strip())):
            continue  # the empty root every chat starts with
        if node.get("files") or node.get("extra"):
            raise ConvertProblem("image_missing", f"{where}: a file uploaded to the chat, which the export does not "
                                 "hold; the answer draws on what the training data never shows (leave such chats "
                                 "out)")
        turn: dict[str, Any] = {"role": role, "content": content}
        if role == "assistant":
            thought = node.get(reasoning_key)
            if isinstance(thought, str) and thought.strip():
                turn["reasoning_content"] = thought
            if node.get("interrupted") is True:
                stopped[len(messages)] = "interrupted"
            if node.get("score") == -1:
                rated_down.append(str(node.get("id")))
        messages.append(turn)
    settle_stopped(messages, stopped, "the user's stop")
    body: dict[str, Any] = {"messages": messages}
    if rated_down:
        body["metadata"] = rated_down_metadata("score: -1", rated_down)
    return body


def _left_out(body: dict[str, Any], nodes: dict[str, Any], path: list[dict[str, Any]]) -> None:
    others = len(nodes) - len(path)
    if others:
        body.setdefault("metadata", {})["left_out"] = {"other_branches": others}


def convert_huggingchat(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any],
                                                                                           None]]:
    nodes = _nodes(obj["messages"], lambda m: m["ancestors"][-1] if m["ancestors"] else None)
    path = branch(nodes, None, _PARENT, "children", "messages")
    body = _turns(path, "from", "reasoning")
    preprompt = obj.get("preprompt")
    if isinstance(preprompt, str) and preprompt.strip() and not any(m["role"] == "system" for m in body["messages"]):
        body["messages"].insert(0, {"role": "system", "content": preprompt})
    _left_out(body, nodes, path)
    own = obj.get("_id") if isinstance(obj.get("_id"), str) else obj.get("id")
    return [(str(own) if isinstance(own, str) and own else None, body, None)]


def convert_llamacpp_webui(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None,
                                                                                              dict[str, Any], None]]:
    nodes = _nodes(obj["messages"], lambda m: m.get("parent"))
    leaf = obj["conv"].get("currNode")
    path = branch(nodes, str(leaf) if leaf not in (None, "") else None, _PARENT, "children", "messages")
    body = _turns(path, "role", "thinking")
    _left_out(body, nodes, path)
    own = obj["conv"].get("id")
    return [(str(own) if isinstance(own, str) and own else None, body, None)]
