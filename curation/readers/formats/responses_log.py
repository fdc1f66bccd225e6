"""Logged Responses API calls: ``{"request": {"input", "instructions"?, "tools"?}, "response": {"object":
"response", "output": [...]}}``, or the request's keys beside ``response`` as a logging proxy writes them.

The Responses API is what OpenAI's SDKs call by default since 2025, so an app's logs now hold its items
rather than chat messages. The conversation is ``instructions`` (the system turn), the ``input`` items, then
the ``output`` items folded into one assistant turn: ``message`` text, ``function_call`` items as
``tool_calls`` (and ``function_call_output`` as tool turns), ``reasoning`` summaries as ``reasoning_content``.

Refused, each by name: a response that is not ``completed`` (cut off for ``max_output_tokens`` or a content
filter: ``incomplete_answer``; failed or cancelled: ``empty_record``); a call that continued a stored
conversation (``previous_response_id``, ``conversation``, an ``item_reference``), whose earlier turns are on
OpenAI's servers and not in the log (``missing_history``); and a call that used a tool OpenAI runs itself
(web search, file search, code interpreter...), whose results the log does not hold, so the answer would cite
what the model never saw (``server_tool_call``).
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import ConvertProblem
from curation.readers.formats.api_log import call_body
from curation.readers.formats.openai import fix_messages
from curation.readers.mapping import FieldMapping

NAME = "responses_log"
KEYS = frozenset({"request", "response", "input", "instructions", "tools"})
_TEXT_PARTS = ("input_text", "output_text", "text")
_ROLES = {"developer": "system"}  # the Responses API's name for the system turn
_USED_KEYS = ("input", "instructions", "tools")
_SERVER_TOOLS = frozenset({"web_search_call", "file_search_call", "code_interpreter_call", "image_generation_call"})


def _request(obj: dict[str, Any]) -> Any:
    return call_body(obj["request"]) if "request" in obj else obj


def _is_response(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("output"), list) and (
        value.get("object") == "response" or "status" in value)


def is_responses_log(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    response = obj.get("response")
    if response is None or not _is_response(call_body(response)):
        return False
    request = _request(obj)
    return isinstance(request, dict) and ("input" in request or "previous_response_id" in request)


def _content(parts: Any, where: str) -> Any:
    """Content parts as chat content: one string when they are all text, else OpenAI chat parts."""
    if isinstance(parts, str) or parts is None:
        return parts
    if not isinstance(parts, list):
        raise ConvertProblem("data_type", f"{where}: content is a {type(parts).__name__}, expected text or parts")
    converted: list[Any] = []
    for part in parts:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _TEXT_PARTS and isinstance(part.get("text"), str):
            converted.append({"type": "text", "text": part["text"]})
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            converted.append({"type": "text", "text": part["refusal"]})  # the model declined: its words
        elif kind == "input_image":
            url = part.get("image_url") or part.get("file_id")
            image: dict[str, Any] = {"url": url}
            if part.get("detail") is not None:
                image["detail"] = part["detail"]
            converted.append({"type": "image_url", "image_url": image})
        else:
            converted.append(part)  # an input file or audio: kept for the checks to name
    if all(p.get("type") == "text" for p in converted if isinstance(p, dict)) and all(
            isinstance(p, dict) for p in converted):
        return "\n".join(p["text"] for p in converted)
    return converted


def _reasoning(item: dict[str, Any]) -> str | None:
    summary = item.get("summary")
    texts = [s["text"] for s in summary if isinstance(s, dict) and isinstance(s.get("text"), str)] \
        if isinstance(summary, list) else []
    content = item.get("content")  # open-weight servers put the full reasoning text here
    if isinstance(content, list):
        texts.extend(c["text"] for c in content if isinstance(c, dict) and isinstance(c.get("text"), str))
    joined = "\n\n".join(t for t in texts if t.strip())
    return joined or None


class _Turns:
    """Items in order, folded into chat messages: consecutive assistant items (reasoning, calls, text) make
    one assistant turn, as the API produced them in one response."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def assistant(self) -> dict[str, Any]:
        last = self.messages[-1] if self.messages else None
        if last is None or last.get("role") != "assistant" or last.get("_closed"):
            last = {"role": "assistant", "content": None}
            self.messages.append(last)
        return last

    def add(self, item: Any, where: str) -> None:
        if not isinstance(item, dict):
            raise ConvertProblem("data_type", f"{where} is a {type(item).__name__}, expected an item object")
        kind = item.get("type", "message" if "role" in item else None)
        if kind is not None and not isinstance(kind, str):
            raise ConvertProblem("data_type", f"{where}: type is a {type(kind).__name__}, expected an item type name")
        if kind == "message":
            role = item.get("role")
            if not isinstance(role, str):
                raise ConvertProblem("data_type", f"{where}: role is a {type(role).__name__}, expected a name "
                                     "such as 'user' or 'assistant'")
            role = _ROLES.get(role, role)
            content = _content(item.get("content"), where)
            if role == "assistant":
                turn = self.assistant()
                if isinstance(turn["content"], str) and isinstance(content, str):
                    turn["content"] = f"{turn['content']}\n{content}"
                else:
                    turn["content"] = content
            else:
                self.messages.append({"role": role, "content": content})
        elif kind == "function_call":
            call = {"id": item.get("call_id") or item.get("id"), "type": "function",
                    "function": {"name": item.get("name"), "arguments": item.get("arguments")}}
            self.assistant().setdefault("tool_calls", []).append(call)
        elif kind == "function_call_output":
            output = item.get("output")
            if isinstance(output, list):
                output = _content(output, where)
            self.messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": output})
        elif kind == "reasoning":
            text = _reasoning(item)
            if text is not None:
                turn = self.assistant()
                turn["reasoning_content"] = f"{turn['reasoning_content']}\n\n{text}" \
                    if turn.get("reasoning_content") else text
        elif kind == "item_reference":
            raise ConvertProblem("missing_history", f"{where} refers to a stored item ({item.get('id')!r}) "
                                 "that the log does not hold, so part of the conversation is missing")
        elif kind in _SERVER_TOOLS or (isinstance(kind, str) and kind.startswith("mcp_")):
            raise ConvertProblem("server_tool_call", f"{where} is a {kind}: a tool OpenAI runs on its side, whose "
                                 "results are not in the log, so the answer would cite what the model never saw")
        else:  # custom_tool_call, computer_call, local_shell_call...: chat fine-tuning has no form for them
            raise ConvertProblem("data_type", f"{where} is a {kind!r} item, which chat fine-tuning data cannot "
                                 "hold (only messages, function calls and their outputs): drop such calls")


def _tools(value: Any) -> Any:
    """Responses tools are flat (``{"type": "function", "name", "parameters"}``); chat tools nest them."""
    if not isinstance(value, list) or not value:
        return None
    tools = []
    for tool in value:
        if isinstance(tool, dict) and tool.get("type") == "function" and "function" not in tool:
            function = {k: tool[k] for k in ("name", "description", "parameters", "strict") if k in tool}
            tools.append({"type": "function", "function": function})
        elif isinstance(tool, dict) and tool.get("type") not in (None, "function"):
            continue  # web_search and the like: a call to one is refused; offering one changes nothing
        else:
            tools.append(tool)
    return tools or None


def _refuse_unfinished(response: dict[str, Any]) -> None:
    status = response.get("status", "completed")
    if status == "completed":
        return
    if status == "incomplete":
        details = response.get("incomplete_details")
        reason = details.get("reason", "unknown") if isinstance(details, dict) else details or "unknown"
        raise ConvertProblem("incomplete_answer", f"the logged response is incomplete ({reason!r}), so its answer "
                             "is cut off (raise max_output_tokens, or drop such calls)")
    error = response.get("error")
    why = f" ({error.get('message')})" if isinstance(error, dict) and error.get("message") else ""
    raise ConvertProblem("empty_record", f"the logged response has status {status!r}{why}: there is no finished "
                         "answer to train on")


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    request, response = _request(obj), call_body(obj["response"])
    _refuse_unfinished(response)
    for key in ("previous_response_id", "conversation"):
        if request.get(key):
            raise ConvertProblem("missing_history", f"the call continues a stored conversation ({key} "
                                 f"{request[key]!r}): its earlier turns are on OpenAI's servers, not in the log "
                                 "(log the whole input, or fetch it with GET /responses/{id}/input_items)")
    turns = _Turns()
    # The response echoes the instructions it ran with: a stored prompt's come back there as input items.
    instructions = request.get("instructions") if request.get("instructions") is not None else \
        response.get("instructions")
    if isinstance(instructions, list):
        for i, item in enumerate(instructions):
            turns.add(item, f"instructions[{i}]")
    elif isinstance(instructions, str):
        if instructions.strip():
            turns.messages.append({"role": "system", "content": instructions})
    elif instructions is not None:
        raise ConvertProblem("data_type", f"the request's instructions is a {type(instructions).__name__}, "
                             "expected text or input items")
    elif isinstance(request.get("prompt"), dict) and request["prompt"].get("id"):
        raise ConvertProblem("missing_history", f"the call used a stored prompt ({request['prompt']['id']!r}) "
                             "whose instructions are on OpenAI's servers, not in the log (log the response's "
                             "'instructions', or add the prompt's text as the system turn)")
    items = request.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    if not isinstance(items, list):
        raise ConvertProblem("data_type", f"the request's input is a {type(items).__name__}, expected text or items")
    for i, item in enumerate(items):
        turns.add(item, f"input[{i}]")
    if turns.messages and turns.messages[-1].get("role") == "assistant":
        turns.messages[-1]["_closed"] = True  # the answer is a new turn, not more of the last one in the input
    answers_from = len(turns.messages)
    for i, item in enumerate(response["output"]):
        turns.add(item, f"output[{i}]")
    if len(turns.messages) == answers_from:
        raise ConvertProblem("empty_record", "the logged response's output holds no answer")
    for message in turns.messages:
        message.pop("_closed", None)
    body: dict[str, Any] = {"messages": fix_messages(turns.messages, mapping)}
    tools = _tools(request.get("tools"))
    if tools is not None:
        body["tools"] = tools
    fields: dict[str, Any] = {}
    if "request" in obj:  # beside the response, the request's other keys are the record's own fields already
        params = {k: v for k, v in request.items() if k not in _USED_KEYS}
        if params:
            fields["request"] = params
    if isinstance(response.get("model"), str):
        fields["response_model"] = response["model"]
    return [(None, body, fields or None)]
