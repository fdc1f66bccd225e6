"""A conversation that stops at the user's turn, with its answer in a column beside it: ``{"messages": [...,
{"role": "user", ...}], "response": "..."}`` (also ``completion``, ``output``, ``answer``, ``assistant``), as
reward-model, evaluation and generation datasets write a prompt's turns and the reply they got.

Read as OpenAI messages, such a row had no assistant turn: the answer sat unread in ``metadata.fields`` and
the record was refused as ``example_missing_assistant_message``. The answer may be text or an assistant
message. A row that holds two candidate answers is left to the other formats, not guessed at.

A ``reasoning`` (or ``reasoning_content``) column beside the answer is the trace that answer came with
(cognitivecomputations/dolphin-r1: ``messages``, ``model``, ``reasoning``, ``answer``): it becomes the reply's
``reasoning``, so exporters that keep reasoning train on it, instead of sitting in ``metadata.fields``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats import openai
from curation.readers.formats._common import map_role
from curation.readers.mapping import FieldMapping

NAME = "messages_answer"
# `message`: Ollama's /api/chat response beside the request's messages (only as an assistant message: Cohere's
# `message` is the user's)
ANSWER_KEYS = ("response", "completion", "output", "answer", "assistant", "message")
REASONING_KEYS = ("reasoning", "reasoning_content")
KEYS = frozenset({*openai.KEYS, *ANSWER_KEYS, *REASONING_KEYS})
_PAIR_SET = frozenset({"chosen", "rejected", "prompt", "label"})


def _answer_key(obj: dict[str, Any]) -> str | None:
    keys = [k for k in ANSWER_KEYS if (isinstance(obj.get(k), str) and k != "message") or (
        isinstance(obj.get(k), dict) and obj[k].get("role") == "assistant")]
    return keys[0] if len(keys) == 1 else None


_ANSWER_SET = frozenset(ANSWER_KEYS)


def is_messages_answer(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    # Cheapest tests first: every OpenAI-format record passes through here.
    if _ANSWER_SET.isdisjoint(obj):
        return False
    messages = obj.get("messages")
    if type(messages) is not list or not messages or not _PAIR_SET.isdisjoint(obj):
        return False
    last = messages[-1]
    if not isinstance(last, dict) or map_role(last.get("role"), mapping) not in ("user", "tool"):
        return False
    return _answer_key(obj) is not None


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    key = _answer_key(obj)
    assert key is not None  # is_messages_answer found it
    answer = obj[key]
    # an answer cut at the token limit (done_reason/finish_reason) is refused for every format, in convert
    reply = {"role": "assistant", "content": answer} if isinstance(answer, str) else answer
    # KEYS consumes the reasoning columns for every row; one that is no text is no trace, and stays a field
    kept = {k: obj[k] for k in REASONING_KEYS if k in obj and not isinstance(obj[k], str)}
    traces = [obj[k] for k in REASONING_KEYS if isinstance(obj.get(k), str) and obj[k].strip()]
    if traces and not any(k in reply for k in ("reasoning_content", "reasoning", "thinking")):
        reply = {**reply, "reasoning": "\n\n".join(traces)}
    [(own_id, body, extra)] = openai.convert({**obj, "messages": [*obj["messages"], reply]}, mapping)
    return [(own_id, body, {**(extra or {}), **kept, "answer_from": key})]
