"""Preference rows with several scored or ranked answers, and function-calling sets in their own layouts, each
written as the dataset card shows a row (PKU-SafeRLHF, SHP, Nectar, UltraFeedback, Chatbot Arena, Intel
orca_dpo_pairs, FLAN, Natural Instructions, Glaive function calling v2, Salesforce xLAM)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from read_helpers import read
from read_helpers import refused as _refused

from curation.checks import CODES, check_record, has_error
from curation.readers.convert import convert_payload

Q = "What is the capital of France?"
GOOD, BAD = "Paris is the capital of France.", "Lyon, I think."
PAIR = {"prompt": [{"role": "user", "content": Q}], "chosen": [{"role": "assistant", "content": GOOD}],
        "rejected": [{"role": "assistant", "content": BAD}]}


def refused(obj: dict[str, Any]) -> tuple[str, str]:
    return _refused(obj, line=7)


def pair_of(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in ("prompt", "chosen", "rejected")}


@pytest.mark.parametrize("obj", [
    {"prompt": Q, "response_0": BAD, "response_1": GOOD, "is_response_0_safe": True, "is_response_1_safe": True,
     "better_response_id": 1, "safer_response_id": 0},  # PKU-SafeRLHF
    {"post_id": "p1", "domain": "askhistorians", "history": Q, "human_ref_A": GOOD, "human_ref_B": BAD,
     "labels": 1, "score_A": 52, "score_B": 3},  # SHP
    {"post_id": "p1", "history": Q, "human_ref_A": BAD, "human_ref_B": GOOD, "labels": 0},
    {"prompt": f"\n\nHuman: {Q}\n\nAssistant:", "answers": [
        {"answer": "Marseille.", "model": "m1", "rank": 2.0}, {"answer": GOOD, "model": "gpt-4", "rank": 1.0},
        {"answer": BAD, "model": "m3", "rank": 3.0}], "turns": 1, "num_responses": 3},  # Nectar
    {"source": "evol_instruct", "instruction": Q, "models": ["a", "b", "c"], "completions": [
        {"model": "a", "response": "Marseille.", "overall_score": 6.5},
        {"model": "b", "response": BAD, "overall_score": 2.0},
        {"model": "c", "response": GOOD, "overall_score": 9.0}]},  # UltraFeedback (raw)
    {"qid": 12, "question": Q, "answers": [{"answer_id": 1, "pm_score": 3, "selected": False, "text": "Marseille."},
                                          {"answer_id": 2, "pm_score": 8, "selected": True, "text": GOOD},
                                          {"answer_id": 3, "pm_score": 0, "selected": False, "text": BAD}]},
    {"question_id": "q1", "model_a": "a", "model_b": "b", "winner": "model_b",
     "conversation_a": [{"role": "user", "content": Q}, {"role": "assistant", "content": BAD}],
     "conversation_b": [{"role": "user", "content": Q}, {"role": "assistant", "content": GOOD}],
     "turn": 1, "language": "English"},  # Chatbot Arena
    {"question": Q, "chosen": GOOD, "rejected": BAD},  # Intel/orca_dpo_pairs without a system prompt
    {"input": Q, "chosen": GOOD, "rejected": BAD, "rating": [9, 3]},  # argilla distilabel pairs
    {"qid": 7, "question": Q, "date": "2010/01/01", "metadata": ["https://stackoverflow.com/questions/7"],
     "response_j": GOOD, "response_k": BAD},  # lvwerra/stack-exchange-paired
], ids=["pku", "shp_a", "shp_b", "nectar", "ultrafeedback", "stack_exchange", "arena", "orca_dpo", "distilabel",
        "stack_exchange_paired"])
def test_preference_layouts_read_as_the_right_pair(obj: dict[str, Any]) -> None:
    assert pair_of(read(obj)) == PAIR


def _rated(response: str, ratings: list[str], overall: float, fine: float | None = None) -> dict[str, Any]:
    aspects = ("helpfulness", "honesty", "instruction_following", "truthfulness")
    completion = {"response": response, "overall_score": overall, "critique": "...",
                  "annotations": {a: {"Rating": r, "Rationale": "..."} for a, r in zip(aspects, ratings, strict=True)}}
    if fine is not None:
        completion["fine-grained_score"] = fine
    return completion


def test_ultrafeedback_ranks_by_the_aspect_ratings_not_the_buggy_overall_score() -> None:
    # OpenBMB/UltraFeedback issue 8: critique ratings of 1 became overall_score 10, so a wrong answer led
    completions = [_rated(BAD, ["1", "1", "1", "1"], 10.0, 1.0), _rated(GOOD, ["5", "5", "4", "5"], 8.0, 4.75)]
    assert pair_of(read({"instruction": Q, "completions": completions})) == PAIR
    # without fine-grained_score, the mean of the ratings ("N/A" left out); equal overall scores are no tie then
    completions = [_rated(BAD, ["2", "N/A", "2", "1"], 7.0), _rated(GOOD, ["5", "5", "N/A", "4"], 7.0)]
    assert pair_of(read({"instruction": Q, "completions": completions})) == PAIR


def test_orca_dpo_pairs_keep_question_and_system() -> None:
    record = read({"system": "You are an AI assistant.", "question": Q, "chosen": GOOD, "rejected": BAD})
    assert record["prompt"] == [{"role": "system", "content": "You are an AI assistant."},
                                {"role": "user", "content": Q}]


def test_pku_keeps_the_safety_labels_as_fields() -> None:
    record = read({"prompt": Q, "response_0": GOOD, "response_1": BAD, "better_response_id": 0,
                   "safer_response_id": 1, "is_response_0_safe": False})
    assert record["metadata"]["fields"] == {"safer_response_id": 1, "is_response_0_safe": False}


@pytest.mark.parametrize("obj", [
    {"question_id": "q", "winner": "tie", "conversation_a": [{"role": "user", "content": Q}],
     "conversation_b": [{"role": "user", "content": Q}]},
    {"question_id": "q", "winner": "tie (bothbad)", "conversation_a": [], "conversation_b": []},
    {"instruction": Q, "completions": [{"response": GOOD, "overall_score": 7}, {"response": BAD, "overall_score": 7}]},
    {"instruction": Q, "completions": [{"response": GOOD, "overall_score": 7}]},
    {"prompt": Q, "answers": [{"answer": GOOD, "rank": None}, {"answer": BAD, "rank": None}]},
    {"prompt": Q, "response_0": GOOD, "response_1": BAD, "better_response_id": -1},
], ids=["arena_tie", "arena_bothbad", "equal_scores", "one_answer", "no_ranks", "bad_id"])
def test_rows_without_a_preference_are_refused_with_a_reason(obj: dict[str, Any]) -> None:
    code, detail = refused(obj)
    assert code == "no_preference"
    assert detail.startswith("line 7") and code in CODES


@pytest.mark.parametrize(("obj", "messages"), [
    ({"inputs": "Translate to French: I like cats.", "targets": "J'aime les chats.", "task_source": "flan"},
     [{"role": "user", "content": "Translate to French: I like cats."},
      {"role": "assistant", "content": "J'aime les chats."}]),
    ({"id": "task1-1", "definition": "Answer the sum.", "inputs": "3 + 5 = ?", "targets": "8"},
     [{"role": "system", "content": "Answer the sum."}, {"role": "user", "content": "3 + 5 = ?"},
      {"role": "assistant", "content": "8"}]),
], ids=["flan", "natural_instructions"])
def test_inputs_targets_layouts(obj: dict[str, Any], messages: list[dict[str, Any]]) -> None:
    assert read(obj)["messages"] == messages


GLAIVE_SYSTEM = (
    "SYSTEM: You are a helpful assistant with access to the following functions. Use them if required -\n"
    '{\n    "name": "calculate_median",\n    "description": "Calculate the median of a list of numbers",\n'
    '    "parameters": {\n        "type": "object",\n        "properties": {\n            "numbers": {\n'
    '                "type": "array",\n                "items": {\n                    "type": "number"\n'
    '                },\n                "description": "The list of numbers"\n            }\n        },\n'
    '        "required": [\n            "numbers"\n        ]\n    }\n}\n\n'
    '{\n    "name": "get_time",\n    "description": "Current time",\n    "parameters": {}\n}\n')
GLAIVE_CHAT = (
    "USER: Hi, I need the median of 5, 2, 9.\n\n\n"
    "ASSISTANT: <functioncall> {\"name\": \"calculate_median\", \"arguments\": '{\"numbers\": [5, 2, 9]}'} "
    "<|endoftext|>\n\n\nFUNCTION RESPONSE: {\"median\": 5}\n\n\n"
    "ASSISTANT: The median of your numbers is 5. <|endoftext|>\n\n\nUSER: Thanks!\n\n\n"
    "ASSISTANT: You're welcome! <|endoftext|>\n")


def test_glaive_function_calling() -> None:
    record = read({"system": GLAIVE_SYSTEM, "chat": GLAIVE_CHAT})
    messages = record["messages"]
    assert messages[0]["role"] == "system" and messages[0]["content"].startswith("You are a helpful assistant")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "assistant", "user", "assistant"]
    call = messages[2]["tool_calls"][0]
    assert call["function"] == {"name": "calculate_median", "arguments": '{"numbers":[5,2,9]}'}
    assert messages[3] == {"role": "tool", "content": '{"median": 5}', "tool_call_id": call["id"]}
    assert messages[4]["content"] == "The median of your numbers is 5."
    assert [t["function"]["name"] for t in record["tools"]] == ["calculate_median", "get_time"]
    assert "fields" not in record["metadata"]


def test_glaive_without_functions() -> None:
    record = read({"system": "SYSTEM: You are a helpful assistant, with no access to external functions.",
                   "chat": "USER: Tell me a joke.\n\n\nASSISTANT: Why did the cat sit on the mat? <|endoftext|>\n"})
    assert "tools" not in record
    assert record["messages"][0]["content"] == "You are a helpful assistant, with no access to external functions."


def test_glaive_unreadable_call_is_kept_for_the_checks() -> None:
    items = convert_payload(orjson.dumps({"system": "SYSTEM: x", "chat": "USER: hi\n\n\nASSISTANT: <functioncall> "
                                          "{not json <|endoftext|>"}), None, None, "x.jsonl", 1, 0)
    call = items[0].record["messages"][2]["tool_calls"][0]
    assert call["function"]["name"] == "" and call["function"]["arguments"] == "{not json"
    assert has_error(check_record(items[0].record))


def test_xlam() -> None:
    tools = [{"name": "live_giveaways_by_type", "description": "Retrieve live giveaways.",
              "parameters": {"type": {"description": "The type of giveaways.", "type": "str", "default": "game"},
                             "limit": {"description": "How many.", "type": "int, optional"},
                             "platform": {"description": "Platform.", "type": "str"}}}]
    answers = [{"name": "live_giveaways_by_type", "arguments": {"type": "beta", "platform": "pc"}},
               {"name": "live_giveaways_by_type", "arguments": {"type": "game", "platform": "pc"}}]
    record = read({"id": 7, "query": "Where can I find live giveaways for beta access and games?",
                   "answers": orjson.dumps(answers).decode(), "tools": orjson.dumps(tools).decode()})
    assert record["id"] == "7"
    calls = record["messages"][1]["tool_calls"]
    assert [c["id"] for c in calls] == ["call_0", "call_1"]
    assert calls[0]["function"] == {"name": "live_giveaways_by_type", "arguments": '{"type":"beta","platform":"pc"}'}
    params = record["tools"][0]["function"]["parameters"]
    assert params == {"type": "object", "required": ["platform"], "properties": {
        "type": {"type": "string", "description": "The type of giveaways.", "default": "game"},
        "limit": {"type": "integer", "description": "How many."},
        "platform": {"type": "string", "description": "Platform."}}}


def test_xlam_parameter_types_become_json_schema_openai_takes() -> None:
    # "List[int]" was an array without items (OpenAI: "array schema missing items"), "Any", "Union[...]" and
    # "Tuple[...]" lost their type
    tools = [{"name": "f", "description": "F.", "parameters": {
        "ids": {"description": "Ids.", "type": "List[int]"},
        "pair": {"description": "A pair.", "type": "Tuple[float, float]"},
        "tags": {"description": "Tags.", "type": "List"},
        "value": {"description": "Anything.", "type": "Any"},
        "key": {"description": "A key.", "type": "Union[str, int]"},
        "limit": {"description": "How many.", "type": "Optional[int]"}}}]
    record = read({"query": "Look them up.", "tools": orjson.dumps(tools).decode(),
                   "answers": orjson.dumps([{"name": "f", "arguments": {"ids": [1], "pair": [1.0, 2.0], "tags": [],
                                                                        "value": 1, "key": "k"}}]).decode()})
    params = record["tools"][0]["function"]["parameters"]
    assert params["properties"] == {
        "ids": {"type": "array", "items": {"type": "integer"}, "description": "Ids."},
        "pair": {"type": "array", "items": {"type": "number"}, "description": "A pair."},
        "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags."},
        "value": {"type": "string", "description": "Anything."},
        "key": {"anyOf": [{"type": "string"}, {"type": "integer"}], "description": "A key."},
        "limit": {"type": "integer", "description": "How many."}}
    assert params["required"] == ["ids", "pair", "tags", "value", "key"]


def test_daily_dialog_string_turns() -> None:
    record = read({"dialog": ["Say, Jim, how about going for a few beers?", "You know that is tempting."],
                   "act": [3, 4], "emotion": [0, 0]})
    assert [m["role"] for m in record["messages"]] == ["user", "assistant"]
    assert record["metadata"]["fields"] == {"act": [3, 4], "emotion": [0, 0]}


def test_python_nan_and_infinity_read_as_null() -> None:
    line = (b'{"messages": [{"role": "user", "content": "Is NaN a number?"}, {"role": "assistant", "content": '
            b'"NaN means not a number."}], "score": NaN, "reward": -Infinity}')
    items = convert_payload(line, None, None, "x.jsonl", 1, 0)
    assert items[0].error is None
    assert items[0].record["metadata"]["fields"] == {"score": None, "reward": None}
    assert items[0].record["messages"][1]["content"] == "NaN means not a number."


def test_broken_json_that_mentions_nan_is_still_not_json() -> None:
    items = convert_payload(b'{"messages": [NaN', None, None, "x.jsonl", 1, 0)
    assert items[0].error[0] == "not_json"


@pytest.mark.parametrize("chat", [
    "USER: How do I write a Vicuna prompt?\n\n\nASSISTANT: Vicuna uses lines such as\nUSER: Hello\nASSISTANT: Hi "
    "there!\nEach turn starts with the speaker. <|endoftext|>\n\n\nUSER: Thanks\n\n\n"
    "ASSISTANT: Welcome! <|endoftext|>\n",
    "USER: How do I write a Vicuna prompt? ASSISTANT: Vicuna uses lines such as USER: Hello ASSISTANT: Hi there! "
    "Each turn starts with the speaker. <|endoftext|> USER: Thanks ASSISTANT: Welcome! <|endoftext|>",
], ids=["blank_lines", "one_line"])
def test_glaive_answer_quoting_speaker_lines_stays_one_answer(chat: str) -> None:
    # An answer runs to its <|endoftext|>, and where turns are parted by blank lines a speaker word after a
    # single newline is text: a quoted transcript must not become invented user turns.
    record = read({"system": "SYSTEM: You are a helpful assistant, with no access to external functions.",
                   "chat": chat})
    messages = record["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert "USER: Hello" in messages[2]["content"] and messages[2]["content"].endswith("starts with the speaker.")
    assert messages[3]["content"] == "Thanks"


def test_glaive_turns_on_one_line() -> None:
    record = read({"system": "SYSTEM: You can call get_time.",
                   "chat": 'USER: What time is it? ASSISTANT: <functioncall> {"name": "get_time"} <|endoftext|> '
                           'FUNCTION RESPONSE: {"time": "10:00"} ASSISTANT: It is 10:00. <|endoftext|>'})
    assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    assert record["messages"][2]["tool_calls"][0]["function"] == {"name": "get_time", "arguments": "{}"}


def test_a_jsonl_line_ending_in_a_comma_is_read() -> None:
    # array elements pasted into a .jsonl keep their separator: every line was a not_json reject ("Extra data")
    line = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]},\r\n'
    (item,) = convert_payload(line, None, None, "x.jsonl", 1, 0)
    assert item.error is None and item.record["messages"][1]["content"] == "yo"
    # anything else after the object is still refused
    (bad,) = convert_payload(line.replace(b"},", b"}, x"), None, None, "x.jsonl", 1, 0)
    assert bad.error[0] == "not_json"
    (two,) = convert_payload(line.replace(b"},", b"},,"), None, None, "x.jsonl", 1, 0)
    assert two.error[0] == "not_json"


def test_mt_bench_judgments_of_the_first_turn_compare_only_the_first_answers() -> None:
    # lmsys/mt_bench_human_judgments: every row holds both turns; `turn` says which answers were compared
    q1, q2 = {"role": "user", "content": "Compose a travel blog post about Hawaii."}, \
        {"role": "user", "content": "Rewrite it starting every sentence with A."}
    row = {"question_id": 81, "model_a": "alpaca-13b", "model_b": "gpt-3.5-turbo", "winner": "model_b",
           "judge": "author_2", "turn": 1,
           "conversation_a": [q1, {"role": "assistant", "content": "I went to Hawaii."}, q2,
                              {"role": "assistant", "content": "A trip to Hawaii."}],
           "conversation_b": [q1, {"role": "assistant", "content": "Aloha! Here is a blog post."}, q2,
                              {"role": "assistant", "content": "A warm aloha."}]}
    record = read(row)
    assert record["prompt"] == [q1]
    assert record["chosen"] == [{"role": "assistant", "content": "Aloha! Here is a blog post."}]
    assert record["rejected"] == [{"role": "assistant", "content": "I went to Hawaii."}]
    # a turn-2 verdict compares second answers given after different first ones: whole, for the checks to refuse
    items = convert_payload(orjson.dumps({**row, "turn": 2}), None, None, "x.jsonl", 1, 0)
    assert items[0].record["chosen"][-1] == {"role": "assistant", "content": "A warm aloha."}
