"""Assistant reasoning and typed tool-call parts, lifted into the canonical message at read time.

Sources write a model's reasoning four ways; the canonical message keeps it in one place, ``reasoning``
(a string on an assistant message), so that checks, token counts and exporters see it the same way:

- ``reasoning_content`` (DeepSeek, vLLM, Qwen3 chat templates), ``reasoning`` (Together) or ``thinking``
  (gpt-oss's chat template, Ollama's chat API) on the message;
- typed content parts ``{"type": "reasoning", "text"|"value": ...}`` (LLaMA-Factory's reason_tool_use demo);
- a leading ``<think>...</think>`` block in the assistant's text (R1-style distilled data).

LLaMA-Factory also writes tool calls as parts ``{"type": "tool_call", "value": "{\"name\", \"arguments\"}"}``
and answers them with tool messages without ids (one tool message may answer several calls with a JSON list
of results). These become ``tool_calls`` with ids ``call_<n>`` numbered through the conversation, and tool
messages answering them in order (a JSON list with one result per open call is split into one message each).
OpenAI-style calls and results written with no ids at all are numbered and paired the same way.

Tool calls written as markup (Hermes ``<tool_call>`` tags, Anthropic ``tool_use`` / ``tool_result`` blocks)
are lifted the same way (a user turn of nothing but ``<tool_response>`` blocks after such calls, as Qwen's chat
templates render the results, is their tool messages; ``<tool_response>`` blocks that each name the function
they answer pair with the calls by name); the parsing is in ``readers.formats.tool_markup``.
OpenThoughts' reasoning markers (``<|begin_of_thought|> ... <|end_of_thought|> <|begin_of_solution|> ...
<|end_of_solution|>``) count as a ``<think>`` block.

Every function here is a ``maybe_*``: safe to re-run, and it returns its input untouched when nothing applies.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from curation.readers.formats import tool_markup

REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")
_REASONING_KEY_SET = frozenset(REASONING_KEYS)
# <think> as R1 writes it, and <thinking> / <Think> as other distillations do
_THINK = re.compile(r"\A\s*<(think|thinking)>(.*?)</\1>\s*", re.S | re.I)
_MORE_THINK = re.compile(r"\s*<(think|thinking)>(.*?)</\1>\s*", re.S | re.I)  # a later block of an interleaved reply
_THOUGHT = re.compile(r"\A\s*<\|begin_of_thought\|>(.*?)<\|end_of_thought\|>\s*", re.S)
_SOLUTION = re.compile(r"\s*<\|begin_of_solution\|>(.*?)<\|end_of_solution\|>\s*", re.S)  # matched at a pos
_MESSAGE_LISTS = ("messages", "prompt", "chosen", "rejected")
_PART_KINDS = frozenset({"reasoning", "tool_call", "thinking", "tool_use"})


def opens_reasoning(text: str) -> bool:
    head = text[:64]
    return "<think" in head or "<Think" in head or "<THINK" in head or "<|begin_of_thought|>" in head


class UnclosedReasoning(ValueError):
    """An assistant text that opens a reasoning block and never closes it: the answer was cut off inside its
    reasoning (a length-limited generation), and kept it would be trained as the visible answer."""


def split_think(text: str) -> tuple[str | None, str]:
    """(reasoning, answer) for a text that opens with a ``<think>`` block (or OpenThoughts' thought markers);
    (None, text) otherwise. Later ``<think>`` blocks of an interleaved reply join the reasoning. Raises
    ``UnclosedReasoning`` for a text that opens a block at its very start and never closes it."""
    if not opens_reasoning(text):
        return None, text
    match = _THINK.match(text)
    if match is not None:
        thoughts, answer = [match.group(2).strip()], text[match.end():]
        if "`" not in answer and _MORE_THINK.search(answer):  # a tag inside code is the code's (a prompt template)
            thoughts += [m.group(2).strip() for m in _MORE_THINK.finditer(answer)]
            answer = _MORE_THINK.sub("\n\n", answer).strip()
        return "\n\n".join(t for t in thoughts if t), answer
    match = _THOUGHT.match(text)
    if match is None:
        # R1's own markers opened and never closed: a trace cut off. <thinking> opens prose about the tag as often
        # ("<thinking> tags are how ..."), and a text that closes a block somewhere is no cut-off trace.
        stripped = text.lstrip()
        opened = stripped[:7].lower() == "<think>" or stripped.startswith("<|begin_of_thought|>")
        if opened and not re.search(r"</think(?:ing)?>|<\|end_of_thought\|>", text, re.I):
            raise UnclosedReasoning(text)
        return None, text  # prose that names the tag further on
    rest = text[match.end():]
    solution = _SOLUTION.match(rest)
    if solution is None:
        # the thought closed, then the answer on its own line without solution markers; the markers named in a
        # sentence ("<|begin_of_thought|> and <|end_of_thought|> delimit ...") are prose
        if "\n" not in text[text.index("<|end_of_thought|>") + len("<|end_of_thought|>"): match.end()]:
            return None, text
        return match.group(1).strip(), rest.strip()
    # the solution block, and what the text says after it (a closing remark is part of the answer)
    tail = rest[solution.end():].strip()
    return match.group(1).strip(), solution.group(1).strip() + (f"\n\n{tail}" if tail else "")


def _part_text(part: dict[str, Any]) -> Any:
    if "thinking" in part and "text" not in part:  # Anthropic's extended-thinking block
        return part["thinking"]
    return part.get("text", part.get("value"))


def _call_from_part(value: Any, number: int) -> dict[str, Any]:
    data = value
    if isinstance(value, str):
        try:
            data = orjson.loads(value)
        except orjson.JSONDecodeError:
            data = None
    if isinstance(data, dict):
        name = data.get("name", "")
        arguments = data.get("arguments", data.get("parameters", {}))
    else:  # not a call object: kept as a nameless call, which the checks report
        name, arguments = "", value if isinstance(value, str) else ""
    args = arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode()
    return {"id": f"call_{number}", "type": "function",
            "function": {"name": name if isinstance(name, str) else str(name), "arguments": args}}


def maybe_lift_message(message: Any, n_calls: int) -> tuple[Any, list[str]]:
    """One message with its reasoning in ``reasoning`` and tool-call parts in ``tool_calls``; returns the
    (possibly new) message and the ids of the calls it added (numbered from ``n_calls``)."""
    if not isinstance(message, dict):
        return message, []
    content = message.get("content")
    has_key = not _REASONING_KEY_SET.isdisjoint(message)  # one C loop over the message's keys, read per message
    has_parts = isinstance(content, list) and any(
        isinstance(p, dict) and p.get("type") in _PART_KINDS for p in content
    )
    assistant_text = isinstance(content, str) and message.get("role") == "assistant"
    has_think = assistant_text and opens_reasoning(content)
    hermes = tool_markup.hermes_calls(content, n_calls) if assistant_text and tool_markup.CALL_OPEN in content \
        else None
    if not (has_key or has_parts or has_think or hermes):
        return message, []
    out = dict(message)
    reasoning: list[str] = []
    for key in REASONING_KEYS:
        if key in out:
            value = out.pop(key)
            if isinstance(value, str):
                if value.strip():
                    reasoning.append(value)
            elif value is not None:  # a wrong type stays for the checks to report
                out["reasoning"] = value
                return out, []
    added: list[str] = []
    if has_parts:
        kept: list[Any] = []
        calls = list(out.get("tool_calls") or [])
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind in ("reasoning", "thinking"):
                text = _part_text(part)
                if isinstance(text, str) and text.strip():
                    reasoning.append(text)
            elif kind == "tool_call":
                call = _call_from_part(_part_text(part), n_calls + len(added))
                calls.append(call)
                added.append(call["id"])
            elif kind == "tool_use":
                call = tool_markup.anthropic_call(part, n_calls + len(added))
                calls.append(call)
                added.append(call["id"])
            else:
                kept.append(part)
        if calls:
            out["tool_calls"] = calls
        if kept:
            out["content"] = kept
        elif calls:
            out.pop("content", None)
        else:
            out["content"] = ""
    elif hermes is not None:
        text, calls = hermes
        out["tool_calls"] = [*(out.get("tool_calls") or []), *calls]
        added = [c["id"] for c in calls]
        if text:
            out["content"] = text
        else:
            out.pop("content", None)
    if has_think and isinstance(out.get("content"), str):
        thought, answer = split_think(out["content"])
        if thought is not None:
            # a source that gives the reasoning twice (a reasoning_content key and the <think> block) gives it once
            if thought and " ".join(thought.split()) not in {" ".join(r.split()) for r in reasoning}:
                reasoning.append(thought)
            out["content"] = answer
    if reasoning:
        out["reasoning"] = "\n\n".join(reasoning)
    return out, added


def _tool_text(message: dict[str, Any]) -> str | None:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list) and len(content) == 1 and isinstance(content[0], dict):
        text = _part_text(content[0])
        return text if isinstance(text, str) else None
    return None


def _paired_by_name(blocks: list[str], pending: list[str], names: dict[str, str]) -> list[str] | None:
    """The pending call each response block answers, when every block names its function (Hermes writes
    ``{"name", "content"}``) and those names are the pending calls' names one for one; None otherwise (the
    blocks then answer in order). Calls of one name answer in order among themselves."""
    if len(blocks) != len(pending):
        return None
    said = []
    for block in blocks:
        data = tool_markup.parse_loose(block)
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return None
        said.append(data["name"])
    if sorted(said) != sorted(names.get(call_id, "") for call_id in pending):
        return None
    left = list(pending)
    order = []
    for name in said:
        call_id = next(c for c in left if names.get(c) == name)
        left.remove(call_id)
        order.append(call_id)
    return order


def _answer_tools(message: dict[str, Any], pending: list[str], names: dict[str, str] | None = None,
                  ) -> list[dict[str, Any]]:
    """A tool message without an id, answering the pending calls: one message per result. ``names`` holds
    the function name of each pending call id."""
    text = _tool_text(message)
    blocks = tool_markup.hermes_responses(text) if text is not None and tool_markup.RESPONSE_OPEN in text else None
    if blocks is not None:
        by_name = _paired_by_name(blocks, pending, names or {})
        out = []
        for block in blocks:
            answer = {"role": "tool", "content": block}
            if by_name is not None:
                answer["tool_call_id"] = by_name.pop(0)
                pending.remove(answer["tool_call_id"])
            elif pending:
                answer["tool_call_id"] = pending.pop(0)
            out.append(answer)
        return out
    if len(pending) > 1 and text is not None:
        try:
            results = orjson.loads(text)
        except orjson.JSONDecodeError:
            results = None
        if isinstance(results, list) and len(results) == len(pending):
            out = []
            for result in results:
                body = result.get("content", result) if isinstance(result, dict) else result
                out.append({"role": "tool", "content": body if isinstance(body, str) else orjson.dumps(body).decode(),
                            "tool_call_id": pending.pop(0)})
            return out
    fixed = dict(message)
    if text is not None:
        fixed["content"] = text
    fixed["tool_call_id"] = pending.pop(0)
    return [fixed]


def _results_as_user_turn(message: Any) -> bool:
    """A user turn of ``<tool_response>`` blocks only, as Qwen's chat templates render the tool results."""
    return isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str) \
        and tool_markup.RESPONSE_OPEN in message["content"] \
        and tool_markup.only_responses(message["content"]) is not None


def _nothing_to_lift(messages: list[Any]) -> bool:
    """True when no message has a reasoning key, content parts or a leading ``<think>`` in the assistant's text:
    then :func:`maybe_lift_message` keeps every one as it is and adds no call (so no tool result is rewired).
    One cheap pass for the common conversation; False only means "lift message by message"."""
    for message in messages:
        if type(message) is not dict:
            continue
        content = message.get("content")
        if not _REASONING_KEY_SET.isdisjoint(message) or isinstance(content, list):
            return False
        if isinstance(content, str) and message.get("role") == "assistant" and (
                opens_reasoning(content) or tool_markup.CALL_OPEN in content):
            return False
    return True


def maybe_lift_messages(messages: Any) -> Any:
    """:func:`maybe_lift_message` over a conversation, wiring id-less tool results to the calls it added."""
    if not isinstance(messages, list) or _nothing_to_lift(messages):
        return messages
    out: list[Any] = []
    pending: list[str] = []
    names: dict[str, str] = {}  # the function name of each pending call
    n_calls = 0
    changed = False
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "tool" and "tool_call_id" not in message and pending:
            out.extend(_answer_tools(message, pending, names))
            changed = True
            continue
        if pending and _results_as_user_turn(message):
            out.extend(_answer_tools({"role": "tool", "content": message["content"]}, pending, names))
            changed = True
            continue
        if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), list) \
                and any(tool_markup.is_tool_result(p) for p in message["content"]):
            for part in tool_markup.split_tool_results(message):
                if part.get("tool_call_id") in pending:
                    pending.remove(part["tool_call_id"])
                out.append(part)
            changed = True
            continue
        lifted, added = maybe_lift_message(message, n_calls)
        if added:
            n_calls += len(added)
            pending = list(added)
            names = {c["id"]: c["function"]["name"] for c in lifted["tool_calls"]
                     if isinstance(c, dict) and c.get("id") in added and isinstance(c.get("function"), dict)}
        elif isinstance(lifted, dict) and lifted.get("role") != "tool":
            pending = []
        changed = changed or lifted is not message
        out.append(lifted)
    return out if changed else messages


def _id_less(messages: list[Any]) -> bool:
    """Whether the conversation has tool calls and neither its calls nor its tool results carry an id."""
    calls = False
    for message in messages:
        if type(message) is not dict:
            continue
        if message.get("role") == "tool" and message.get("tool_call_id") is not None:
            return False
        tool_calls = message.get("tool_calls")
        if tool_calls:
            if type(tool_calls) is not list or any(type(c) is not dict or c.get("id") is not None for c in tool_calls):
                return False
            calls = True
    return calls


def maybe_number_calls(messages: Any) -> Any:
    """A conversation whose tool calls and results have no ids at all (OpenAI's own layout allows leaving them
    out when writing by hand, but every provider's upload needs them) with ids ``call_<n>`` and each tool
    message answering the calls of the assistant turn before it in order; unchanged when there is nothing to
    number or a result has no call left to answer (then validation says what is wrong)."""
    if type(messages) is not list or not _id_less(messages):
        return messages
    out: list[Any] = []
    n_calls = 0
    open_ids: list[str] = []
    for message in messages:
        if type(message) is dict and message.get("role") == "tool":
            if not open_ids:
                return messages
            out.append({**message, "tool_call_id": open_ids.pop(0)})
            continue
        open_ids = []
        calls = message.get("tool_calls") if type(message) is dict and message.get("role") == "assistant" else None
        if calls:
            numbered = [{"id": f"call_{n_calls + k}", **{key: v for key, v in call.items() if key != "id"}}
                        for k, call in enumerate(calls)]
            n_calls += len(numbered)
            open_ids = [call["id"] for call in numbered]
            message = {**message, "tool_calls": numbered}
        out.append(message)
    return out


def maybe_lift_record(body: dict[str, Any]) -> dict[str, Any]:
    """Every message list of a record body (conversation or preference pair), in place."""
    for key in _MESSAGE_LISTS:
        value = body.get(key)
        if isinstance(value, list):
            lifted = maybe_lift_messages(value)
            if key == "messages":
                # A pair's results may answer calls in its prompt: numbering each list alone could split them.
                lifted = maybe_number_calls(lifted)
            if lifted is not value:
                body[key] = lifted
    return body


def message_reasoning(message: Any) -> str:
    """The reasoning text of a canonical message ('' when it has none)."""
    if isinstance(message, dict):
        value = message.get("reasoning")
        if isinstance(value, str):
            return value
    return ""


def has_reasoning(record: dict[str, Any]) -> bool:
    return any(
        isinstance(m, dict) and m.get("reasoning")
        for key in _MESSAGE_LISTS if isinstance(record.get(key), list) for m in record[key]
    )
