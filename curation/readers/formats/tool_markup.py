"""Tool calls written as markup inside the turns, read into ``tool_calls``, tool messages and ``tools``.

* Hermes / NousResearch function calling (also Qwen2.5 and many distilled sets): the system prompt lists the
  schemas inside ``<tools> ... </tools>``, the assistant writes ``<tool_call>{"name", "arguments"}</tool_call>``
  (often Python's repr, single quotes, not JSON) and the tool turn answers with
  ``<tool_response> ... </tool_response>``, one block per call (Qwen2.5/Qwen3's templates render that turn as
  a user turn holding only those blocks).
* Anthropic Messages: ``tool_use`` content blocks on the assistant turn (``id``, ``name``, ``input``), and
  ``tool_result`` blocks (``tool_use_id``, ``content``) on the user turn that follows.
* Bedrock Converse (``bedrock-conversation-2024``, what our bedrock-nova exporter writes): untyped blocks
  ``{"toolUse": ...}``, ``{"toolResult": ...}``, ``{"reasoningContent": ...}``, ``{"image": ...}``, rewritten
  into the Anthropic-style typed parts above (and ``toolConfig.tools[].toolSpec`` into ``tools``).

Markup that does not parse into a named call (prose quoting the tag, say) is left as it is: a wrong guess
would train the model on a call nobody made.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import orjson

from curation.records import arguments_string

CALL_OPEN, RESPONSE_OPEN, TOOLS_OPEN = "<tool_call>", "<tool_response>", "<tools>"
# ast.literal_eval builds the whole tree in memory: a payload this large is not a call anyone wrote.
_MAX_LITERAL = 200_000


def blocks(text: str, opening: str, closing: str) -> tuple[list[str], list[str]]:
    """(texts inside each opening...closing block, texts around them), found with ``str.find`` in one pass: a
    lazy regex re-scans to the end from every unclosed opener (minutes on 240 KB of them). An opener without
    its closer ends the scan, and the rest counts as outside."""
    inside: list[str] = []
    outside: list[str] = []
    pos = 0
    while True:
        start = text.find(opening, pos)
        if start < 0:
            break
        end = text.find(closing, start + len(opening))
        if end < 0:
            break
        outside.append(text[pos:start])
        inside.append(text[start + len(opening):end])
        pos = end + len(closing)
    outside.append(text[pos:])
    return inside, outside


def closing(text: str, start: int) -> int:
    """Index of the bracket closing the one at ``text[start]`` (any of ``([{``; quotes, escapes and nesting
    aware), or -1 when it never closes. The caller checks the closer's kind."""
    depth, quote, i = 0, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def parse_loose(text: str) -> Any:
    """JSON, or a Python literal (``{'name': 'f', 'arguments': {...}}``, as ``str(dict)`` writes it); None when
    neither reads."""
    text = text.strip()
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    if len(text) > _MAX_LITERAL:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    try:  # sets, bytes, complex numbers, non-string keys, 65-bit integers: not data a record can carry
        orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return None
    return value


def hermes_calls(content: str, first: int) -> tuple[str, list[dict[str, Any]]] | None:
    """(text before the calls, tool calls numbered ``call_<first>``...) for an assistant text that ends with
    ``<tool_call>`` blocks; None unless every block is a call with a name and nothing but whitespace follows
    the first call (prose that shows an example call goes on after it, and stays text)."""
    payloads, around = blocks(content, CALL_OPEN, "</tool_call>")
    if not payloads or any(piece.strip() for piece in around[1:]):
        return None
    calls = []
    for offset, payload in enumerate(payloads):
        data = parse_loose(payload)
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
            return None
        arguments = data.get("arguments", data.get("parameters", {}))
        if isinstance(arguments, str):
            decoded = parse_loose(arguments)
            arguments = decoded if isinstance(decoded, dict) else arguments
        try:
            text = arguments_string(arguments)
        except (TypeError, orjson.JSONEncodeError):  # nested past what JSON writers take
            return None
        calls.append({"id": f"call_{first + offset}", "type": "function",
                      "function": {"name": data["name"], "arguments": text}})
    return around[0].strip(), calls


def hermes_responses(content: str) -> list[str] | None:
    """The texts of a tool turn's ``<tool_response>`` blocks, in order; None when it has none."""
    inside, _ = blocks(content, RESPONSE_OPEN, "</tool_response>")
    return [b.strip() for b in inside] if inside else None


def only_responses(content: str) -> list[str] | None:
    """The blocks of a text made of nothing but ``<tool_response>`` blocks (Qwen2.5/Qwen3's templates render
    tool results as such a user turn); None when anything else is written around them, which is then the
    user's own words."""
    inside, around = blocks(content, RESPONSE_OPEN, "</tool_response>")
    if not inside or any(piece.strip() for piece in around):
        return None
    return [b.strip() for b in inside]


def tools_in_text(text: str) -> list[Any] | None:
    """Function schemas listed inside ``<tools> ... </tools>`` (a list, or objects one after another). The
    first block that reads wins: Hermes prompts mention the empty tags before the real list."""
    for inner in blocks(text, TOOLS_OPEN, "</tools>")[0]:
        inner = inner.strip()
        data = parse_loose(inner)
        if data is None and inner.startswith("{"):
            data = parse_loose("[" + _BETWEEN_OBJECTS.sub("},{", inner) + "]")
        if isinstance(data, dict):
            data = [data]
        if isinstance(data, list) and data and all(_named_schema(t) for t in data):
            return data
    return None


_BETWEEN_OBJECTS = re.compile(r"\}\s*\{")


def _named_schema(tool: Any) -> bool:
    if not isinstance(tool, dict):
        return False
    function = tool.get("function", tool)
    return isinstance(function, dict) and isinstance(function.get("name"), str)


def anthropic_call(part: dict[str, Any], number: int) -> dict[str, Any]:
    """A ``tool_use`` block as an OpenAI tool call (its own id kept, so ``tool_result`` blocks still match)."""
    call_id = part.get("id")
    name = part.get("name", "")
    return {"id": call_id if isinstance(call_id, str) and call_id else f"call_{number}", "type": "function",
            "function": {"name": name if isinstance(name, str) else str(name),
                         "arguments": arguments_string(part.get("input", {}))}}


def is_tool_result(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "tool_result"


def _result_content(value: Any) -> Any:
    if isinstance(value, list) and value and all(
            isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str) for b in value):
        return "\n\n".join(b["text"] for b in value)
    if value is None:
        return ""
    return value


def split_tool_results(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A user turn holding ``tool_result`` blocks -> one tool message per result, then the user's own blocks
    (if any) as a user message."""
    tools: list[dict[str, Any]] = []
    rest: list[Any] = []
    for part in message["content"]:
        if is_tool_result(part):
            tool: dict[str, Any] = {"role": "tool"}
            if isinstance(part.get("tool_use_id"), str):
                tool["tool_call_id"] = part["tool_use_id"]
            tool["content"] = _result_content(part.get("content"))
            tools.append(tool)
        else:
            rest.append(part)
    if rest:
        tools.append({**message, "content": rest})
    return tools


_BEDROCK_BLOCKS = frozenset({"toolUse", "toolResult", "reasoningContent", "image"})


def is_bedrock_block(part: Any) -> bool:
    return type(part) is dict and "type" not in part and len(part) == 1 and next(iter(part)) in _BEDROCK_BLOCKS


def _bedrock_result(content: Any) -> Any:
    if not isinstance(content, list):
        return content
    texts = []
    for block in content:
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif isinstance(block, dict) and "json" in block:
            texts.append(arguments_string(block["json"]))
        else:
            return content  # an image or document result: kept for the checks to report
    return "\n\n".join(texts)


def bedrock_part(part: dict[str, Any]) -> Any:
    """One untyped Bedrock Converse block as the typed part the lift understands; others unchanged."""
    kind, value = next(iter(part.items()))
    if not isinstance(value, dict):
        return part
    if kind == "toolUse":
        return {"type": "tool_use", "id": value.get("toolUseId"), "name": value.get("name", ""),
                "input": value.get("input", {})}
    if kind == "toolResult":
        return {"type": "tool_result", "tool_use_id": value.get("toolUseId"),
                "content": _bedrock_result(value.get("content"))}
    if kind == "reasoningContent":
        text = (value.get("reasoningText") or {}).get("text") if isinstance(value.get("reasoningText"), dict) else None
        return {"type": "thinking", "thinking": text} if isinstance(text, str) else part
    source = value.get("source") if isinstance(value.get("source"), dict) else {}
    uri = (source.get("s3Location") or {}).get("uri") if isinstance(source.get("s3Location"), dict) else None
    return {"type": "image_url", "image_url": {"url": uri}} if isinstance(uri, str) else part


def bedrock_tools(config: Any) -> list[dict[str, Any]] | None:
    """``toolConfig: {"tools": [{"toolSpec": {"name", "description", "inputSchema": {"json": {...}}}}]}`` as
    OpenAI function tools; None when it holds none."""
    tools = config.get("tools") if isinstance(config, dict) else None
    if not isinstance(tools, list):
        return None
    out = []
    for tool in tools:
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if not isinstance(spec, dict):
            out.append(tool)
            continue
        function = {k: v for k, v in spec.items() if k != "inputSchema"}
        schema = spec.get("inputSchema")
        if isinstance(schema, dict):
            function["parameters"] = schema.get("json", schema)
        out.append({"type": "function", "function": function})
    return out or None
