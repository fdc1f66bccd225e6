"""ChatGPT's data export (Settings > Data controls > Export: ``conversations.json``): an array of conversations,
each a tree of messages under ``mapping`` (``{node_id: {"message", "parent", "children"}}``) with
``current_node`` the leaf the user last saw.

The conversation is the path from the root to ``current_node``: an edited question or a regenerated answer is a
sibling branch the user moved away from, so it is not a turn; parent or children links that loop are a
``data_type`` reject naming the node. Hidden messages (the empty system message every export starts with, ChatGPT's
own context) are left out; the user's custom instructions (``user_editable_context``) are the system turn they
were. ``thoughts`` (a reasoning model's summaries) are the answer's ``reasoning_content``; the "Thought for N
seconds" recap is left out. An answer ChatGPT wrote as several messages is one turn, its parts joined by a blank
line (blank messages among them are left out). A voice chat's turns are their transcripts (``audio_transcription``
parts); the recordings beside them are left out. A message to a tool ChatGPT runs itself (browsing, Python, image
generation: ``recipient`` other than ``all``) or from one makes the record ``server_tool_call``: the export lacks
what the tool returned to the model in full, so the answer would cite what the training data never shows. A
memory ChatGPT saved (a message to ``bio``, and the tool's "Model set context updated.") is left out instead: its
only result is that receipt, and the chat around it is whole.

Canvas is the exception: the document the model writes (``canmore.create_textdoc``) or edits
(``canmore.update_textdoc``) is all in the call, so it is part of the answer, in the form
:func:`~curation.readers.formats._common.document_text` gives: a ``document`` as its text, ``code/<language>``
as a fenced block under its name in bold. An edit is replayed on the document written last (as the tool does:
regex patterns, ``.*`` a whole rewrite) and the answer holds the document as it then stands; an edit that cannot be
replayed is ``server_tool_call``. The tool's receipt ("Successfully created text document ...") is left out.

What the export leaves out is refused when an answer can cite it: an uploaded image (or video shown in a voice chat)
is ``image_missing``; another uploaded file (``metadata.attachments``), which ChatGPT read with its own file tools,
is ``server_tool_call``. A custom GPT's or a project's instructions (``gizmo_id`` on the conversation or on a
message) are not exported either, but they only steer the answers: the record is kept and flagged ``custom_gpt``.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from curation.readers.formats._common import ConvertProblem, branch, document_text, settle_stopped
from curation.readers.formats.media import is_image_file
from curation.readers.mapping import FieldMapping

NAME = "chatgpt_export"
KEYS = frozenset({"mapping", "current_node"})
_SKIPPED_CONTENT = frozenset({"reasoning_recap", "model_editable_context"})
# Canvas: the model writes a document (``canmore.create_textdoc``) or edits it (``canmore.update_textdoc``); the
# whole call is in the export, so the document is part of the answer. The tool's receipt is left out.
_CANVAS_WRITES = frozenset({"canmore.create_textdoc", "canmore.update_textdoc"})
_CANVAS_TOOL = "canmore."
_MEMORY = "bio"  # the memory tool: what the model writes to it is a note about the user, not an answer


def is_chatgpt_export(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    tree = obj.get("mapping")
    # the nodes are objects with a message slot: a plain `mapping` column of another record is not a tree
    return "current_node" in obj and isinstance(tree, dict) and bool(tree) and all(
        isinstance(node, dict) and "message" in node for node in tree.values())


def _path(tree: dict[str, Any], leaf: Any) -> list[dict[str, Any]]:
    """Nodes from the root to ``leaf`` (or, with no leaf named, down the newest child of each node)."""
    path = branch(tree, leaf, "parent", "children", "mapping")
    if not path:
        raise ConvertProblem("data_type", "the conversation's mapping has no root message (no node without a "
                             "parent)")
    return path


def _hidden(message: dict[str, Any]) -> bool:
    """ChatGPT's own hidden context; the user's custom instructions are hidden too, but they are the system turn."""
    metadata = message.get("metadata")
    return isinstance(metadata, dict) and bool(metadata.get("is_visually_hidden_from_conversation")) \
        and not metadata.get("is_user_system_message")


def _parts(content: dict[str, Any], where: str) -> Any:
    """A message's words: text parts and voice transcripts as one string. An uploaded image (or video in a voice
    chat) is ``image_missing``: the export names it by pointer (``file-service://``, ``sediment://``) only."""
    kind = content.get("content_type")
    if kind == "user_editable_context":
        texts = [content[k] for k in ("user_profile", "user_instructions") if isinstance(content.get(k), str)]
        return "\n\n".join(t.strip() for t in texts if t.strip())
    if kind in ("code", "execution_output", "tether_quote", "tether_browsing_display", "system_error"):
        return content.get("text") if isinstance(content.get("text"), str) else content.get("result")
    parts = content.get("parts")
    if not isinstance(parts, list):
        raise ConvertProblem("data_type", f"{where}: a {kind!r} content with no parts list")
    if all(isinstance(p, str) for p in parts):
        return "\n".join(parts)
    converted: list[Any] = []
    for part in parts:
        kind = part.get("content_type") if isinstance(part, dict) else None
        if isinstance(part, str):
            if part:
                converted.append({"type": "text", "text": part})
        elif kind == "audio_transcription":  # a voice turn: what was said is the turn's words
            if isinstance(part.get("text"), str) and part["text"].strip():
                converted.append({"type": "text", "text": part["text"]})
        elif kind == "real_time_user_audio_video_asset_pointer" and (
                part.get("frames_asset_pointers") or part.get("video_container_asset_pointer")):
            raise _not_exported(where, "video the user showed in a voice chat (camera or screen frames)")
        elif kind in ("audio_asset_pointer", "real_time_user_audio_video_asset_pointer"):
            continue  # the recording of the words its transcript holds
        elif kind == "image_asset_pointer":
            raise _not_exported(where, f"an uploaded image ({str(part.get('asset_pointer'))[:80]!r})")
        else:
            converted.append(part)  # another asset: kept for the checks to name
    if all(isinstance(p, dict) and p.get("type") == "text" for p in converted):
        return "\n".join(p["text"] for p in converted)
    return converted


def _canvas_call(content: dict[str, Any], where: str) -> dict[str, Any]:
    """The arguments of a canvas call: JSON held as a ``code`` content's text or a ``text`` content's part."""
    body = content.get("text") if content.get("content_type") == "code" else None
    parts = content.get("parts")
    if body is None and isinstance(parts, list) and parts and all(isinstance(p, str) for p in parts):
        body = "".join(parts)
    try:
        call = orjson.loads(body) if isinstance(body, str) else None
    except orjson.JSONDecodeError:
        call = None
    if not isinstance(call, dict):
        raise ConvertProblem("data_type", f"{where}: a canvas call whose arguments are not a JSON object")
    return call


def _canvas_write(recipient: str, content: dict[str, Any], document: dict[str, Any] | None,
                  where: str) -> dict[str, Any]:
    """The canvas document after this call: a new one, or ``document`` with the call's edits replayed as the tool
    does (each pattern a Python regex, each replacement expanded by the match; ``.*`` rewrites the whole
    document)."""
    call = _canvas_call(content, where)
    if recipient == "canmore.create_textdoc":
        if not isinstance(call.get("content"), str):
            raise ConvertProblem("data_type", f"{where}: a canvas document with no content text")
        return {"name": call.get("name"), "type": call.get("type"), "content": call["content"]}
    updates = call.get("updates")
    if not isinstance(updates, list) or not updates:
        raise ConvertProblem("data_type", f"{where}: a canvas edit with no updates list")
    text = document["content"] if document is not None else None
    for update in updates:
        pattern = update.get("pattern") if isinstance(update, dict) else None
        replacement = update.get("replacement") if isinstance(update, dict) else None
        if not isinstance(pattern, str) or not isinstance(replacement, str):
            raise ConvertProblem("data_type", f"{where}: a canvas edit needs a pattern and a replacement text")
        if pattern == ".*":
            text = replacement  # a whole rewrite (re.sub would also put it after the empty match at the end)
            continue
        edited = None
        try:  # a pattern or replacement the tool could not use, or no document yet, is a failed edit
            regex = re.compile(pattern, re.DOTALL)
            if text is not None and regex.search(text) is not None:
                edited = regex.sub(lambda match, r=replacement: match.expand(r), text,
                                   count=0 if update.get("multiple") else 1)
        except re.error:
            pass
        if edited is None:
            raise ConvertProblem("server_tool_call", f"{where} edits ChatGPT's canvas with pattern {pattern[:60]!r}, "
                                 "which the document in the export does not hold, so what the canvas showed cannot "
                                 "be told (drop such conversations)")
        text = edited
    base = document or {"name": None, "type": None}
    return {**base, "content": text}


def _canvas_text(document: dict[str, Any]) -> str:
    kind = document.get("type")
    language = kind.removeprefix("code/") if isinstance(kind, str) and kind.startswith("code/") else None
    return document_text(document.get("name"), {"react": "jsx"}.get(language or "", language), document["content"])


def _not_exported(where: str, what: str) -> ConvertProblem:
    return ConvertProblem("image_missing", f"{where} holds {what}, which the export names but does not include, so "
                          "the answer may describe what the training data never shows (drop such conversations)")


def _check_uploads(message: dict[str, Any], where: str) -> None:
    """Refuse a message with an uploaded file: the export lists it (``metadata.attachments``) without its content.
    An image is ``image_missing``; another file ChatGPT read with its own tools (file search, Python), whose
    output the export lacks, so it is ``server_tool_call`` as a visible call to them is."""
    metadata = message.get("metadata")
    attachments = metadata.get("attachments") if isinstance(metadata, dict) else None
    for upload in attachments if isinstance(attachments, list) else []:
        if not isinstance(upload, dict):
            continue
        name = upload.get("name") or upload.get("id")
        if is_image_file(name, upload.get("mime_type")):
            raise _not_exported(where, f"an uploaded image {name!r}")
        raise ConvertProblem("server_tool_call", f"{where} uploads {name!r}, which ChatGPT read with its own file "
                             "tools; the export holds none of its text, so the answer would cite what the training "
                             "data never shows (drop such conversations)")


def _thoughts(content: dict[str, Any]) -> str | None:
    thoughts = content.get("thoughts")
    if not isinstance(thoughts, list):
        return None
    texts = [t.get("content") or t.get("summary") for t in thoughts if isinstance(t, dict)]
    joined = "\n\n".join(t.strip() for t in texts if isinstance(t, str) and t.strip())
    return joined or None


_ENDED_EARLY = frozenset({"interrupted", "max_tokens"})  # finish_details.type of an answer that did not finish


def _ended(stopped: dict[int, str], at: int, metadata: Any) -> None:
    """Note (or clear) that the answer at ``at`` ended early, by its last message's ``finish_details``."""
    details = metadata.get("finish_details") if isinstance(metadata, dict) else None
    kind = details.get("type") if isinstance(details, dict) else None
    if kind in _ENDED_EARLY:
        stopped[at] = str(kind)
    elif kind is not None:
        stopped.pop(at, None)  # a later message of the answer finished it


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    messages: list[dict[str, Any]] = []
    pieces: dict[int, list[str]] = {}  # an answer written as several messages: joined once at the end
    reasoning: str | None = None
    document: dict[str, Any] | None = None  # the canvas: later edits change the one written last
    custom_gpt = bool(obj.get("gizmo_id"))  # a custom GPT or a project: its instructions are not exported
    stopped: dict[int, str] = {}  # answer turn -> how it ended early (the user's stop, the length limit)
    for node in _path(obj["mapping"], obj.get("current_node")):
        message = node.get("message")
        if not isinstance(message, dict):
            continue
        metadata = message.get("metadata")
        custom_gpt = custom_gpt or (isinstance(metadata, dict) and bool(metadata.get("gizmo_id")))  # an @-mention
        if _hidden(message):
            continue
        where = f"message {message.get('id', '?')!r}"
        author = message.get("author")
        role = author.get("role") if isinstance(author, dict) else None
        content = message.get("content")
        if not isinstance(content, dict):
            raise ConvertProblem("data_type", f"{where}: content is a {type(content).__name__}, expected an object")
        kind = content.get("content_type")
        recipient = message.get("recipient", "all")
        if not isinstance(kind, str) or not isinstance(recipient, str | None):
            raise ConvertProblem("data_type", f"{where}: content_type and recipient must be text")
        tool_name = author.get("name") if role == "tool" and isinstance(author, dict) else None
        if isinstance(tool_name, str) and tool_name.startswith(_CANVAS_TOOL) and recipient in ("all", None):
            continue  # the canvas's receipt ("Successfully created text document ..."): the app's words
        if (role == "assistant" and recipient == _MEMORY) or (tool_name == _MEMORY and recipient in ("all", None)):
            # a memory saved ("User prefers metric units.") and its receipt: the answer cites nothing of it
            continue
        if role == "assistant" and recipient in _CANVAS_WRITES:
            document = _canvas_write(recipient, content, document, where)
            content, kind = {"content_type": "text", "parts": [_canvas_text(document)]}, "text"
        elif role == "tool" or (role == "assistant" and recipient not in ("all", None)):
            tool = author.get("name") if role == "tool" and isinstance(author, dict) else recipient
            raise ConvertProblem("server_tool_call", f"{where} is a call to ChatGPT's own tool {tool!r}, whose full "
                                 "results are not in the export, so the answer would cite what the training data "
                                 "never shows (drop such conversations, or keep them as a separate set)")
        if kind in _SKIPPED_CONTENT:
            continue
        if kind == "thoughts":
            reasoning = _thoughts(content) or reasoning
            continue
        text = _parts(content, where)
        _check_uploads(message, where)
        if role == "system" and (not text or kind == "system_error"):
            continue  # the empty system message an export starts with; a tool's error shown to the user
        if role != "assistant":
            reasoning = None  # thoughts of an answer the user stopped belong to no later answer
        if kind == "user_editable_context":
            role = "system"  # the custom instructions: written by the user, given to the model as its system text
        turn: dict[str, Any] = {"role": role, "content": text}
        if role == "assistant":
            if reasoning is not None:
                turn["reasoning_content"] = reasoning
                reasoning = None
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and isinstance(last["content"], str) \
                    and isinstance(text, str):
                at = len(messages) - 1
                if "reasoning_content" not in turn:  # the answer goes on in another message
                    if text.strip():  # a blank message (ChatGPT writes some) would add blank lines
                        pieces.setdefault(at, [last["content"]] if last["content"].strip() else []).append(text)
                    _ended(stopped, at, metadata)
                    continue
                if not last["content"].strip() and at not in pieces and "reasoning_content" not in last:
                    messages.pop()  # a blank message before this answer's thoughts is no turn of its own
        messages.append(turn)
        if role == "assistant":
            _ended(stopped, len(messages) - 1, metadata)
    for at, texts in pieces.items():
        messages[at]["content"] = "\n\n".join(texts)
    settle_stopped(messages, stopped, "finish_details")
    body: dict[str, Any] = {"messages": messages}
    if custom_gpt:  # instructions only steer the answer (what it cites is refused above): kept, for review
        body["metadata"] = {"flags": ["custom_gpt"]}
    return [(None, body, None)]  # title, model and ids stay the record's fields
