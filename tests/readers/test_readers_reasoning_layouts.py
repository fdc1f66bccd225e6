"""Reasoning datasets whose rows keep the model's trace in a column of its own (dolphin-r1, s1K, OpenThoughts,
QwQ-LongCoT, Chinese-DeepSeek-R1-Distill, OpenCodeReasoning): the trace is the assistant's reasoning and the
model's own answer the reply, as their published columns lay them out."""

from __future__ import annotations

from read_helpers import read, refused

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


def test_chinese_deepseek_r1_distill_reasoning_content_column() -> None:
    # Congliu/Chinese-DeepSeek-R1-Distill-data-110k
    record = read({"input": "2加2等于几？", "content": "等于4。", "reasoning_content": "二加二得四。",
                   "repo_name": "coig/neo", "prompt_tokens_len": 9, "reasoning_content_tokens_len": 6,
                   "content_tokens_len": 4, "score": 8})
    assert record["messages"] == [{"role": "user", "content": "2加2等于几？"},
                                  {"role": "assistant", "content": "等于4。", "reasoning": "二加二得四。"}]
    assert record["metadata"]["fields"] == {"repo_name": "coig/neo", "prompt_tokens_len": 9,
                                            "reasoning_content_tokens_len": 6, "content_tokens_len": 4, "score": 8}


def test_openthoughts_metadata_reads_deepseek_s_reasoning_and_solution() -> None:
    # open-thoughts/OpenThoughts-114k, its `metadata` config
    record = read({"problem": Q, "deepseek_reasoning": "Add them.", "deepseek_solution": "$\\boxed{4}$",
                   "ground_truth_solution": "4", "domain": "math", "source": "numina_math"})
    assert record["messages"][-1] == {"role": "assistant", "content": "$\\boxed{4}$", "reasoning": "Add them."}
    assert record["metadata"]["fields"] == {"ground_truth_solution": "4", "domain": "math", "source": "numina_math"}


def test_qwq_longcot_trace_without_think_tags_is_the_answer() -> None:
    # amphora/QwQ-LongCoT-130K: the whole generation under `qwq`
    record = read({"problem": Q, "qwq": "Let me see: two and two make four. So the answer is 4.", "source": "x"})
    assert record["messages"] == [{"role": "user", "content": Q}, {"role": "assistant", "content":
                                  "Let me see: two and two make four. So the answer is 4."}]
    assert record["metadata"]["fields"] == {"source": "x"}


def test_qwq_longcot_think_block_is_lifted() -> None:
    record = read({"problem": Q, "qwq": "<think>Two and two make four.</think>\n\nThe answer is 4."})
    assert record["messages"][-1] == {"role": "assistant", "content": "The answer is 4.",
                                      "reasoning": "Two and two make four."}


def test_opencodereasoning_output_with_think_is_the_reply_and_solution_a_field() -> None:
    # nvidia/OpenCodeReasoning: `output` is the R1 generation, `solution` the code extracted from it
    code = "```python\nprint(sum(map(int, input().split())))\n```"
    record = read({"id": "a1b2", "input": "Add two numbers.",
                   "output": f"<think>\nRead, add, print.\n</think>\n{code}", "source": "codeforces",
                   "license": "cc-by-4.0", "dataset": "code_contests", "split": "train",
                   "difficulty": "3", "solution": "print(sum(map(int, input().split())))"})
    assert record["id"] == "a1b2"
    assert record["messages"] == [{"role": "user", "content": "Add two numbers."},
                                  {"role": "assistant", "content": code, "reasoning": "Read, add, print."}]
    assert record["metadata"]["fields"]["solution"] == "print(sum(map(int, input().split())))"
    assert record["metadata"]["fields"]["dataset"] == "code_contests"


def test_ordinary_input_output_rows_are_read_as_before() -> None:
    # a <think> output with no second answer column was a pair, and stays one
    record = read({"input": Q, "output": "<think>Add.</think>4"})
    assert record["metadata"]["source"]["format"] == "pair"
    assert record["messages"][-1] == {"role": "assistant", "content": "4", "reasoning": "Add."}
    # two candidate answers and no trace to tell them apart: still not guessed at
    assert refused({"input": Q, "output": "4", "solution": "four"})[0] == "unknown_format"
    assert refused({"input": Q, "content": "4"})[0] == "unknown_format"
    assert read({"problem": Q, "solution": "4"})["metadata"]["source"]["format"] == "pair"


def test_opencodereasoning_2_r1_generation_is_the_reply_and_a_wrong_judgement_is_undesirable() -> None:
    # nvidia/OpenCodeReasoning-2 columns: question, r1_generation, qwq_critique, solution, judgement, pass_rate,
    # source, license, dataset, split, difficulty, index, id, question_id (dataset card, train config)
    code = "```python\nprint(sum(map(int, input().split())))\n```"
    row = {"question": "Add two numbers.", "r1_generation": f"<think>\nRead, add, print.\n</think>\n{code}",
           "qwq_critique": "The code reads both numbers and prints their sum. <judgement>right</judgement>",
           "solution": "print(sum(map(int, input().split())))", "judgement": "right", "pass_rate": "1/1",
           "source": "codeforces", "license": "cc-by-4.0", "dataset": "code_contests", "split": "train",
           "difficulty": "3", "index": "12", "id": "f00", "question_id": "q1"}
    record = read(row)
    assert record["messages"] == [{"role": "user", "content": "Add two numbers."},
                                  {"role": "assistant", "content": code, "reasoning": "Read, add, print."}]
    assert record["metadata"]["fields"]["solution"] == "print(sum(map(int, input().split())))"
    assert record["metadata"].get("label") is None
    # the critique judged R1's solution wrong: no answer to imitate (the label stage rejects it)
    wrong = read({**row, "judgement": "wrong", "qwq_critique": "It overflows. <judgement>wrong</judgement>"})
    assert wrong["metadata"]["label"] is False
    assert wrong["metadata"]["label_from"].startswith("judgement: wrong")
    # a `judgement` column of some other dataset (no critique beside it) is only a field
    other = read({"question": Q, "answer": "4", "judgement": "wrong"})
    assert other["metadata"].get("label") is None


def test_a_dash_for_a_question_is_refused_the_question_lives_in_another_dataset() -> None:
    # OpenCodeReasoning split_1 and OpenCodeReasoning-2 keep "-" as the question of TACO/APPS/CodeContests rows and
    # point to it by dataset/split/index: trained as it is, the model learns to answer "-" with a whole program
    code = "```python\nprint(1)\n```"
    code_row = {"id": "a1", "input": "-", "output": f"<think>\nPrint one.\n</think>\n{code}", "source": "taco",
                "license": "apache-2.0", "dataset": "taco", "split": "train", "difficulty": "EASY",
                "solution": "print(1)", "index": "17"}
    code, detail = refused(code_row)
    assert code == "placeholder_prompt"
    assert "taco" in detail and "17" in detail
    code, _ = refused({"question": "-", "r1_generation": "<think>x</think>\nprint(1)", "solution": "print(1)",
                       "qwq_critique": "ok <judgement>right</judgement>", "judgement": "right",
                       "dataset": "apps", "split": "test", "index": "3"})
    assert code == "placeholder_prompt"
    assert refused({"instruction": " - ", "output": "Paris."})[0] == "placeholder_prompt"
    assert refused({"question": "-", "answer": "4"})[0] == "placeholder_prompt"
    # a question that holds a dash among other text is a question
    assert read({"question": "- 4 + 6 = ?", "answer": "2"})["messages"][0]["content"] == "- 4 + 6 = ?"


def test_a_preference_pair_whose_prompt_is_a_dash_is_refused_too() -> None:
    code, _ = refused({"prompt": "-", "chosen": "print(1)", "rejected": "print(2)"})
    assert code == "placeholder_prompt"
