"""LM Studio's saved chat (``~/.lmstudio/conversations/<ms>.conversation.json``, or a chat's "Export" > JSON):
``{"name", "createdAt", "systemPrompt", "messages": [...], "perChatPredictionConfig": {"fields": [...]},
"lastUsedModel", "tokenCount", "preset", "plugins", ...}``. LM Studio is closed source: the layout is the one
third-party readers and writers of these files agree on (see the tests for which).

Each message is ``{"versions": [...], "currentlySelected": n}``: a regenerated answer or an edited question is
another version; the chosen one is the turn, the others are counted in ``metadata.left_out.other_versions``. A
version is ``singleStep`` (a user turn: ``role`` and ``content`` parts) or ``multiStep`` (an assistant turn: its
``steps``). A ``contentBlock`` step holds ``text`` parts; one styled ``thinking`` (the model's ``<think>`` text) is
the turn's ``reasoning_content``; ``toolCallRequest`` parts are tool calls and a block with ``roleOverride: "tool"``
(``toolCallResult`` parts) the tool's results, the answer going on after them as a new assistant turn. ``toolStatus``
and ``debugInfoBlock`` steps are the app's display, not words: left out. An answer whose generation stopped early
(``genInfo.stats.stopReason`` ``userStopped``, ``failed``, ``modelUnloaded``, ``maxPredictedTokensReached``,
``contextLengthReached``) is ``incomplete_answer``. The chat's system prompt is the per-chat setting
``llm.prediction.systemPrompt`` (``perChatPredictionConfig``), else ``systemPrompt``. A part of a user turn that is
not text (an attached image or document) is ``image_missing`` or ``server_tool_call``: the file holds a reference,
not what the model was shown; an unknown step or part is ``data_type``, naming it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from curation.readers.formats._common import ConvertProblem
from curation.readers.mapping import FieldMapping
from curation.records import arguments_string

NAME = "lmstudio"
KEYS = frozenset({"messages", "systemPrompt"})
_SYSTEM_FIELD = "llm.prediction.systemPrompt"
_STOPPED = frozenset({"userStopped", "failed", "modelUnloaded", "maxPredictedTokensReached", "contextLengthReached"})
_DISPLAY_STEPS = frozenset({"toolStatus", "debugInfoBlock"})  # the app's own status lines beside the answer


def _message(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("versions"), list) and "currentlySelected" in value


def is_lmstudio(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    messages = obj.get("messages")
    return isinstance(messages, list) and bool(messages) and all(_message(m) for m in messages)


def _system(obj: dict[str, Any]) -> str | None:
    config = obj.get("perChatPredictionConfig")
    fields = config.get("fields") if isinstance(config, dict) else None
    for field in fields if isinstance(fields, list) else []:
        if isinstance(field, dict) and field.get("key") == _SYSTEM_FIELD and isinstance(field.get("value"), str) \
                and field["value"].strip():
            return str(field["value"])
    prompt = obj.get("systemPrompt")
    return prompt if isinstance(prompt, str) and prompt.strip() else None


def _single_step(version: dict[str, Any], where: str) -> str:
    """A ``singleStep`` version's words (a user's turn)."""
    texts: list[str] = []
    for n, part in enumerate(version.get("content") or []):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
            continue
        file_type = str(part.get("fileType") or "") if isinstance(part, dict) else ""
        name = part.get("name") or part.get("fileIdentifier") if isinstance(part, dict) else None
        if kind == "file" and file_type.startswith("image"):
            raise ConvertProblem("image_missing", f"{where}.content[{n}]: an attached image ({str(name)[:60]!r}) the "
                                 "chat file names but does not hold; leave such chats out")
        if kind == "file":
            raise ConvertProblem("server_tool_call", f"{where}.content[{n}]: an attached document "
                                 f"({str(name)[:60]!r}), which LM Studio read on its own side (retrieval): the "
                                 "answer draws on text the chat file does not hold; leave such chats out")
        raise ConvertProblem("data_type", f"{where}.content[{n}]: a part of type {kind!r} this reader does not know; "
                             "leave such chats out")
    return "\n".join(texts)


def _call_id(part: dict[str, Any]) -> str:
    # LM Studio's own number for the call is on both the request and its result; the model's id may not be
    key = part.get("callId") if part.get("callId") not in (None, "") else (
        part.get("toolCallRequestId") or part.get("toolCallId") or part.get("id"))
    return str(key) if key not in (None, "") else ""


def _steps(version: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """An answer's steps as assistant turns, the tools' results between them."""
    turns: list[dict[str, Any]] = []
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[dict[str, Any]] = []

    def close() -> None:
        if texts or thoughts or calls:
            turn: dict[str, Any] = {"role": "assistant", "content": "\n".join(texts) if texts else None}
            if thoughts:
                turn["reasoning_content"] = "\n".join(thoughts)
            if calls:
                turn["tool_calls"] = list(calls)
            turns.append(turn)
        for gathered in (texts, thoughts, calls):
            gathered.clear()

    for n, step in enumerate(version.get("steps") or []):
        at = f"{where}.steps[{n}]"
        kind = step.get("type") if isinstance(step, dict) else None
        if kind in _DISPLAY_STEPS:
            continue
        if kind != "contentBlock":
            raise ConvertProblem("data_type", f"{at}: a step of type {kind!r} this reader does not know; leave such "
                                 "chats out")
        stats = step.get("genInfo", {}).get("stats") if isinstance(step.get("genInfo"), dict) else None
        reason = stats.get("stopReason") if isinstance(stats, dict) else None
        if reason in _STOPPED:
            raise ConvertProblem("incomplete_answer", f"{at}: the answer's generation stopped with stopReason "
                                 f"{reason!r}, so it is cut off; leave such chats out or regenerate the answer")
        style = step.get("style")
        thinking = isinstance(style, dict) and style.get("type") == "thinking"
        for m, part in enumerate(step.get("content") or []):
            part_kind = part.get("type") if isinstance(part, dict) else None
            if step.get("roleOverride") == "tool" or part_kind == "toolCallResult":
                close()
                content = part.get("content") if isinstance(part, dict) else None
                turns.append({"role": "tool", "tool_call_id": _call_id(part) if isinstance(part, dict) else "",
                              "content": content if isinstance(content, str) else arguments_string(content)})
            elif part_kind == "text" and isinstance(part.get("text"), str):
                if calls:
                    close()  # words after the tools' results: the next assistant turn
                if part["text"].strip():
                    (thoughts if thinking else texts).append(part["text"].strip() if thinking else part["text"])
            elif part_kind == "toolCallRequest":
                request = part.get("toolCallRequest") if isinstance(part.get("toolCallRequest"), dict) else part
                named = {"name": str(request.get("name")),
                         "arguments": arguments_string(request.get("parameters", request.get("arguments")))}
                calls.append({"id": _call_id(part) or _call_id(request), "type": "function", "function": named})
            else:
                raise ConvertProblem("data_type", f"{at}.content[{m}]: a part of type {part_kind!r} this reader does "
                                     "not know; leave such chats out")
    close()
    return turns


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    messages: list[dict[str, Any]] = []
    system = _system(obj)
    if system is not None:
        messages.append({"role": "system", "content": system})
    left_out: Counter[str] = Counter()
    for n, message in enumerate(obj["messages"]):
        where = f"messages[{n}]"
        versions = message["versions"]
        chosen = message.get("currentlySelected")
        if type(chosen) is not int or not 0 <= chosen < len(versions) or not isinstance(versions[chosen], dict):
            raise ConvertProblem("data_type", f"{where}: currentlySelected is {chosen!r}, which names none of its "
                                 f"{len(versions)} versions")
        if len(versions) > 1:
            left_out["other_versions"] += len(versions) - 1
        version = versions[chosen]
        where = f"{where}.versions[{chosen}]"
        if version.get("type") == "multiStep":
            messages.extend(_steps(version, where))
        elif version.get("type") == "singleStep":
            messages.append({"role": version.get("role"), "content": _single_step(version, where)})
        else:
            raise ConvertProblem("data_type", f"{where}: a version of type {version.get('type')!r}, expected "
                                 "singleStep or multiStep")
    body: dict[str, Any] = {"messages": messages}
    if left_out:
        body["metadata"] = {"left_out": dict(sorted(left_out.items()))}
    return [(None, body, None)]
