"""Logged Chat Completions calls: the request a team's app sent and the response it got back, one per line.

This is what "our own conversations" usually are before anyone curates them: an LLM gateway, proxy or
``logging`` wrapper writes ``{"request": {"model", "messages", "tools"?, ...}, "response": {"choices":
[{"message": {...}, "finish_reason"}]}}`` (the response may sit under ``body``, as the Batch API's output
has it), or the request's keys at the top level beside ``response`` (LiteLLM's logging payload), or
``request_body`` / ``response_body`` (Helicone's export). The
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
KEYS = frozenset({"request", "response", "messages", "tools", "input", "output", "request_body", "response_body"})
# finish reasons of a cut-off answer: OpenAI, Anthropic, Bedrock Converse, Gemini
_CUT = frozenset({"length", "content_filter", "max_tokens", "guardrail_intervened", "content_filtered",
                  "MAX_TOKENS", "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
                  "MALFORMED_FUNCTION_CALL", "LANGUAGE", "OTHER"})
_GEMINI_REQUEST_KEYS = ("contents", "systemInstruction", "system_instruction", "tools")
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


def _bedrock(obj: dict[str, Any]) -> tuple[Any, Any] | None:
    """(request, response) of an Amazon Bedrock model invocation log line (``input.inputBodyJson``,
    ``output.outputBodyJson``); None when the line is not one."""
    logged = obj.get("input")
    if type(logged) is not dict or "inputBodyJson" not in logged:
        return None
    output = obj.get("output")
    return logged["inputBodyJson"], output.get("outputBodyJson") if isinstance(output, dict) else None


def _gemini_request(request: Any) -> bool:
    return isinstance(request, dict) and isinstance(request.get("contents"), list) and "messages" not in request


def _status(obj: dict[str, Any]) -> str:
    """A Vertex AI batch line's error (its ``status``; empty when the call succeeded)."""
    status = obj.get("status")
    return status.strip() if isinstance(status, str) else ""


_CHAT_URLS = frozenset({"/v1/chat/completions", "/v1/responses", "/chat/completions", "/responses"})


def _batch_failure(obj: dict[str, Any]) -> str | None:
    """Why a joined Batch API line (``{"custom_id", "request", "response", "error"}``) holds no chat answer: its
    call is no chat call (an embeddings request), or it failed with no response (``batch_expired``); else None."""
    if "custom_id" not in obj or "request" not in obj or "response" not in obj:
        return None
    request = obj["request"]
    url = request.get("url") if isinstance(request, dict) else None
    if isinstance(url, str) and url.split("?")[0] not in _CHAT_URLS:
        return f"not a chat call ({url})"
    if isinstance(obj["response"], dict):
        return None
    error = obj.get("error")
    if isinstance(error, dict):
        parts = [str(error[k]) for k in ("code", "message") if error.get(k)]
        return f"the call failed: {': '.join(parts) or 'no reason given'}"
    return f"the call failed: {error}" if error else "the call has no response"


def _helicone(obj: dict[str, Any]) -> dict[str, Any]:
    """A Helicone request export names the call's two halves ``request_body`` and ``response_body``."""
    if "request_body" in obj and "response_body" in obj and "request" not in obj and "response" not in obj:
        return {**obj, "request": obj["request_body"], "response": obj["response_body"]}
    return obj


def is_api_log(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    obj = _helicone(obj)
    if _batch_failure(obj) is not None:
        return True  # joined already: the unknown_format hint to join the files could not help
    if "input" in obj:
        bedrock = _bedrock(obj)
        if bedrock is not None:
            return isinstance(bedrock[0], dict) and isinstance(bedrock[0].get("messages"), list)
    if "request" in obj and _gemini_request(call_body(obj["request"])):
        return "response" in obj or bool(_status(obj))  # a Gemini call, or a Vertex batch line that failed
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


def _gemini(obj: dict[str, Any], request: dict[str, Any], response: Any,
            mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    """A logged Gemini ``generateContent`` call (a Vertex AI batch prediction line): the request's contents
    followed by the first candidate's."""
    from curation.readers.formats import gemini

    if _status(obj) or not isinstance(response, dict):
        why = f" ({_status(obj)})" if _status(obj) else ""
        raise ConvertProblem("empty_record", f"the logged call failed{why}, so there is no answer to train on")
    candidates = response.get("candidates")
    first = candidates[0] if isinstance(candidates, list) and candidates else None
    if not isinstance(first, dict) or not isinstance(first.get("content"), dict):
        feedback = response.get("promptFeedback")
        blocked = feedback.get("blockReason") if isinstance(feedback, dict) else None
        why = f": the prompt was blocked ({blocked})" if blocked else ""
        raise ConvertProblem("empty_record", f"the logged response has no candidate with content{why}, so there "
                             "is no answer to train on")
    if first.get("finishReason") in _CUT:
        raise ConvertProblem("incomplete_answer", f"the logged answer stopped with finishReason "
                             f"{first['finishReason']!r}, so it is cut off or withheld (raise maxOutputTokens, or "
                             "drop such calls)")
    conversation = {k: request[k] for k in _GEMINI_REQUEST_KEYS if k in request}
    conversation["contents"] = [*request["contents"], {"role": "model", **first["content"]}]
    [(_, body, _)] = gemini.convert(conversation, mapping)
    fields: dict[str, Any] = {}
    params = {k: v for k, v in request.items() if k not in _GEMINI_REQUEST_KEYS}
    if params:
        fields["request"] = params
    if isinstance(response.get("modelVersion"), str):
        fields["response_model"] = response["modelVersion"]
    if len(candidates) > 1:
        fields["choices_not_used"] = len(candidates) - 1
    return [(None, body, fields or None)]


def _converse(response: dict[str, Any]) -> dict[str, Any] | None:
    """A Bedrock Converse response as a choice; None when it is not one."""
    output = response.get("output")
    if not isinstance(output, dict) or not isinstance(output.get("message"), dict):
        return None
    return {"message": output["message"], "finish_reason": response.get("stopReason")}


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    obj = _helicone(obj)
    failure = _batch_failure(obj)
    if failure is not None:
        raise ConvertProblem("empty_record", f"the Batch API line (custom_id {obj['custom_id']!r}): {failure}, so "
                             "there is no chat answer to train on")
    bedrock = _bedrock(obj) if "input" in obj else None
    request, response = bedrock if bedrock is not None else (_request(obj), call_body(obj.get("response")))
    if _gemini_request(request):
        return _gemini(obj, request, response, mapping)
    if not isinstance(response, dict):
        raise ConvertProblem("empty_record", "the logged call has no response, so there is no answer to train on")
    choices = response.get("choices")
    answer = _anthropic(response) or _converse(response)
    if answer is not None:
        choices = [answer]
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
    params = {k: v for k, v in request.items() if k not in ("messages", "tools", "system", "toolConfig")}
    if params:
        fields["request"] = params
    if isinstance(response.get("model"), str):
        fields["response_model"] = response["model"]
    if len(choices) > 1:
        fields["choices_not_used"] = len(choices) - 1
    return [(None, body, fields or None)]
