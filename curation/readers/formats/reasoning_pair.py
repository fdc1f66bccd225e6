"""Single exchanges from reasoning datasets, whose rows keep the model's trace and its answer in columns of their
own: ``{"question", "solution", "thinking_trajectories": [...], "attempt"}`` (simplescaling/s1K) and s1K-1.1's
``deepseek_thinking_trajectory``/``deepseek_attempt`` (also ``gemini_thinking_trajectory``/``gemini_attempt``).

The reply to train on is the model's answer (the attempt), with the trace as its ``reasoning``: read as a
question/answer pair, such a row trained on the reference ``solution`` and the trace was dropped unseen. The
reference solution stays in ``metadata.fields``, as do the columns of a trace the row holds but is not read
(s1K-1.1's Gemini trace beside its DeepSeek one).
"""

from __future__ import annotations

from typing import Any

from curation.readers.mapping import FieldMapping

NAME = "reasoning_pair"
PROMPT_KEYS = ("question", "problem", "input", "prompt")
# (reasoning column, answer column): when a row holds several, the first is read.
TRACES: tuple[tuple[str, str], ...] = (
    ("deepseek_thinking_trajectory", "deepseek_attempt"),  # s1K-1.1: the traces that release is about
    ("gemini_thinking_trajectory", "gemini_attempt"),  # s1K-1.1's Gemini traces (s1K's own, renamed)
    ("thinking_trajectories", "attempt"),  # s1K: a list of one trajectory
)
_REASONING_SET = frozenset(reasoning for reasoning, _ in TRACES)
KEYS = frozenset({*PROMPT_KEYS, *(k for trace in TRACES for k in trace)})


def _is_trace(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(t, str) for t in value))


def _trace(obj: dict[str, Any]) -> tuple[str, str] | None:
    """The (reasoning, answer) columns a row is read by: the answer a string, the trace text or a list of texts
    (an empty list is a row without a trace, still the model's answer); None when the row has none."""
    for reasoning_key, answer_key in TRACES:
        if isinstance(obj.get(answer_key), str) and reasoning_key in obj and _is_trace(obj[reasoning_key]):
            return reasoning_key, answer_key
    return None


def _prompt_key(obj: dict[str, Any]) -> str | None:
    keys = [k for k in PROMPT_KEYS if isinstance(obj.get(k), str)]
    return keys[0] if len(keys) == 1 else None  # two candidate prompts are not guessed at


def is_reasoning_pair(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if _REASONING_SET.isdisjoint(obj):
        return False  # cheapest test first: every question/answer row passes through here
    return _trace(obj) is not None and _prompt_key(obj) is not None


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    trace, prompt_key = _trace(obj), _prompt_key(obj)
    assert trace is not None and prompt_key is not None  # is_reasoning_pair found them
    reasoning_key, answer_key = trace
    reasoning = obj[reasoning_key]
    reply: dict[str, Any] = {"role": "assistant", "content": obj[answer_key]}
    texts = [reasoning] if isinstance(reasoning, str) else reasoning
    if texts and texts[0].strip():
        reply["reasoning"] = texts[0]
    # KEYS is every column this format can read; those this row does not (another model's trace, a second
    # trajectory) stay fields, as they would under any other format
    used = {prompt_key, answer_key} | ({reasoning_key} if len(texts) <= 1 else set())
    extra = {k: v for k, v in obj.items() if k in KEYS and k not in used}
    body = {"messages": [{"role": "user", "content": obj[prompt_key]}, reply]}
    return [(None, body, extra or None)]
