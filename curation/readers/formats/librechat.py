"""LibreChat's conversation export (a chat's menu > Export > JSON, client/src/hooks/Conversations/
useExportConversation.ts): ``{"conversationId", "endpoint", "title", "exportAt", "branches", "recursive", "options",
"messages": [...]}``. Each message is ``{"messageId", "parentMessageId", "isCreatedByUser", "sender", "text",
"content", "createdAt", "unfinished", "error", "finish_reason", "files", ...}``. The export's three layouts, all read
(LibreChat's own importer reads them the same way, api/server/utils/import/importers.js):

- the branch on screen only (``branches: false``): a flat list, one path;
- every branch (``branches: true``): a flat list of the whole tree, linked by ``parentMessageId`` (the root's is
  ``00000000-0000-0000-0000-000000000000``; an edited first question is a second root);
- ``recursive: true``: the same tree nested, each message's replies in its ``children`` (older versions wrote it
  under ``messagesTree``); a message's parent is the one it is nested in.

The conversation is the path from the root to the latest message (the greatest ``createdAt``; without one on every
message, the last written, which in LibreChat's depth-first order ends the newest branch, the one it shows): an
edited question or a regenerated answer is a sibling branch the user moved away from, counted in
``metadata.left_out.other_branches``. The role is ``isCreatedByUser`` (``sender`` is a display name: "User",
"GPT-4", a preset's label). ``options.promptPrefix`` (the chat's custom instructions, there when the export
included its options) is the system turn; the other options stay in ``metadata.fields``.

An agent's or assistant's answer holds ``content`` parts instead of ``text``: ``text`` parts are its words,
``think`` parts its ``reasoning_content``; a ``tool_call`` part with its ``output`` is an assistant tool call and
the tool's result, the answer going on after it as a new assistant turn. A tool call whose output the export lacks,
or one to OpenAI's hosted tools (``code_interpreter``, ``retrieval``, ``file_search``), is ``server_tool_call``; an
unknown part is ``data_type``, naming it. An answer that was stopped or cut off (``unfinished``, ``finish_reason``
``length``/``incomplete``) or that is LibreChat's error message (``error``, an ``error`` part) is
``incomplete_answer``. A file uploaded with a question (``files``) is ``image_missing`` for an image (the export
links the server's copy only), ``server_tool_call`` for another file (LibreChat read it on its own side); files a
tool made for an answer (``attachments``) are left out and counted. An agent's or assistant's instructions
(``agent_id`` / ``assistant_id``) are not exported: the record is kept and flagged ``custom_gpt``, as ChatGPT's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from curation.readers.formats._common import ConvertProblem, branch, rated_down_metadata
from curation.readers.mapping import FieldMapping
from curation.records import arguments_string

NAME = "librechat"
KEYS = frozenset({"conversationId", "messages", "messagesTree"})
NO_PARENT = "00000000-0000-0000-0000-000000000000"  # librechat-data-provider's Constants.NO_PARENT
_CUT_OFF = frozenset({"length", "incomplete", "max_tokens", "content_filter"})
_HOSTED_TOOLS = frozenset({"code_interpreter", "retrieval", "file_search"})  # run by OpenAI's Assistants API
_SKIPPED_PARTS = frozenset({"agent_update"})  # which agent of a chain speaks next: bookkeeping, not words


def _listed(obj: dict[str, Any]) -> Any:
    return obj["messagesTree"] if isinstance(obj.get("messagesTree"), list) else obj.get("messages")


def is_librechat(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    messages = _listed(obj)
    return "conversationId" in obj and isinstance(messages, list) and bool(messages) and all(
        isinstance(m, dict) and "messageId" in m and "isCreatedByUser" in m for m in messages)


def _flatten(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Every message once, in the order written, each with its parent's id in ``parentMessageId``."""
    out: list[dict[str, Any]] = []
    nested = bool(obj.get("recursive")) or any(isinstance(m.get("children"), list) for m in _listed(obj))
    stack: list[tuple[Any, Any]] = [(m, None) for m in reversed(_listed(obj))]
    while stack:
        message, parent = stack.pop()
        if not isinstance(message, dict):
            raise ConvertProblem("data_type", f"a message is a {type(message).__name__}, expected an object")
        children = message.get("children")
        node = {k: v for k, v in message.items() if k != "children"}
        if nested:  # a nested message's parent is the one it sits in, whatever its own link says (as the importer)
            node["parentMessageId"] = parent if parent is not None else NO_PARENT
        out.append(node)
        if isinstance(children, list):
            stack.extend((child, message.get("messageId")) for child in reversed(children))
    return out


def _latest(nodes: list[dict[str, Any]]) -> Any:
    if all(isinstance(n.get("createdAt"), str) for n in nodes):
        return max(enumerate(nodes), key=lambda pair: (pair[1]["createdAt"], pair[0]))[1]["messageId"]
    return nodes[-1]["messageId"]


def _text(value: Any) -> Any:
    """A part's words: a string, or the Assistants API's ``{"value", "annotations"}``."""
    return value.get("value") if isinstance(value, dict) else value


def _check_files(message: dict[str, Any], where: str) -> None:
    for n, file in enumerate(message.get("files") or []):
        kind = str(file.get("type") or "") if isinstance(file, dict) else ""
        name = file.get("filename") or file.get("filepath") if isinstance(file, dict) else None
        if kind.startswith("image/"):
            raise ConvertProblem("image_missing", f"{where}.files[{n}]: an uploaded image ({str(name)[:60]!r}) the "
                                 "export only links to LibreChat's copy, without its bytes; leave such chats out")
        raise ConvertProblem("server_tool_call", f"{where}.files[{n}]: a file ({str(name)[:60]!r}) uploaded to the "
                             "chat, which LibreChat read on its own side (file search or context): the answer draws "
                             "on text the export does not hold; leave such chats out")


def _check_finished(message: dict[str, Any], where: str) -> None:
    if message.get("error") is True:
        raise ConvertProblem("incomplete_answer", f"{where}: LibreChat's error message shown in place of an answer "
                             "(error: true); regenerate the answer in LibreChat, or leave such chats out")
    reason = message.get("finish_reason")
    if message.get("unfinished") is True or reason in _CUT_OFF:
        why = f"finish_reason {reason!r}" if reason in _CUT_OFF else "unfinished: true"
        raise ConvertProblem("incomplete_answer", f"{where}: the answer was stopped or cut off ({why}), so it would "
                             "teach the model to stop mid-answer; leave such chats out or continue the answer first")


def _call(tool_call: Any, n: int, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An assistant tool call and the tool's result message, from a ``tool_call`` part."""
    if not isinstance(tool_call, dict):
        raise ConvertProblem("data_type", f"{where}: a tool_call part with no tool_call object")
    kind = tool_call.get("type")
    if kind in _HOSTED_TOOLS:
        raise ConvertProblem("server_tool_call", f"{where}: a call to OpenAI's hosted {kind} tool, which the "
                             "Assistants API ran on its own side; leave such chats out")
    function = tool_call.get("function") if isinstance(tool_call.get("function"), dict) else {}
    name = tool_call.get("name", function.get("name"))
    output = tool_call.get("output", function.get("output"))
    if not isinstance(output, str):
        raise ConvertProblem("server_tool_call", f"{where}: a call to the tool {name!r} whose result the export "
                             "does not hold, so the answer would cite what the training data never shows; leave "
                             "such chats out")
    call_id = tool_call.get("id") if isinstance(tool_call.get("id"), str) and tool_call["id"] else f"call_{n}"
    arguments = tool_call.get("args", function.get("arguments"))
    named = {"name": name if isinstance(name, str) else str(name), "arguments": arguments_string(arguments)}
    call = {"id": call_id, "type": "function", "function": named}
    return call, {"role": "tool", "tool_call_id": call_id, "content": output}


def _answer(parts: list[Any], where: str, first_call: int) -> list[dict[str, Any]]:
    """An answer's ``content`` parts as assistant turns, a tool's results between them."""
    turns: list[dict[str, Any]] = []
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []

    def close() -> None:
        if not (texts or thoughts or calls):
            return
        turn: dict[str, Any] = {"role": "assistant", "content": "\n\n".join(texts) if texts else None}
        if thoughts:
            turn["reasoning_content"] = "\n\n".join(thoughts)
        if calls:
            turn["tool_calls"] = list(calls)
        turns.append(turn)
        turns.extend(results)
        for gathered in (texts, thoughts, calls, results):
            gathered.clear()

    for n, part in enumerate(parts):
        at = f"{where}.content[{n}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _SKIPPED_PARTS:
            continue
        if kind in ("text", "think"):
            value = _text(part.get(kind))
            if not isinstance(value, str):
                raise ConvertProblem("data_type", f"{at}: a {kind} part whose {kind} is not text")
            if calls:
                close()  # words after a tool's result: the next assistant turn
            if value.strip():
                (texts if kind == "text" else thoughts).append(value.strip() if kind == "think" else value)
        elif kind == "tool_call":
            call, result = _call(part.get("tool_call"), first_call + len(calls), at)
            calls.append(call)
            results.append(result)
        elif kind == "error":
            raise ConvertProblem("incomplete_answer", f"{at}: LibreChat's error message in place of the answer "
                                 f"({str(_text(part.get('text')) or part.get('error'))[:80]!r}); leave such chats out")
        elif kind in ("image_url", "image_file"):
            raise ConvertProblem("image_missing", f"{at}: an image in the answer (a tool's or model's), which the "
                                 "export links without its bytes; leave such chats out")
        else:
            raise ConvertProblem("data_type", f"{at}: a content part of type {kind!r} this reader does not know, "
                                 "so the answer cannot be read whole; leave such chats out")
    close()
    return turns


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    nodes = _flatten(obj)
    tree: dict[str, dict[str, Any]] = {}
    for n, node in enumerate(nodes):
        key = node.get("messageId")
        if not isinstance(key, str) or not key:
            raise ConvertProblem("data_type", f"message {n + 1} has no messageId, so its place in the conversation "
                                 "cannot be told")
        if key in tree:
            raise ConvertProblem("data_type", f"messageId {key!r} is written twice; export the conversation again")
        tree[key] = node
    path = branch(tree, _latest(nodes), "parentMessageId", "children", "messages")
    options = obj.get("options") if isinstance(obj.get("options"), dict) else {}
    messages: list[dict[str, Any]] = []
    prefix = options.get("promptPrefix")
    if isinstance(prefix, str) and prefix.strip():
        messages.append({"role": "system", "content": prefix})
    custom_gpt = bool(options.get("agent_id") or options.get("assistant_id"))
    left_out: Counter[str] = Counter()
    calls = 0
    rated_down: list[str] = []  # answers the user gave a thumbs-down (feedback.rating)
    for node in path:
        where = f"message {node['messageId']!r}"
        by_user = node.get("isCreatedByUser")
        if not isinstance(by_user, bool):
            raise ConvertProblem("data_type", f"{where}: isCreatedByUser is {by_user!r}, expected true or false")
        custom_gpt = custom_gpt or bool(node.get("agent_id") or node.get("assistant_id"))
        content = node.get("content")
        if by_user:
            _check_files(node, where)
            text = node.get("text")
            if isinstance(content, list) and content and not (isinstance(text, str) and text.strip()):
                text = "\n\n".join(t for t in (_text(p.get("text")) for p in content if isinstance(p, dict)
                                               and p.get("type") == "text") if isinstance(t, str))
            messages.append({"role": "user", "content": text})
            continue
        _check_finished(node, where)
        feedback = node.get("feedback")
        if isinstance(feedback, dict) and feedback.get("rating") == "thumbsDown":
            rated_down.append(node["messageId"])
        if isinstance(node.get("attachments"), list) and node["attachments"]:
            left_out["attachments"] += len(node["attachments"])
        if isinstance(content, list) and content:
            turns = _answer(content, where, calls)
            calls += sum(len(t.get("tool_calls", ())) for t in turns)
            messages.extend(turns)
        else:
            messages.append({"role": "assistant", "content": node.get("text")})
    body: dict[str, Any] = {"messages": messages}
    metadata: dict[str, Any] = {}
    if len(tree) > len(path):
        left_out["other_branches"] = len(tree) - len(path)
    if left_out:
        metadata["left_out"] = dict(sorted(left_out.items()))
    if custom_gpt:  # the agent's instructions only steer the answers; what they cite is refused above
        metadata["flags"] = ["custom_gpt"]
    if rated_down:  # the user's own verdict: as a KTO label false, not trained as a good conversation
        metadata.update(rated_down_metadata("feedback.rating: thumbsDown", rated_down))
    if metadata:
        body["metadata"] = metadata
    own_id = obj.get("conversationId")
    return [(str(own_id) if isinstance(own_id, str) and own_id else None, body, None)]
