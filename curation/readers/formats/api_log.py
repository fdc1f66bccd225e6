"""Logged Chat Completions calls: the request a team's app sent and the response it got back, one per line.

This is what "our own conversations" usually are before anyone curates them: an LLM gateway, proxy or
``logging`` wrapper writes ``{"request": {"model", "messages", "tools"?, ...}, "response": {"choices":
[{"message": {...}, "finish_reason"}]}}`` (the response may sit under ``body``, as the Batch API's output
has it), or the request's keys at the top level beside ``response`` (LiteLLM's logging payload). The
conversation is the request's messages followed by the first choice's message.

A response that stopped for ``length`` or ``content_filter`` holds a cut-off answer, which would teach the
model to stop mid-sentence: refused as ``incomplete_answer``. A logged error (no choices) is refused as
``empty_record``. Sampling parameters and the model name are kept in ``metadata.fields``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import ConvertProblem, add_tools
from curation.readers.formats.openai import fix_messages
from curation.readers.mapping import FieldMapping

NAME = "api_log"
KEYS = frozenset({"request", "response", "messages", "tools"})
_CUT = ("length", "content_filter", "max_tokens")
_ANSWER_KEYS = ("role", "content", "tool_calls", "function_call", "reasoning_content", "reasoning", "name")


def call_body(value: Any) -> Any:
    """A logged request or response, unwrapped from the Batch API's ``{"status_code", "body"}``."""
    if isinstance(value, dict) and isinstance(value.get("body"), dict):
        return value["body"]
    return value


def _request(obj: dict[str, Any]) -> Any:
    if "request" in obj:
        return call_body(obj["request"])
    return {"messages": obj.get("messages"), **({"tools": obj["tools"]} if "tools" in obj else {})}


def is_api_log(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if "response" not in obj:
        return False
    request, response = _request(obj), call_body(obj["response"])
    if not (isinstance(request, dict) and isinstance(request.get("messages"), list) and isinstance(response, dict)):
        return False
    if "request" in obj:
        return True
    # beside top-level messages, only a completion answering them: the messages end with the user's (or a
    # tool's) turn, and the response has choices (not a judge's verdict kept in a "response" column)
    last = request["messages"][-1] if request["messages"] else None
    return "choices" in response and isinstance(last, dict) and last.get("role") in ("user", "tool")


def _answer(choice: dict[str, Any]) -> dict[str, Any]:
    message = choice.get("message")
    if not isinstance(message, dict):
        raise ConvertProblem("empty_record", "the logged response's first choice has no message")
    answer = {k: message[k] for k in _ANSWER_KEYS if message.get(k) is not None}
    answer.setdefault("role", "assistant")
    if "content" not in answer and isinstance(message.get("refusal"), str):
        answer["content"] = message["refusal"]  # the model declined: its words are the answer
    return answer


def _anthropic(response: dict[str, Any]) -> dict[str, Any] | None:
    """An Anthropic Messages response as a choice ({message, finish_reason}); None when it is not one."""
    if response.get("type") != "message" or not isinstance(response.get("content"), list):
        return None
    return {"message": {"role": "assistant", "content": response["content"]},
            "finish_reason": response.get("stop_reason")}


def _system(request: dict[str, Any]) -> list[dict[str, Any]]:
    system = request.get("system")  # Anthropic keeps it beside the messages: a string or text blocks
    if isinstance(system, list):
        system = "\n\n".join(b["text"] for b in system if isinstance(b, dict) and isinstance(b.get("text"), str))
    return [{"role": "system", "content": system}] if isinstance(system, str) and system.strip() else []


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    request, response = _request(obj), call_body(obj["response"])
    choices = response.get("choices")
    anthropic = _anthropic(response)
    if anthropic is not None:
        choices = [anthropic]
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        error = response.get("error")
        if error is None:
            raise ConvertProblem("empty_record", "the logged response has neither choices (OpenAI Chat Completions) "
                                 "nor content blocks (Anthropic Messages), so there is no answer to read")
        why = f" ({error.get('message')})" if isinstance(error, dict) and error.get("message") else ""
        raise ConvertProblem("empty_record", f"the logged response has no choices{why}: the call failed, so there "
                             "is no answer to train on")
    first = choices[0]
    if first.get("finish_reason") in _CUT:
        raise ConvertProblem("incomplete_answer", f"the logged answer stopped with finish_reason "
                             f"{first['finish_reason']!r}, so it is cut off (raise max_tokens, or drop such calls)")
    messages = fix_messages([*_system(request), *request["messages"], _answer(first)], mapping)
    body: dict[str, Any] = {"messages": messages}
    add_tools(body, request, mapping)
    fields: dict[str, Any] = {}
    params = {k: v for k, v in request.items() if k not in ("messages", "tools", "system")}
    if params:
        fields["request"] = params
    if isinstance(response.get("model"), str):
        fields["response_model"] = response["model"]
    if len(choices) > 1:
        fields["choices_not_used"] = len(choices) - 1
    return [(None, body, fields or None)]
