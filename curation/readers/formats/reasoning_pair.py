"""Single exchanges from reasoning datasets, whose rows keep the model's trace and its answer in columns of their
own: ``{"question", "solution", "thinking_trajectories": [...], "attempt"}`` (simplescaling/s1K) and s1K-1.1's
``deepseek_thinking_trajectory``/``deepseek_attempt`` (also ``gemini_thinking_trajectory``/``gemini_attempt``),
OpenThoughts' ``metadata`` rows (``problem``, ``deepseek_reasoning``, ``deepseek_solution``), the Chinese
DeepSeek-R1 distillations' ``input``/``reasoning_content``/``content``, QwQ-LongCoT's whole generation under
``qwq`` (its ``<think>`` block, if any, lifted as every format's is), and OpenCodeReasoning's ``output`` that
opens with ``<think>`` beside the ``solution`` code extracted from it (OpenCodeReasoning-2: ``r1_generation``,
whose ``judgement`` 'wrong' from its QwQ critique makes the record undesirable).

The reply to train on is the model's answer (the attempt), with the trace as its ``reasoning``: read as a
question/answer pair, such a row trained on the reference ``solution`` and the trace was dropped unseen. The
reference solution stays in ``metadata.fields``, as do the columns of a trace the row holds but is not read
(s1K-1.1's Gemini trace beside its DeepSeek one). A row of these columns was read as the wrong pair, or not
at all (``unknown_format``: no known answer column, or two of them).
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats import pairs
from curation.readers.mapping import FieldMapping

NAME = "reasoning_pair"
PROMPT_KEYS = ("question", "problem", "input", "prompt")
# (reasoning column, answer column): when a row holds several, the first is read. No reasoning column: the
# answer holds the trace itself.
TRACES: tuple[tuple[str | None, str], ...] = (
    ("deepseek_thinking_trajectory", "deepseek_attempt"),  # s1K-1.1: the traces that release is about
    ("gemini_thinking_trajectory", "gemini_attempt"),  # s1K-1.1's Gemini traces (s1K's own, renamed)
    ("thinking_trajectories", "attempt"),  # s1K: a list of one trajectory
    ("deepseek_reasoning", "deepseek_solution"),  # OpenThoughts-114k's metadata config
    ("reasoning_content", "content"),  # Chinese-DeepSeek-R1-Distill: the API response's own fields
    (None, "qwq"),  # QwQ-LongCoT
    (None, "r1_generation"),  # OpenCodeReasoning-2: R1's generation; `solution` is the code cut from it
    (None, "output"),  # OpenCodeReasoning: only when it opens with <think> and a second answer is beside it
)
_TRACE_SET = frozenset(k for trace in TRACES for k in trace if k is not None)
KEYS = frozenset({*PROMPT_KEYS, *_TRACE_SET})


def _is_trace(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(t, str) for t in value))


def _reasoning_output(obj: dict[str, Any]) -> bool:
    """An ``output`` that opens with a closed ``<think>`` block beside another answer column (OpenCodeReasoning's
    ``solution``): pairs refuses such a row as two candidate answers, but only ``output`` is the model's
    generation. Without the second column the row is an ordinary pair, and stays one. (The test is spelled out:
    curation.reasoning imports this package, so its opens_reasoning cannot be imported here.)"""
    text = obj["output"]
    return text.lstrip().startswith("<think>") and "</think>" in text and any(
        isinstance(obj.get(k), str) for k in pairs.ANSWER_KEYS if k != "output")


def _trace(obj: dict[str, Any]) -> tuple[str | None, str] | None:
    """The (reasoning, answer) columns a row is read by: the answer a string, the trace text or a list of texts
    (an empty list is a row without a trace, still the model's answer); None when the row has none."""
    for reasoning_key, answer_key in TRACES:
        if not isinstance(obj.get(answer_key), str):
            continue
        if reasoning_key is None:
            if answer_key != "output" or _reasoning_output(obj):
                return reasoning_key, answer_key
        elif reasoning_key in obj and _is_trace(obj[reasoning_key]):
            return reasoning_key, answer_key
    return None


def _prompt_key(obj: dict[str, Any]) -> str | None:
    keys = [k for k in PROMPT_KEYS if isinstance(obj.get(k), str)]
    return keys[0] if len(keys) == 1 else None  # two candidate prompts are not guessed at


def is_reasoning_pair(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if _TRACE_SET.isdisjoint(obj):
        return False  # cheapest test first: every question/answer row passes through here
    return _trace(obj) is not None and _prompt_key(obj) is not None


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    trace, prompt_key = _trace(obj), _prompt_key(obj)
    assert trace is not None and prompt_key is not None  # is_reasoning_pair found them
    reasoning_key, answer_key = trace
    reasoning = obj[reasoning_key] if reasoning_key is not None else []
    # a <think> block in the answer is lifted after conversion, as for every format
    reply: dict[str, Any] = {"role": "assistant", "content": obj[answer_key]}
    texts = [reasoning] if isinstance(reasoning, str) else reasoning
    if texts and texts[0].strip():
        reply["reasoning"] = texts[0]
    # KEYS is every column this format can read; those this row does not (another model's trace, a second
    # trajectory) stay fields, as they would under any other format
    used = {prompt_key, answer_key} | ({reasoning_key} if reasoning_key is not None and len(texts) <= 1 else set())
    extra = {k: v for k, v in obj.items() if k in KEYS and k not in used}
    body = {"messages": [{"role": "user", "content": obj[prompt_key]}, reply]}
    return [(None, body, extra or None)]
