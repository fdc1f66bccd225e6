"""Reasoning datasets whose rows keep the model's trace in a column of its own (dolphin-r1, s1K, OpenThoughts,
QwQ-LongCoT, Chinese-DeepSeek-R1-Distill, OpenCodeReasoning): the trace is the assistant's reasoning and the
model's own answer the reply, as their published columns lay them out."""

from __future__ import annotations

from read_helpers import read

Q = "What is 2+2?"


def test_dolphin_r1_reasoning_column_is_the_answers_reasoning() -> None:
    # cognitivecomputations/dolphin-r1 (reasoning-deepseek, reasoning-flash): messages, model, reasoning, answer
    record = read({"messages": [{"role": "user", "content": Q}], "model": "deepseek-r1",
                   "reasoning": "Two plus two is four.", "answer": "4"})
    assert record["messages"] == [{"role": "user", "content": Q},
                                  {"role": "assistant", "content": "4", "reasoning": "Two plus two is four."}]
    assert record["metadata"]["fields"] == {"model": "deepseek-r1", "answer_from": "answer"}


def test_dolphin_r1_reasoning_that_is_no_text_stays_a_field() -> None:
    record = read({"messages": [{"role": "user", "content": Q}], "reasoning": True, "answer": "4"})
    assert record["messages"][-1] == {"role": "assistant", "content": "4"}
    assert record["metadata"]["fields"]["reasoning"] is True
