"""Claude's data export (claude.ai Settings > Privacy > Export data: ``conversations.json``): an array of
conversations ``{"uuid", "name", "chat_messages": [{"sender": "human" | "assistant", "text", "content"?,
"attachments"?, "files"?}]}``.

A message's words are its ``text`` (or, in newer exports, the text blocks of ``content``). A pasted or uploaded
document's ``extracted_content`` is what the model read beside the question, so it is part of the user's turn,
after the question as claude.ai sends it. ``thinking`` blocks are the answer's reasoning. A tool use in ``content``
(web search, analysis) makes the record ``server_tool_call``: the tool runs on Anthropic's side and the export does
not hold all it returned. Older exports write "This block is not supported on your current device yet." (fenced as
code) where such a block was: the app's words, so they are left out, and an answer that was nothing else is empty
(refused as ``empty_content``). A message that is no object is ``data_type``.

Artifacts are the exception: an ``artifacts`` tool use holds the whole document, so it is part of the answer
where it stands among the text blocks, in the form :func:`~curation.readers.formats._common.document_text` gives
(Markdown and plain text as they are; code, HTML, SVG, React and Mermaid as a fenced block under the artifact's
title in bold). An ``update`` (``old_str`` to ``new_str``) is applied to the artifact as the earlier answers left it
and the answer holds the whole new version; one that cannot be applied, or an artifact with no content, is
``server_tool_call``. Its tool result ("OK") is left out.

An upload whose content the export lacks (a ``files`` entry, an attachment with no ``extracted_content``) is
refused, since the answer may cite it: an image as ``image_missing``, another file (read on Anthropic's side) as
``server_tool_call``. A file listed in ``files`` and, with its text, in ``attachments`` is held.
"""

from __future__ import annotations

import re
from typing import Any

from curation.readers.formats._common import ConvertProblem, document_text, map_role
from curation.readers.formats.media import is_image_file
from curation.readers.mapping import FieldMapping

NAME = "claude_export"
KEYS = frozenset({"chat_messages", "uuid"})  # the uuid is the record id
# What older exports write, fenced as code, where the message held a block the export could not render (a tool
# use, an artifact): the app's words, not the answer's.
_PLACEHOLDER_WORDS = "This block is not supported on your current device yet."
_PLACEHOLDER = re.compile(r"(?:```[^\n`]*\n)?[ \t]*" + re.escape(_PLACEHOLDER_WORDS) + r"[ \t]*(?:\n[ \t]*```)?")


def is_claude_export(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    messages = obj.get("chat_messages")
    # one message naming its sender is enough: an item that is no message object is then refused by name
    return "messages" not in obj and isinstance(messages, list) and (not messages or any(
        isinstance(m, dict) and "sender" in m for m in messages))


def _without_placeholders(text: str) -> str:
    if _PLACEHOLDER_WORDS not in text:
        return text
    return "\n\n".join(piece.strip() for piece in _PLACEHOLDER.split(text) if piece.strip())


# Artifact types that are code, and the fence language each is written in (application/vnd.ant.code names its own).
_ARTIFACT_CODE = {"text/html": "html", "image/svg+xml": "svg", "application/vnd.ant.react": "jsx",
                  "application/vnd.ant.mermaid": "mermaid"}


def _artifact(call: Any, artifacts: dict[str, dict[str, Any]], where: str) -> str:
    """An artifact the answer wrote (``create``, ``rewrite``) or edited (``update``: ``old_str`` made ``new_str``
    once), as answer text; ``artifacts`` holds each one by id as it stands, for the edits of later answers."""
    call = call if isinstance(call, dict) else {}
    key = str(call.get("id"))
    before = artifacts.get(key)
    if call.get("command") == "update":
        old, new = call.get("old_str"), call.get("new_str")
        if before is None or not isinstance(old, str) or not isinstance(new, str) or old not in before["content"]:
            raise ConvertProblem("server_tool_call", f"{where} edits artifact {key!r} where the export holds no such "
                                 "text, so what the artifact showed cannot be told (drop such conversations)")
        artifact = {**before, "content": before["content"].replace(old, new, 1)}
    elif isinstance(call.get("content"), str):
        artifact = {**(before or {}), **{k: call[k] for k in ("type", "title", "language") if k in call},
                    "content": call["content"]}
    else:
        raise ConvertProblem("server_tool_call", f"{where} writes artifact {key!r} with no content in the export, "
                             "so the answer is not all there (drop such conversations)")
    artifacts[key] = artifact
    kind = artifact.get("type")
    language = artifact.get("language") if kind == "application/vnd.ant.code" else _ARTIFACT_CODE.get(str(kind))
    if kind == "application/vnd.ant.code" and not isinstance(language, str):
        language = ""
    return document_text(artifact.get("title"), language, artifact["content"])


def _check_uploads(message: dict[str, Any], where: str) -> None:
    """Refuse a message with an upload whose content the export lacks: a file in ``files`` (images, PDFs) or an
    attachment with no ``extracted_content``. An image is ``image_missing``; another file claude.ai read on
    Anthropic's side, whose text the export does not hold, so it is ``server_tool_call`` as a tool use is."""
    attachments = message.get("attachments")
    attachments = [a for a in attachments if isinstance(a, dict)] if isinstance(attachments, list) else []
    held = {a.get("file_name") for a in attachments if isinstance(a.get("extracted_content"), str)}
    files = message.get("files")
    uploads = [a for a in attachments if not isinstance(a.get("extracted_content"), str)]
    # a document listed in files and, with its text, in attachments is held
    uploads += [f for f in files if isinstance(f, dict) and f.get("file_name") not in held] \
        if isinstance(files, list) else []
    for upload in uploads:
        name = upload.get("file_name") or upload.get("file_uuid")
        if is_image_file(name, upload.get("file_type")):
            raise ConvertProblem("image_missing", f"{where} uploads the image {name!r}, which the export does not "
                                 "include, so the answer may describe what the training data never shows (drop such "
                                 "conversations)")
        raise ConvertProblem("server_tool_call", f"{where} uploads {name!r}, which claude.ai read on Anthropic's "
                             "side; the export holds none of its text, so the answer would cite what the training "
                             "data never shows (drop such conversations)")


def _thinking(message: dict[str, Any]) -> str | None:
    blocks = message.get("content")
    texts = [b["thinking"] for b in blocks if isinstance(b, dict) and b.get("type") == "thinking"
             and isinstance(b.get("thinking"), str) and b["thinking"].strip()] if isinstance(blocks, list) else []
    return "\n\n".join(texts) or None


def _text(message: dict[str, Any], where: str, artifacts: dict[str, dict[str, Any]]) -> str:
    blocks = message.get("content")
    if isinstance(blocks, list) and blocks:
        texts = []
        for block in blocks:
            kind = block.get("type") if isinstance(block, dict) else None
            if kind in ("tool_use", "tool_result") and block.get("name") == "artifacts":
                if kind == "tool_use":  # the whole artifact is in the call; its result is only "OK"
                    texts.append(_artifact(block.get("input"), artifacts, where))
                continue
            if kind in ("tool_use", "tool_result", "server_tool_use", "web_search_tool_result"):
                name = block.get("name", kind)
                raise ConvertProblem("server_tool_call", f"{where} holds a {kind} ({name!r}): a tool Claude ran on "
                                     "Anthropic's side, whose full results are not in the export, so the answer "
                                     "would cite what the training data never shows")
            if kind == "text" and isinstance(block.get("text"), str):
                text = _without_placeholders(block["text"])
                if text:
                    texts.append(text)
        if texts:
            return "\n\n".join(texts)
    text = message.get("text")
    if text is not None and not isinstance(text, str):
        raise ConvertProblem("data_type", f"{where}: text is a {type(text).__name__}, expected text")
    return _without_placeholders(text or "")


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    messages: list[dict[str, Any]] = []
    artifacts: dict[str, dict[str, Any]] = {}
    for i, message in enumerate(obj["chat_messages"]):
        where = f"chat_messages[{i}]"
        if not isinstance(message, dict):
            raise ConvertProblem("data_type", f"{where} is a {type(message).__name__}, expected a message object "
                                 "with sender and text")
        role = map_role(message.get("sender"), mapping)
        text = _text(message, where, artifacts)
        _check_uploads(message, where)
        attached = [a.get("extracted_content") for a in message.get("attachments") or [] if isinstance(a, dict)]
        documents = [a for a in attached if isinstance(a, str) and a.strip()]
        if documents:
            text = "\n\n".join([text, *documents]) if text else "\n\n".join(documents)
        turn: dict[str, Any] = {"role": role, "content": text}
        thinking = _thinking(message) if role == "assistant" else None
        if thinking is not None:  # extended thinking: the answer's reasoning, not its words
            turn["reasoning_content"] = thinking
        messages.append(turn)
    uuid = obj.get("uuid")
    return [(str(uuid) if uuid not in (None, "") else None, {"messages": messages}, None)]
