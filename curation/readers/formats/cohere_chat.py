"""Cohere's v1 Chat API: ``chat_history`` turns (``{"role": "USER" | "CHATBOT" | "SYSTEM" | "TOOL",
"message"}``), the new ``message`` and a ``preamble`` (the system turn), as a logged request with its
``response`` (``{"text", "finish_reason"}``), as the response itself (whose ``chat_history`` already ends with
the answer), or as a dataset row of ``chat_history`` alone.

A ``CHATBOT`` turn's ``tool_calls`` (``{"name", "parameters"}``, no ids) become OpenAI tool calls and the
``TOOL`` turn's ``tool_results`` the tool turns answering them, paired in order with ids made from their
position. An answer that stopped for ``MAX_TOKENS`` is refused as ``incomplete_answer``; one that stopped for
an error as ``empty_record``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import ConvertProblem, map_role
from curation.readers.mapping import FieldMapping
from curation.records import arguments_string

NAME = "cohere_chat"
KEYS = frozenset({"chat_history", "message", "preamble", "response", "text", "finish_reason", "tool_calls"})
_ROLES = {"USER": "user", "CHATBOT": "assistant", "SYSTEM": "system", "TOOL": "tool"}
_FAILED = ("ERROR", "ERROR_TOXIC", "ERROR_LIMIT", "USER_CANCEL")
_OTHER_LAYOUTS = frozenset({"messages", "conversations", "instruction", "output", "question", "answer", "prompt",
                            "completion", "query", "input", "chosen", "rejected"})


def _turns(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(t, dict) and "role" in t and ("message" in t or "tool_results" in t or "tool_calls" in t)
        for t in value)


def is_cohere_chat(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if "chat_history" not in obj and "preamble" not in obj:
        return False
    if not _OTHER_LAYOUTS.isdisjoint(obj):
        return False  # a QA, Alpaca or chat record that carries a chat_history column of its own
    history = obj.get("chat_history")
    if history == []:
        # Cohere's first turn: only with its own message beside it (an empty history alone is no conversation)
        return isinstance(obj.get("message"), str)
    if history is not None and not _turns(history):
        return False
    if history is None and not isinstance(obj.get("preamble"), str):
        return False  # a bare `message` + `response` is too common a pair of names to be Cohere's
    return history is not None or isinstance(obj.get("message"), str)


def _role(raw: Any, mapping: FieldMapping | None) -> Any:
    return _ROLES.get(raw.upper(), map_role(raw, mapping)) if isinstance(raw, str) else raw


class _Calls:
    """Ids for calls that have none: ``call_<turn>_<n>``, handed to the results in the order of the calls."""

    def __init__(self) -> None:
        self.open: list[tuple[str, str]] = []  # (id, name) of calls not answered yet

    def make(self, turn: int, calls: list[Any]) -> list[dict[str, Any]]:
        made = []
        for n, call in enumerate(calls):
            name = call.get("name") if isinstance(call, dict) else None
            call_id = f"call_{turn}_{n}"
            self.open.append((call_id, name))
            arguments = arguments_string(call.get("parameters") if isinstance(call, dict) else None)
            made.append({"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}})
        return made

    def answer(self, result: Any) -> dict[str, Any]:
        if isinstance(result, str):  # a result logged as its text: it answers the next open call
            return {"role": "tool", "tool_call_id": self.open.pop(0)[0] if self.open else None, "content": result}
        call = result.get("call") if isinstance(result, dict) else None
        name = call.get("name") if isinstance(call, dict) else None
        index = next((i for i, (_id, open_name) in enumerate(self.open) if open_name == name), 0 if self.open
                     else None)
        call_id = self.open.pop(index)[0] if index is not None else None
        outputs = result.get("outputs") if isinstance(result, dict) else None
        return {"role": "tool", "tool_call_id": call_id, "content": arguments_string(outputs)}


def _convert_turns(history: list[dict[str, Any]], mapping: FieldMapping | None) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    calls = _Calls()
    for turn, item in enumerate(history):
        role = _role(item.get("role"), mapping)
        if role == "tool" and isinstance(item.get("tool_results"), list):
            messages.extend(calls.answer(result) for result in item["tool_results"])
            continue
        message: dict[str, Any] = {"role": role, "content": item.get("message")}
        if role == "assistant" and isinstance(item.get("tool_calls"), list) and item["tool_calls"]:
            message["tool_calls"] = calls.make(turn, item["tool_calls"])
            if message["content"] == "":
                message["content"] = None  # Cohere writes "" beside calls; OpenAI's shape has no text there
        messages.append(message)
    return messages


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    response = obj.get("response")
    answer = response if isinstance(response, dict) else obj  # a logged request, or the response itself
    finish = answer.get("finish_reason")
    if finish == "MAX_TOKENS":
        raise ConvertProblem("incomplete_answer", "the logged answer stopped with finish_reason 'MAX_TOKENS', so it "
                             "is cut off (raise max_tokens, or drop such calls)")
    if finish in _FAILED:
        raise ConvertProblem("empty_record", f"the logged call ended with finish_reason {finish!r}: there is no "
                             "finished answer to train on")
    for key in ("message", "preamble"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise ConvertProblem("data_type", f"{key} is a {type(obj[key]).__name__}, expected text")
    history = list(obj.get("chat_history") or [])
    preamble = obj.get("preamble")
    messages = [{"role": "system", "content": preamble}] if isinstance(preamble, str) and preamble.strip() else []
    messages += _convert_turns(history, mapping)
    text = answer.get("text") if isinstance(answer.get("text"), str) else response if isinstance(response, str) \
        else None
    last = messages[-1] if messages else None
    # The v1 response's chat_history already holds the new message and the answer: not added twice.
    answered = last is not None and last["role"] == "assistant" and (text is None or last["content"] == text)
    if not answered:
        if isinstance(obj.get("message"), str) and not (last and last["role"] == "user"
                                                       and last["content"] == obj["message"]):
            messages.append({"role": "user", "content": obj["message"]})
        if text is not None or answer.get("tool_calls"):
            reply: dict[str, Any] = {"role": "assistant", "content": text}
            if isinstance(answer.get("tool_calls"), list) and answer["tool_calls"]:
                reply["tool_calls"] = _Calls().make(len(history), answer["tool_calls"])
            messages.append(reply)
    fields = {"response_model": answer["model"]} if answer is response and isinstance(answer.get("model"), str) \
        else None
    return [(None, {"messages": messages}, fields)]
