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


def _s1k(**columns: object) -> dict[str, object]:
    # simplescaling/s1K and s1K-1.1: the reference solution beside the model's trace and attempt
    return {"solution": "4", "question": Q, "cot_type": "math", "source_type": "qfq/openaimath/Algebra",
            "metadata": "{'level': 1}", **columns}


def test_s1k_attempt_is_the_answer_and_the_first_trajectory_its_reasoning() -> None:
    record = read(_s1k(cot=None, thinking_trajectories=["Add two and two."], attempt="The answer is $4$."))
    assert record["messages"] == [{"role": "user", "content": Q},
                                  {"role": "assistant", "content": "The answer is $4$.",
                                   "reasoning": "Add two and two."}]
    fields = record["metadata"]["fields"]
    assert fields["solution"] == "4" and fields["cot_type"] == "math"
    assert "thinking_trajectories" not in fields and "attempt" not in fields


def test_s1k_trajectory_as_text_is_read_too() -> None:
    record = read(_s1k(thinking_trajectories="Add two and two.", attempt="4"))
    assert record["messages"][-1]["reasoning"] == "Add two and two."


def test_s1k_1_1_reads_the_deepseek_trace_and_keeps_gemini_s_as_fields() -> None:
    record = read(_s1k(gemini_thinking_trajectory="Gemini adds.", gemini_attempt="Gemini: 4",
                       deepseek_thinking_trajectory="DeepSeek adds.", deepseek_attempt="DeepSeek: 4",
                       deepseek_grade="Yes"))
    assert record["messages"][-1] == {"role": "assistant", "content": "DeepSeek: 4", "reasoning": "DeepSeek adds."}
    fields = record["metadata"]["fields"]
    assert fields["gemini_thinking_trajectory"] == "Gemini adds." and fields["gemini_attempt"] == "Gemini: 4"
    assert fields["solution"] == "4" and fields["deepseek_grade"] == "Yes"
    assert "deepseek_attempt" not in fields


def test_s1k_1_1_gemini_only_trace() -> None:
    record = read(_s1k(gemini_thinking_trajectory="Gemini adds.", gemini_attempt="Gemini: 4"))
    assert record["messages"][-1] == {"role": "assistant", "content": "Gemini: 4", "reasoning": "Gemini adds."}


def test_s1k_with_an_empty_trajectory_list_is_still_its_attempt() -> None:
    record = read(_s1k(thinking_trajectories=[], attempt="4"))
    assert record["messages"][-1] == {"role": "assistant", "content": "4"}
    assert record["metadata"]["fields"]["solution"] == "4"


def test_plain_question_solution_rows_are_read_as_before() -> None:
    record = read({"question": Q, "solution": "4", "cot_type": "math"})
    assert record["metadata"]["source"]["format"] == "pair"
    assert record["messages"] == [{"role": "user", "content": Q}, {"role": "assistant", "content": "4"}]


def test_s1k_second_trajectory_is_not_dropped() -> None:
    record = read(_s1k(thinking_trajectories=["First.", "Second."], attempt="4"))
    assert record["messages"][-1]["reasoning"] == "First."
    assert record["metadata"]["fields"]["thinking_trajectories"] == ["First.", "Second."]
