"""Gemini / Vertex AI tuning data: ``{"systemInstruction"?, "contents": [{"role": "user"|"model",
"parts": [{"text"} | {"functionCall"} | {"functionResponse"}]}]}``.

What a team that tuned on Vertex already holds. Function calls become assistant ``tool_calls`` (ids
numbered through the conversation, answered in order by the function responses); parts of other kinds
(inline images, files) are kept as they are for the checks to report. Vertex's preference-tuning lines
(``contents`` + ``completions: [{"score", "completion": Content}]``) are preference pairs: the completion with the
highest score is chosen, the lowest rejected.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import as_number, no_preference, parse_tool_calls
from curation.readers.mapping import FieldMapping
from curation.records import arguments_string

NAME = "gemini"
KEYS = frozenset({"contents", "systemInstruction", "system_instruction", "tools", "completions"})
_DECLARATION_KEYS = ("functionDeclarations", "function_declarations")
_KNOWN_PARTS = frozenset({"text", "functionCall", "functionResponse"})
_ROLES = {"user": "user", "model": "assistant", "function": "tool", "tool": "tool", "system": "system"}


def is_gemini(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    contents = obj.get("contents")
    return isinstance(contents, list) and bool(contents) and all(
        isinstance(c, dict) and "parts" in c for c in contents)


def _text(parts: Any, thought: bool = False) -> str | None:
    """The text of a turn's parts (``thought=True``: of its thought parts, which Gemini's thinking models mark
    ``"thought": true``; they are reasoning, not the answer)."""
    if not isinstance(parts, list):
        return None
    texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)
             and (p.get("thought") is True) == thought]
    if not texts:
        return None
    if thought:
        return "\n\n".join(t.strip() for t in texts)
    # several text parts are several pieces of a turn: the exporters merge consecutive turns with a blank line
    # (vertex-gemini as parts of one Content), a streamed answer is cut anywhere ("return " + "x + 1"): pieces
    # that meet at white space are one text, trimmed ones were paragraphs; an empty part adds nothing
    out = ""
    for piece in (t for t in texts if t):
        if out and not (out[-1].isspace() or piece[0].isspace()):
            out += "\n\n"
        out += piece
    return out


def _lower_types(schema: Any) -> Any:
    """Vertex writes OpenAPI types in capitals (``"type": "OBJECT"``); JSON Schema's are lower case."""
    if isinstance(schema, dict):
        return {k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_lower_types(v) for v in schema]
    return schema


def tools_of(value: Any) -> list[Any] | None:
    """Gemini's ``tools: [{"functionDeclarations": [...]}]`` as OpenAI function tools. Other tool kinds
    (``googleSearch``, ``codeExecution``) have no OpenAI equivalent and stay as they are for the checks."""
    if not isinstance(value, list) or not value:
        return None
    tools: list[Any] = []
    for entry in value:
        key = next((k for k in _DECLARATION_KEYS if isinstance(entry, dict) and k in entry), None)
        if key is None or not isinstance(entry[key], list):
            tools.append(entry)
            continue
        for declaration in entry[key]:
            function = _lower_types(declaration) if isinstance(declaration, dict) else declaration
            tools.append({"type": "function", "function": function})
    return tools


def _result(response: Any) -> str:
    """A function response as tool-message text. ``{"content": text}`` alone is how a text result is written (a
    response must be an object; the vertex-gemini export wraps one so): the text itself is the result."""
    if isinstance(response, dict) and len(response) == 1 and isinstance(response.get("content"), str):
        return response["content"]
    return arguments_string(response)


def _answered(responses: list[dict[str, Any]], pending: list[tuple[str, str]]) -> list[str | None]:
    """The call id each function response answers, taken off ``pending``. By name when every response names a
    distinct waiting call (same-name calls in order among themselves): parallel results come back in any order,
    and the name is what Gemini pairs them by. Otherwise in order, as the names say nothing reliable."""
    waiting = list(pending)
    ids: list[str | None] = []
    for response in responses:
        name = response.get("name")
        match = next((i for i, (_, called) in enumerate(waiting) if name and called == name), None)
        if match is None:
            break
        ids.append(waiting.pop(match)[0])
    else:
        pending[:] = waiting
        return ids
    return [pending.pop(0)[0] if pending else None for _ in responses]


def _messages(contents: list[Any], calls_made: int = 0) -> tuple[list[Any], int]:
    """Canonical messages for Gemini Contents, and the number of function calls among them (ids go on from
    ``calls_made``)."""
    messages: list[Any] = []
    pending: list[tuple[str, str]] = []  # (id, function name) of the calls not answered yet, oldest first
    for turn in contents:
        role = _ROLES.get(str(turn.get("role", "user")).lower(), turn.get("role"))
        parts = turn.get("parts")
        if not isinstance(parts, list):
            messages.append({"role": role, "content": parts})
            continue
        calls = [p["functionCall"] for p in parts if isinstance(p, dict) and isinstance(p.get("functionCall"), dict)]
        responses = [p["functionResponse"] for p in parts
                     if isinstance(p, dict) and isinstance(p.get("functionResponse"), dict)]
        others = [p for p in parts if isinstance(p, dict) and not (_KNOWN_PARTS & set(p))]
        text = _text(parts)
        thought = _text(parts, thought=True) if role == "assistant" else None
        if calls:
            tool_calls = parse_tool_calls([{"name": c.get("name", ""), "arguments": c.get("args", {})} for c in calls],
                                          calls_made)
            calls_made += len(tool_calls)
            pending.extend((c["id"], c["function"]["name"]) for c in tool_calls)
            message: dict[str, Any] = {"role": "assistant", "tool_calls": tool_calls}
            if text:
                message["content"] = text
            if thought:
                message["reasoning"] = thought
            messages.append(message)
        elif responses:
            for response, call_id in zip(responses, _answered(responses, pending), strict=True):
                message = {"role": "tool", "content": _result(response.get("response", {}))}
                if call_id is not None:
                    message["tool_call_id"] = call_id
                messages.append(message)
            if text or others:
                # the user's next words share the results' Content (a Content holds many parts, and the
                # vertex-gemini export merges a tool result and the user turn after it): they follow the results
                rest = [p for p in parts if not (isinstance(p, dict) and "functionResponse" in p)]
                messages.append({"role": "user" if role == "tool" else role, "content": text if not others else rest})
        else:
            message = {"role": role, "content": text if not others else _openai_parts(parts)}
            if thought:
                message["reasoning"] = thought
            messages.append(message)
    return messages, calls_made


def _media_part(part: dict[str, Any]) -> dict[str, Any] | None:
    """Gemini's ``inlineData {mimeType, data}`` and ``fileData {mimeType, fileUri}`` as the OpenAI part the checks
    and exporters know: an image as ``image_url`` (a data URL for inline bytes), video or audio by its kind."""
    inline = part.get("inlineData") or part.get("inline_data")
    stored = part.get("fileData") or part.get("file_data")
    source = inline if isinstance(inline, dict) else stored if isinstance(stored, dict) else None
    if source is None:
        return None
    mime = str(source.get("mimeType") or source.get("mime_type") or "")
    if source is inline:
        url = f"data:{mime};base64,{source.get('data', '')}"
    else:
        url = str(source.get("fileUri") or source.get("file_uri") or "")
    if mime.startswith("image/"):
        return {"type": "image_url", "image_url": {"url": url}}
    kind = "video_url" if mime.startswith("video/") else "audio_url" if mime.startswith("audio/") else None
    return {"type": kind, kind: {"url": url}} if kind else None


def _openai_parts(parts: list[Any]) -> list[Any]:
    """A turn's parts in the OpenAI shape where they have one (text, images, video/audio); others as they are,
    for the checks to name."""
    out: list[Any] = []
    for part in parts:
        if isinstance(part, dict) and isinstance(part.get("text"), str) and part.get("thought") is not True:
            out.append({"type": "text", "text": part["text"]})
        elif isinstance(part, dict) and part.get("thought") is True:
            continue  # reasoning, lifted beside the content
        else:
            media = _media_part(part) if isinstance(part, dict) else None
            out.append(media if media is not None else part)
    return out


def _preference(prompt: list[Any], calls_made: int, completions: list[Any]) -> dict[str, Any]:
    """A preference-tuning line as a pair: the best-scored completion against the worst. Equal scores prefer
    neither answer, and a pair made of them would teach noise."""
    scored = [(as_number(c.get("score")), c["completion"]) for c in completions
              if isinstance(c, dict) and isinstance(c.get("completion"), dict)]
    usable = [(score, completion) for score, completion in scored if score is not None]
    if len(usable) < 2:
        raise no_preference("fewer than two completions carry a numeric score")
    order = sorted(range(len(usable)), key=lambda i: (-usable[i][0], i))
    best, worst = usable[order[0]], usable[order[-1]]
    if best[0] == worst[0]:
        raise no_preference(f"every completion has the same score ({best[0]})")
    # a completion is one model turn; one that leaves its role out is still the model's answer
    chosen, _ = _messages([{"role": "model", **best[1]}], calls_made)
    rejected, _ = _messages([{"role": "model", **worst[1]}], calls_made)
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    messages: list[Any] = []
    system = obj.get("systemInstruction", obj.get("system_instruction"))
    system_text = _text(system.get("parts")) if isinstance(system, dict) else None
    if system_text:
        messages.append({"role": "system", "content": system_text})
    turns, calls_made = _messages(obj["contents"])
    messages += turns
    completions = obj.get("completions")
    body: dict[str, Any] = (_preference(messages, calls_made, completions) if isinstance(completions, list)
                            else {"messages": messages})
    tools = tools_of(obj.get("tools"))
    if tools:
        body["tools"] = tools
    return [(None, body, None)]
