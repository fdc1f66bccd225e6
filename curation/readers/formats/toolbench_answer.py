"""ToolBench's answer files (``data/answer/G*_answer/*_DFS_woFilter_w2.json``, what its DFS search writes and
its ToolLLaMA preprocessing reads): one object per query, ``{"answer_generation": {"valid_data", "finish_type",
"function": [API schemas], "train_messages": [[OpenAI legacy messages], ...], "query", ...}, "tree", ...}``.

Each ``train_messages`` list is one step of the path the search kept, usually the one before it plus a call and
its result: each becomes a record, and the prefix dedup stage keeps the longest (the earlier steps are in it).
A step that ends in a thought alone, continued by the next step's call, is no record of its own.
Messages are OpenAI's legacy function calling (``function_call``, ``function`` turns with a ``name``), read as
``tool_calls`` and tool results; a thought (the content beside a call, or a turn of thought alone before the
next call) is the turn's reasoning. ``Finish`` is settled as in formats/react_calls.py: ``give_answer`` is the
reply, and a run that gave up (``finish_type: give_up``, or a ``give_up_and_restart``) is undesirable. A query
the search found no valid answer for (``valid_data: false``, no ``train_messages``) is refused. ``tree`` and
``compare_candidates`` (every branch the search tried, often hundreds of KB) are not carried into the record's
fields; the other keys are.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats import react_calls
from curation.readers.formats._common import ConvertProblem, normalize_tools
from curation.readers.mapping import FieldMapping

NAME = "toolbench_answer"
KEYS = frozenset({"answer_generation", "tree", "compare_candidates"})
_KEPT = ("query", "finish_type", "valid_data", "query_count", "total_tokens")


def is_toolbench_answer(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    answer = obj.get("answer_generation")
    return isinstance(answer, dict) and "valid_data" in answer and ("train_messages" in answer or "chain" in answer)


def _messages(turns: list[Any]) -> list[Any]:
    out: list[Any] = []
    pending_thought: str | None = None
    n = 0
    for turn in turns:
        if not isinstance(turn, dict):
            out.append(turn)  # for the checks to report
            continue
        message = {k: v for k, v in turn.items() if k not in ("function_call", "valid")}
        role, content, call = turn.get("role"), turn.get("content"), turn.get("function_call")
        if role == "assistant" and isinstance(call, dict):
            message.pop("content", None)
            thoughts = [t for t in (pending_thought, content) if isinstance(t, str) and t.strip()]
            if pending_thought is not None:
                out.pop()
                pending_thought = None
            arguments = call.get("arguments")
            message["tool_calls"] = [{"id": f"call_{n}", "type": "function", "function": {
                "name": call.get("name") or "", "arguments": arguments if isinstance(arguments, str) else "{}"}}]
            n += 1
            if thoughts:
                message["reasoning"] = "\n\n".join(t.strip() for t in thoughts)
        elif role == "assistant" and isinstance(content, str):
            pending_thought = content  # a thought alone: the next call's reasoning, if a call follows
            out.append(message)
            continue
        elif role == "function":
            message["role"] = "tool"
            message.pop("name", None)
            previous = out[-1] if out else None
            calls = previous.get("tool_calls") if isinstance(previous, dict) else None
            if calls:
                message["tool_call_id"] = calls[0]["id"]
        pending_thought = None
        out.append(message)
    return out


def _thought_before(turns: Any, following: Any) -> bool:
    """A step that ends in a thought alone, which the next step continues with its call: that thought is the
    call's reasoning there, and read as its own record it would be trained as a reply."""
    if not (isinstance(turns, list) and turns and isinstance(following, list) and len(following) > len(turns)):
        return False
    last = turns[-1]
    return (isinstance(last, dict) and last.get("role") == "assistant" and not last.get("function_call")
            and following[:len(turns)] == turns)


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    answer = obj["answer_generation"]
    steps = answer.get("train_messages") or []
    if not steps:
        valid = str(answer.get("valid_data")).lower()
        raise ConvertProblem("empty_record", f"ToolBench found no valid answer to this query (valid_data: {valid}) "
                                             "and wrote no train_messages: nothing to train on")
    functions = answer.get("function") if isinstance(answer.get("function"), list) else []
    fields = {k: answer[k] for k in _KEPT if k in answer}
    out = []
    for number, turns in enumerate(steps):
        if _thought_before(turns, steps[number + 1] if number + 1 < len(steps) else None):
            continue
        messages = _messages(turns) if isinstance(turns, list) else turns
        body: dict[str, Any] = {"messages": messages}
        failed = react_calls.settle_finish(messages) if isinstance(messages, list) else None
        if answer.get("finish_type") == "give_up":
            failed = failed or "finish_type: give_up (the search gave up on the query)"
        if functions and isinstance(messages, list):
            tools = normalize_tools(react_calls.without_unused_finish(functions, messages))
            if tools:
                body["tools"] = tools
        if failed is not None:
            body["metadata"] = {"label": False, "label_from": failed}
        out.append((None, body, dict(fields)))
    return out
