"""Open WebUI's chat export (Settings > Data Controls > Export Chats: ``chat-export-<ms>.json``): an array of
chats, each ``{"id", "title", "chat": {"history": {"messages": {id: {"parentId", "childrenIds", "role",
"content", ...}}, "currentId"}, "messages": [...], "params", "models"}, "created_at", ...}``; a chat read on its
own (``/api/v1/chats/{id}``'s ``chat``) is the inner object.

The conversation is the path from the root to ``history.currentId``, the message the user last saw: a
regenerated answer, an edited question or a second model's reply is a sibling branch, not a turn (their number
is ``metadata.left_out.other_branches``). The flat ``messages`` list beside the tree is not read: older versions
wrote every message there, branches included. ``params.system`` (the chat's system prompt) is the system turn.

A reasoning model's thoughts, which Open WebUI writes into the answer as ``<details type="reasoning">`` HTML with
each line quoted (``> ``, HTML-escaped in recent versions), are the answer's ``reasoning_content``; the
"Thought for N seconds" summary is left out. What the answer drew on that the export does not hold as a turn is
``server_tool_call``: a tool Open WebUI ran (``<details type="tool_calls">`` or ``code_interpreter``), retrieved
files or web results (``sources``, ``citations``), a document uploaded to the chat. An uploaded image is an
``image_url`` part when the export holds it as a ``data:`` URL, ``image_missing`` when it only links the server's
copy.
"""

from __future__ import annotations

import html
import re
from typing import Any

from curation.readers.formats._common import ConvertProblem, branch, rated_down_metadata
from curation.readers.mapping import FieldMapping

NAME = "open_webui"
KEYS = frozenset({"chat", "history", "messages", "params"})
_DETAILS = re.compile(r'<details type="(?P<type>[a-z_]+)"[^>]*>(?P<body>.*?)</details>\n?', re.S)
_SUMMARY = re.compile(r"\s*<summary>.*?</summary>\s*", re.S)


def _chat(obj: dict[str, Any]) -> dict[str, Any] | None:
    chat = obj.get("chat") if isinstance(obj.get("chat"), dict) else obj
    history = chat.get("history")
    if isinstance(history, dict) and isinstance(history.get("messages"), dict) and "currentId" in history:
        return chat
    return None


def is_open_webui(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return _chat(obj) is not None


def _answer(content: str, where: str) -> tuple[str, str | None]:
    """An answer's text and its reasoning, out of the ``<details>`` blocks Open WebUI writes into it."""
    thoughts: list[str] = []
    for block in _DETAILS.finditer(content):
        kind = block["type"]
        if kind != "reasoning":
            raise ConvertProblem("server_tool_call", f"{where}: the answer holds an Open WebUI <details "
                                 f"type=\"{kind}\"> block (a tool or code run on Open WebUI's server), which no "
                                 "training format holds as text; leave such chats out or rewrite them as tool calls")
        body = html.unescape(_SUMMARY.sub("", block["body"], count=1))
        lines = [line[2:] if line.startswith("> ") else line[1:] if line.startswith(">") else line
                 for line in body.strip("\n").split("\n")]
        thoughts.append("\n".join(lines).strip())
    text = _DETAILS.sub("", content).strip()
    reasoning = "\n\n".join(t for t in thoughts if t)
    return text, reasoning or None


def _user_content(message: dict[str, Any], where: str) -> Any:
    text = message.get("content")
    images: list[dict[str, Any]] = []
    for n, item in enumerate(message.get("files") or []):
        kind = item.get("type") if isinstance(item, dict) else None
        url = item.get("url") if isinstance(item, dict) else None
        if kind == "image" and isinstance(url, str) and url.startswith("data:image/"):
            images.append({"type": "image_url", "image_url": {"url": url}})
        elif kind == "image":
            raise ConvertProblem("image_missing", f"{where}.files[{n}]: an uploaded image the export only links "
                                 f"({str(url)[:60]!r}), without its bytes; leave such chats out")
        else:
            raise ConvertProblem("server_tool_call", f"{where}.files[{n}]: a {kind or 'file'} uploaded to the chat, "
                                 "which Open WebUI read on its own side (retrieval): the answer draws on text the "
                                 "export does not hold; leave such chats out")
    if not images:
        return text
    return [{"type": "text", "text": text}, *images] if isinstance(text, str) and text else images


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    chat = _chat(obj)
    assert chat is not None  # is_open_webui held
    history = chat["history"]
    tree: dict[str, Any] = history["messages"]
    path = branch(tree, history.get("currentId"), "parentId", "childrenIds", "history.messages")
    messages: list[dict[str, Any]] = []
    system = chat.get("params", {}).get("system") if isinstance(chat.get("params"), dict) else None
    if isinstance(system, str) and system.strip():
        messages.append({"role": "system", "content": system})
    rated_down: list[str] = []  # answers the user gave a thumbs-down (annotation.rating -1)
    for node in path:
        key = node.get("id")
        where = f"history.messages[{key!r}]"
        role = node.get("role")
        if role == "assistant":
            annotation = node.get("annotation")
            if isinstance(annotation, dict) and annotation.get("rating") == -1:
                rated_down.append(str(key))
            if node.get("sources") or node.get("citations"):
                raise ConvertProblem("server_tool_call", f"{where}: the answer cites sources Open WebUI retrieved "
                                     "(files, knowledge or web search) that the export does not hold as a turn; "
                                     "leave such chats out")
            content = node.get("content")
            turn: dict[str, Any] = {"role": "assistant", "content": content}
            if isinstance(content, str):
                text, reasoning = _answer(content, where)
                turn["content"] = text
                if reasoning is not None:
                    turn["reasoning_content"] = reasoning
            messages.append(turn)
        elif role == "user":
            messages.append({"role": "user", "content": _user_content(node, where)})
        else:
            messages.append({"role": role, "content": node.get("content")})
    body: dict[str, Any] = {"messages": messages}
    others = len(tree) - len(path)
    if others:
        body["metadata"] = {"left_out": {"other_branches": others}}
    if rated_down:  # the user's own verdict
        body.setdefault("metadata", {}).update(rated_down_metadata("annotation.rating: -1", rated_down))
    own_id = obj.get("id") if obj.get("id") not in (None, "") else chat.get("id")
    return [(str(own_id) if own_id not in (None, "") else None, body, None)]
