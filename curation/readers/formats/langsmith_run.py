"""LangSmith ``llm`` run exports: ``{"run_type": "llm", "inputs": {"messages": [[...]]}, "outputs":
{"generations": [[{"text", "generation_info": {"finish_reason"}, "message": {...}}]]}}``, one traced model call.

The prompt is the first batch of ``inputs.messages`` (LangChain dumps, or OpenAI-style messages) and the answer
the first generation of that batch. A generation that stopped for ``length`` or a content filter holds a cut-off
answer: refused as ``incomplete_answer``, as the API log readers refuse one; a run with no generation (it
errored) as ``empty_record``. The run's other keys (name, ids, times) stay in ``metadata.fields``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.containers import lc_type
from curation.readers.formats import langchain, openai
from curation.readers.formats._common import ConvertProblem
from curation.readers.formats.api_log import _CUT
from curation.readers.mapping import FieldMapping

NAME = "langsmith_run"
KEYS = frozenset({"inputs", "outputs"})


def _batches(obj: dict[str, Any]) -> list[Any] | None:
    inputs = obj.get("inputs")
    messages = inputs.get("messages") if isinstance(inputs, dict) else None
    if not isinstance(messages, list) or not messages:
        return None
    # one prompt is a list of messages; a batched call a list of such lists
    return messages if all(isinstance(m, list) for m in messages) else [messages]


def is_langsmith_run(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return obj.get("run_type") == "llm" and _batches(obj) is not None and (
        obj.get("outputs") is None or isinstance(obj["outputs"], dict))


def _turn(value: Any) -> Any:
    return langchain.message(value) if lc_type(value) is not None else value


def _finish_reason(generation: dict[str, Any], answer: Any) -> Any:
    info = generation.get("generation_info")
    if isinstance(info, dict) and info.get("finish_reason") is not None:
        return info["finish_reason"]
    fields = answer.get("kwargs", answer.get("data")) if isinstance(answer, dict) else None
    metadata = fields.get("response_metadata") if isinstance(fields, dict) else None
    return metadata.get("finish_reason", metadata.get("stop_reason")) if isinstance(metadata, dict) else None


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    prompts = _batches(obj) or []
    outputs = obj.get("outputs") if isinstance(obj.get("outputs"), dict) else {}
    generations = outputs.get("generations")
    batch = generations[0] if isinstance(generations, list) and generations else None
    first = batch[0] if isinstance(batch, list) and batch else None
    if not isinstance(first, dict):
        error = obj.get("error")
        why = f": the call failed: {str(error)[:200]}" if error else ""
        raise ConvertProblem("empty_record", f"the llm run has no generation{why}, so there is no answer to train on")
    answer = first.get("message")
    reason = _finish_reason(first, answer)
    if reason in _CUT:
        raise ConvertProblem("incomplete_answer", f"the run's answer stopped with finish_reason {reason!r}, so it is "
                             "cut off (raise max_tokens, or drop such runs)")
    reply = _turn(answer) if isinstance(answer, dict) else {"role": "assistant", "content": first.get("text")}
    messages = [_turn(m) for m in prompts[0]] + [reply]
    body: dict[str, Any] = {"messages": openai.fix_messages(messages, mapping)}
    fields: dict[str, Any] = {}
    llm_output = outputs.get("llm_output")
    if isinstance(llm_output, dict) and isinstance(llm_output.get("model_name"), str):
        fields["response_model"] = llm_output["model_name"]
    if len(prompts) > 1:
        fields["prompts_not_used"] = len(prompts) - 1
    return [(None, body, fields or None)]
