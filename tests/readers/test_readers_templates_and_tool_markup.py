"""Real layouts that used to be read wrongly without a word, or refused with a misleading reason: KTO labels
written as strings or 0/1, preference rows that prefer nothing, Hermes ``<tool_call>`` markup, Anthropic
``tool_use`` / ``tool_result`` blocks, Gemini tool declarations, chat templates rendered into one ``text``
(Gemma, Zephyr, Phi-3, Vicuna, Alpaca), JSON strings holding the turns, tool arguments as objects, pandas'
"nan" inputs, OpenThoughts' thought/solution markers and logged API request/response pairs."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from read_helpers import read, refused

from curation.checks import check_record
from curation.readers.convert import convert_payload

Q, A = "What is the capital of France?", "Paris is the capital of France."
QA = [{"role": "user", "content": Q}, {"role": "assistant", "content": A}]
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city.",
                                            "parameters": {"type": "object",
                                                           "properties": {"city": {"type": "string"}},
                                                           "required": ["city"]}}}


# --- KTO labels as real files write them -------------------------------------------------------------------

@pytest.mark.parametrize(("label", "desirable"), [
    ("false", False), ("False", False), ("true", True), ("TRUE", True), ("undesirable", False),
    ("desirable", True),
])
def test_kto_label_written_as_a_word_is_a_label(label: Any, desirable: bool) -> None:
    record = read({"prompt": Q, "completion": A, "label": label})
    assert record["metadata"]["source"]["format"] == "kto"
    assert record["metadata"]["label"] is desirable
    assert "fields" not in record["metadata"]


@pytest.mark.parametrize(("tag", "desirable"), [(0, False), (1, True), ("0", False), ("1", True), ("false", False)])
def test_kto_tag_as_a_number_or_word_is_a_label(tag: Any, desirable: bool) -> None:
    record = read({"messages": QA, "kto_tag": tag})
    assert record["metadata"]["label"] is desirable


@pytest.mark.parametrize("obj", [
    {"messages": [{"role": "user", "content": "Is the sky green? Answer true or false."},
                  {"role": "assistant", "content": "false"}], "label": "false"},  # BoolQ-style answer label
    {"prompt": "Review: terrible movie. Sentiment:", "completion": " negative", "label": 0},  # a class
    {"prompt": "Premise and hypothesis.", "completion": "entailment", "label": "1"},  # NLI
])
def test_labels_of_another_meaning_stay_fields(obj: dict[str, Any]) -> None:
    record = read(obj)
    assert "label" not in record["metadata"] and record["metadata"]["fields"]["label"] == obj["label"]


def test_a_class_label_on_prompt_completion_stays_a_field() -> None:
    record = read({"prompt": Q, "completion": A, "label": "positive"})
    assert record["metadata"]["source"]["format"] == "prompt_completion"
    assert record["metadata"]["fields"] == {"label": "positive"}


def test_an_undesirable_string_label_never_reaches_an_sft_split() -> None:
    from curation.pipeline.stages.labels import LabelStage  # the stage that keeps KTO 'false' out of SFT

    record = read({"prompt": Q, "completion": "Lyon.", "label": "false"})
    drop = LabelStage().process(record)
    assert drop is not None and drop.reason == "undesirable_label"


# --- preference rows that prefer nothing --------------------------------------------------------------------

def test_equal_scores_on_a_pair_are_no_preference() -> None:
    code, detail = refused({"prompt": Q, "chosen": A, "rejected": "Lyon.", "score_chosen": 5.0,
                            "score_rejected": 5.0})
    assert code == "no_preference" and "line 3" in detail and "5.0" in detail


@pytest.mark.parametrize(("good", "bad", "value"), [
    ("rating_chosen", "rating_rejected", 4), ("chosen-rating", "rejected-rating", 4.0),
    ("chosen_score", "rejected_score", 1), ("score_chosen", "score_rejected", "5.0"),  # a CSV cell is text
])
def test_tied_scores_under_every_column_name_are_no_preference(good: str, bad: str, value: Any) -> None:
    code, _ = refused({"prompt": Q, "chosen": A, "rejected": "Lyon.", good: value, bad: value})
    assert code == "no_preference"


def test_tied_rating_list_from_csv_is_no_preference() -> None:
    assert refused({"prompt": Q, "chosen": A, "rejected": "Lyon.", "rating": "[7.0, 7.0]"})[0] == "no_preference"


def test_ids_and_labels_from_csv_cells_pick_the_pair() -> None:
    pku = read({"prompt": Q, "response_0": "Lyon.", "response_1": A, "better_response_id": "1",
                "safer_response_id": "0"})
    assert pku["chosen"] == [{"role": "assistant", "content": A}]
    shp = read({"post_id": "p", "history": Q, "human_ref_A": A, "human_ref_B": "Lyon.", "labels": "1"})
    assert shp["chosen"] == [{"role": "assistant", "content": A}]


def _turn(role: str, text: str) -> dict[str, str]:
    return {"role": role, "content": text}


def test_capybara_dpo_history_joins_the_prompt() -> None:
    """argilla's distilabel-capybara-dpo: `prompt` is the first user turn, the sides are whole conversations."""
    head = [_turn("user", "Is the sky blue?"), _turn("assistant", "Yes."), _turn("user", "And why?")]
    record = read({"prompt": "Is the sky blue?", "chosen": [*head, _turn("assistant", "Rayleigh scattering.")],
                   "rejected": [*head, _turn("assistant", "Because.")], "rating_chosen": 5, "rating_rejected": 2})
    assert record["prompt"] == head
    assert record["chosen"] == [_turn("assistant", "Rayleigh scattering.")]
    assert record["rejected"] == [_turn("assistant", "Because.")]


@pytest.mark.parametrize("prompt", ["Q", "  Q\n"])
def test_a_system_turn_inside_the_sides_joins_the_prompt(prompt: str) -> None:
    head = [_turn("system", "S"), _turn("user", "Q")]
    record = read({"prompt": prompt, "chosen": [*head, _turn("assistant", "good")],
                   "rejected": [*head, _turn("assistant", "bad")]})
    assert (record["prompt"], record["chosen"], record["rejected"]) == (
        head, [_turn("assistant", "good")], [_turn("assistant", "bad")])


def test_an_explicit_history_is_kept_when_the_sides_repeat_its_last_turn() -> None:
    prompt = [_turn("system", "S"), _turn("user", "q1"), _turn("assistant", "a1"), _turn("user", "q2")]
    record = read({"prompt": prompt, "chosen": [_turn("user", "q2"), _turn("assistant", "good")],
                   "rejected": [_turn("user", "q2 "), _turn("assistant", "bad")]})
    assert (record["prompt"], record["chosen"], record["rejected"]) == (
        prompt, [_turn("assistant", "good")], [_turn("assistant", "bad")])


def test_sides_that_answer_another_prompt_are_refused() -> None:
    code, _ = refused({"prompt": "Q", "chosen": [_turn("user", "Other"), _turn("assistant", "good")],
                       "rejected": [_turn("user", "Other"), _turn("assistant", "bad")]})
    assert code == "prompt_mismatch"


def test_sides_that_diverge_before_the_last_user_turn_are_refused() -> None:
    code, _ = refused({"prompt": "Q", "chosen": [_turn("user", "Q"), _turn("assistant", "a"), _turn("user", "x"),
                                                 _turn("assistant", "good")],
                       "rejected": [_turn("user", "Q"), _turn("assistant", "b"), _turn("user", "y"),
                                    _turn("assistant", "bad")]})
    assert code == "prompt_mismatch"


def test_identical_chosen_and_rejected_are_left_to_the_check() -> None:
    items = convert_payload(orjson.dumps({"prompt": Q, "chosen": A, "rejected": A}), None, None, "x.jsonl", 1)
    assert "preference_identical" in {f.code for f in check_record(items[0].record)}


def test_different_scores_still_read_as_a_pair() -> None:
    record = read({"prompt": Q, "chosen": A, "rejected": "Lyon.", "score_chosen": 8, "score_rejected": 2})
    assert record["chosen"] == [{"role": "assistant", "content": A}]


def test_sides_answering_different_questions_are_refused() -> None:
    code, detail = refused({"chosen": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A"}],
                            "rejected": [{"role": "user", "content": "Q2"}, {"role": "assistant", "content": "B"}]})
    assert code == "prompt_mismatch" and "line 3" in detail


# --- Hermes function calling: <tools>, <tool_call>, <tool_response> -----------------------------------------

HERMES_SYSTEM = ("You are a function calling AI model. You are provided with function signatures within <tools> "
                 "</tools> XML tags. <tools> [{'type': 'function', 'function': {'name': 'get_weather', "
                 "'description': 'Weather of a city.', 'parameters': {'type': 'object', 'properties': "
                 "{'city': {'type': 'string'}}, 'required': ['city']}}}] </tools> For each function call return "
                 "a json object within <tool_call> </tool_call> tags.")


def test_hermes_tool_call_with_python_quoting_becomes_a_tool_call() -> None:
    record = read({"conversations": [
        {"from": "system", "value": HERMES_SYSTEM},
        {"from": "human", "value": "Weather in Paris?"},
        {"from": "gpt", "value": "<tool_call>\n{'arguments': {'city': 'Paris'}, 'name': 'get_weather'}\n</tool_call>"},
    ]})
    assert record["messages"][2] == {"role": "assistant", "tool_calls": [
        {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]}
    assert record["tools"] == [WEATHER]
    assert record["messages"][0]["content"] == HERMES_SYSTEM  # the prompt the data was made with stays


def test_hermes_tool_responses_answer_the_calls_in_order() -> None:
    record = read({"conversations": [
        {"from": "human", "value": "Weather in Paris and Rome?"},
        {"from": "gpt", "value": "Checking both.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                                 "{\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_weather\", "
                                 "\"arguments\": {\"city\": \"Rome\"}}\n</tool_call>"},
        {"from": "tool", "value": "<tool_response>\n{\"name\": \"get_weather\", \"content\": {\"temp\": 20}}\n"
                                  "</tool_response>\n<tool_response>\n{\"name\": \"get_weather\", \"content\": "
                                  "{\"temp\": 25}}\n</tool_response>"},
        {"from": "gpt", "value": "Paris 20, Rome 25."},
    ]})
    call, tool_a, tool_b = record["messages"][1:4]
    assert call["content"] == "Checking both."
    assert [c["function"]["arguments"] for c in call["tool_calls"]] == ['{"city":"Paris"}', '{"city":"Rome"}']
    assert tool_a == {"role": "tool", "content": '{"name": "get_weather", "content": {"temp": 20}}',
                      "tool_call_id": "call_0"}
    assert tool_b["tool_call_id"] == "call_1" and '"temp": 25' in tool_b["content"]


# --- Anthropic Messages content blocks ----------------------------------------------------------------------

def test_anthropic_tool_use_and_tool_result_blocks() -> None:
    record = read({
        "system": "Be brief.",
        "tools": [{"name": "get_weather", "description": "Weather of a city.",
                   "input_schema": WEATHER["function"]["parameters"]}],
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Need the tool.", "signature": "abc"},
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                          "content": [{"type": "text", "text": "20C"}]}]},
            {"role": "assistant", "content": "It is 20C."},
        ]})
    assert record["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": [{"type": "text", "text": "Let me check."}],
         "tool_calls": [{"id": "toolu_1", "type": "function",
                         "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}],
         "reasoning": "Need the tool."},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "20C"},
        {"role": "assistant", "content": "It is 20C."},
    ]
    assert record["tools"] == [WEATHER]


def test_anthropic_tool_result_beside_user_text_keeps_both() -> None:
    record = read({"messages": [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "20C"},
                                     {"type": "text", "text": "And tomorrow?"}]},
        {"role": "assistant", "content": "Also 20C."},
    ]})
    assert record["messages"][2:4] == [{"role": "tool", "tool_call_id": "t1", "content": "20C"},
                                       {"role": "user", "content": [{"type": "text", "text": "And tomorrow?"}]}]


# --- Gemini tool declarations -------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["functionDeclarations", "function_declarations"])
def test_gemini_function_declarations_become_tools(key: str) -> None:
    declaration = {"name": "get_weather", "description": "Weather of a city.",
                   "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}},
                                  "required": ["city"]}}
    record = read({"contents": [{"role": "user", "parts": [{"text": "Weather?"}]},
                                {"role": "model", "parts": [{"text": "Sunny."}]}],
                   "tools": [{key: [declaration]}]})
    assert record["tools"] == [WEATHER]
    assert "fields" not in record["metadata"]


# --- chat templates rendered into one text ------------------------------------------------------------------

@pytest.mark.parametrize(("text", "messages"), [
    (f"<bos><start_of_turn>user\n{Q}<end_of_turn>\n<start_of_turn>model\n{A}<end_of_turn>\n", QA),  # Gemma
    (f"<|system|>\nBe brief.</s>\n<|user|>\n{Q}</s>\n<|assistant|>\n{A}</s>",  # Zephyr
     [{"role": "system", "content": "Be brief."}, *QA]),
    (f"<|user|>\n{Q}<|end|>\n<|assistant|>\n{A}<|end|>\n<|endoftext|>", QA),  # Phi-3
    (f"A chat between a curious user and an artificial intelligence assistant. USER: {Q} ASSISTANT: {A}</s>"
     f"USER: Thanks! ASSISTANT: You are welcome.</s>",  # Vicuna v1.1
     [{"role": "system", "content": "A chat between a curious user and an artificial intelligence assistant."},
      *QA, {"role": "user", "content": "Thanks!"}, {"role": "assistant", "content": "You are welcome."}]),
    ("Below is an instruction that describes a task. Write a response that appropriately completes the request."
     f"\n\n### Instruction:\n{Q}\n\n### Response:\n{A}",  # Alpaca prompt template
     [{"role": "system", "content": "Below is an instruction that describes a task. Write a response that "
                                    "appropriately completes the request."}, *QA]),
    (f"### Instruction:\nAnswer the question.\n\n### Input:\n{Q}\n\n### Response:\n{A}",
     [{"role": "user", "content": f"Answer the question.\n\n{Q}"}, QA[1]]),
    (f"\n\nHuman: {Q}\n\nAssistant: {A}", QA),  # Anthropic HH transcript in one text column
    (f"User: {Q}\n\nAssistant: {A}<｜end▁of▁sentence｜>", QA),  # DeepSeek
    (f"Human: {Q}\nAssistant: {A}\nHuman: Thanks!\nAssistant: You are welcome.",
     [*QA, {"role": "user", "content": "Thanks!"}, {"role": "assistant", "content": "You are welcome."}]),
], ids=["gemma", "zephyr", "phi3", "vicuna", "alpaca", "alpaca_input", "hh", "deepseek", "speaker_lines"])
def test_chat_template_text_is_read_as_turns(text: str, messages: list[dict[str, Any]]) -> None:
    assert read({"text": text})["messages"] == messages


@pytest.mark.parametrize("text", [
    "The USER: field holds a name. Nothing else here.",
    "Notes\nUser: alice\nRole: admin\nAssistant: none assigned\nAssistant: bob",  # speakers do not alternate
    "A play.\nHuman: \nAssistant: I am here.",  # an empty turn
])
def test_prose_mentioning_speakers_is_still_pretraining_text(text: str) -> None:
    code, detail = refused({"text": text})
    assert code == "unknown_format" and "pretraining text" in detail


# --- values that went through pandas or a string column -----------------------------------------------------

def test_turns_stored_as_a_json_string_in_jsonl() -> None:
    turns = [{"from": "human", "value": Q}, {"from": "gpt", "value": A}]
    assert read({"conversations": orjson.dumps(turns).decode()})["messages"] == QA
    assert read({"messages": orjson.dumps(QA).decode()})["messages"] == QA
    assert read({"conversation_id": "c1", "conversation": orjson.dumps(QA).decode()})["messages"] == QA


def test_pair_and_kto_sides_stored_as_json_or_python_text() -> None:
    """pandas' to_csv writes list columns as Python's repr; a CSV of UltraFeedback or kto-mix holds those."""
    chosen, rejected = [QA[0], QA[1]], [QA[0], {"role": "assistant", "content": "Lyon."}]
    for dump in (lambda v: orjson.dumps(v).decode(), repr):
        pair = read({"prompt": Q, "chosen": dump(chosen), "rejected": dump(rejected)})
        assert (pair["prompt"], pair["chosen"], pair["rejected"]) == (
            [QA[0]], [QA[1]], [{"role": "assistant", "content": "Lyon."}])
        kto = read({"prompt": dump([QA[0]]), "completion": dump([QA[1]]), "label": True})
        assert kto["messages"] == QA
        assert read({"messages": dump(QA)})["messages"] == QA
    assert read({"instruction": Q, "input": "", "output": A, "history": repr([["Q1", "A1"]])})["messages"] == [
        {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}, *QA]


def test_a_prompt_that_merely_looks_like_a_list_stays_text() -> None:
    assert read({"prompt": "[1, 2, 3]", "completion": "6"})["messages"][0]["content"] == "[1, 2, 3]"


def test_messages_as_unreadable_text_says_so() -> None:
    items = convert_payload(orjson.dumps({"messages": "[{'role': 'user', 'content': 'Hi'"}), None, None, "x.jsonl", 1)
    found = [f for f in check_record(items[0].record) if f.code == "missing_messages_list"]
    assert found and "is a string" in found[0].message


def test_tool_call_arguments_as_an_object_become_a_json_string() -> None:
    record = read({"messages": [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                              "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "20C"},
        {"role": "assistant", "content": "20C."}]})
    assert record["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"city":"Paris"}'


def test_flat_tool_calls_and_object_tool_results_take_the_chat_shape() -> None:
    # a call written the Responses way ({"name", "arguments"} beside "type") was message_missing_key; a tool
    # result logged as an object was missing_content
    record = read({"messages": [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "name": "get_weather",
                                              "arguments": {"city": "Paris"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": {"temp_c": 20, "sky": "clear"}},
        {"role": "assistant", "content": "20C and clear."}]})
    assert record["messages"][1]["tool_calls"] == [
        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]
    assert record["messages"][2]["content"] == '{"temp_c":20,"sky":"clear"}'
    assert not [f for f in check_record(record) if f.severity == "error"]
    # text parts are their text (SWE-agent's results; an image part keeps them parts: test_readers_agent_trajectories)
    parts = [{"type": "text", "text": "20C"}]
    (item,) = convert_payload(orjson.dumps({"messages": [{"role": "user", "content": "Weather?"},
                                                         {"role": "tool", "content": parts}]}), None, None, "x", 1)
    assert item.record["messages"][1]["content"] == "20C"


def test_alpaca_input_nan_from_pandas_is_no_input() -> None:
    assert read({"instruction": Q, "input": "nan", "output": A})["messages"] == QA


@pytest.mark.parametrize(("input_", "output"), [("Nan", "Nain"), ("", "nan"), ("NaN", "NaN")])
def test_nan_as_a_word_or_an_answer_is_kept(input_: str, output: str) -> None:
    record = read({"instruction": "Translate", "input": input_, "output": output})
    assert record["messages"][-1]["content"] == output
    assert record["messages"][0]["content"] == ("Translate\n\n" + input_ if input_ else "Translate")


# --- reasoning markers ----------------------------------------------------------------------------------------

def test_open_thoughts_markers_split_reasoning_from_the_answer() -> None:
    record = read({"system": "Think first.", "conversations": [
        {"from": "user", "value": "2+2?"},
        {"from": "assistant", "value": "<|begin_of_thought|>\n\nAdd them.\n\n<|end_of_thought|>\n\n"
                                       "<|begin_of_solution|>\n\n4\n\n<|end_of_solution|>"}]})
    assert record["messages"][2] == {"role": "assistant", "content": "4", "reasoning": "Add them."}


# --- logged API calls -----------------------------------------------------------------------------------------

def test_logged_chat_completion_request_and_response() -> None:
    record = read({"request": {"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."},
                                                               {"role": "user", "content": Q}],
                               "tools": [WEATHER], "temperature": 0.2},
                   "response": {"id": "chatcmpl-1", "model": "gpt-4o-2024-08-06", "choices": [
                       {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": A,
                                                                         "refusal": None}}]}})
    assert record["messages"] == [{"role": "system", "content": "Be brief."}, *QA]
    assert record["tools"] == [WEATHER]
    assert record["metadata"]["source"]["format"] == "api_log"


def _gemini_line(finish: str = "STOP", status: str = "") -> dict[str, Any]:
    # a Vertex AI batch prediction output line (the Gemini API's generateContent request and response)
    return {"request": {"systemInstruction": {"parts": [{"text": "Be brief."}]},
                        "contents": [{"role": "user", "parts": [{"text": Q}]}],
                        "generationConfig": {"temperature": 0.2}},
            "response": {"candidates": [{"content": {"role": "model", "parts": [{"text": A}]},
                                         "finishReason": finish}], "modelVersion": "gemini-2.5-flash"},
            "status": status}


def test_logged_gemini_calls_and_vertex_batch_output() -> None:
    # each line was unknown_format
    record = read(_gemini_line())
    assert record["messages"] == [{"role": "system", "content": "Be brief."}, *QA]
    assert record["metadata"]["source"]["format"] == "api_log"
    assert record["metadata"]["fields"] == {"request": {"generationConfig": {"temperature": 0.2}},
                                            "response_model": "gemini-2.5-flash", "status": ""}
    code, detail = refused(_gemini_line("MAX_TOKENS"))
    assert code == "incomplete_answer" and "MAX_TOKENS" in detail
    assert refused(_gemini_line("SAFETY"))[0] == "incomplete_answer"
    failed = {**_gemini_line(), "response": None, "status": "Bad Request: invalid argument"}
    code, detail = refused(failed)
    assert code == "empty_record" and "invalid argument" in detail


def _bedrock_log(output: dict[str, Any], operation: str = "Converse") -> dict[str, Any]:
    # Amazon Bedrock's model invocation logging (CloudWatch or S3), one call per line
    return {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2026-01-01T00:00:00Z",
            "accountId": "123", "region": "us-east-1", "requestId": "r1", "operation": operation,
            "modelId": "anthropic.claude-3-5-sonnet",
            "input": {"inputContentType": "application/json", "inputTokenCount": 12,
                      "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": Q}]}],
                                        "system": [{"text": "Be brief."}],
                                        "inferenceConfig": {"maxTokens": 100}}},
            "output": {"outputContentType": "application/json", "outputTokenCount": 5, "outputBodyJson": output}}


def test_logged_bedrock_invocations() -> None:
    converse = {"output": {"message": {"role": "assistant", "content": [{"text": A}]}}, "stopReason": "end_turn",
                "usage": {"inputTokens": 12, "outputTokens": 5}}
    record = read(_bedrock_log(converse))
    assert [(m["role"], m["content"] if isinstance(m["content"], str) else m["content"][0]["text"])
            for m in record["messages"]] == [("system", "Be brief."), ("user", Q), ("assistant", A)]
    fields = record["metadata"]["fields"]
    assert fields["modelId"] == "anthropic.claude-3-5-sonnet" and fields["request"] == {
        "inferenceConfig": {"maxTokens": 100}}
    assert refused(_bedrock_log({**converse, "stopReason": "max_tokens"}))[0] == "incomplete_answer"
    # InvokeModel with an Anthropic body: the Messages API's own request and response
    invoke = _bedrock_log({"type": "message", "role": "assistant", "content": [{"type": "text", "text": A}],
                           "stop_reason": "end_turn"}, operation="InvokeModel")
    invoke["input"]["inputBodyJson"] = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100,
                                        "messages": [{"role": "user", "content": Q}]}
    assert read(invoke)["messages"][0] == QA[0]


def test_batch_results_without_their_requests_say_to_join_them() -> None:
    code, detail = refused({"custom_id": "a", "result": {"type": "succeeded", "message": {
        "role": "assistant", "content": [{"type": "text", "text": A}], "stop_reason": "end_turn"}}})
    assert code == "unknown_format" and "custom_id" in detail and "join" in detail


def test_logged_call_without_an_answer_is_refused_with_the_reason() -> None:
    code, detail = refused({"request": {"messages": [{"role": "user", "content": Q}]},
                            "response": {"error": {"message": "rate limited"}}})
    assert code == "empty_record" and "choices" in detail


def test_logged_call_with_the_request_at_the_top_level() -> None:
    record = read({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": Q}],
                   "response": {"choices": [{"finish_reason": "stop",
                                             "message": {"role": "assistant", "content": A}}]}})
    assert record["messages"] == QA and record["metadata"]["fields"] == {"model": "gpt-4o-mini"}


def test_a_cut_off_logged_answer_is_refused() -> None:
    code, detail = refused({"request": {"messages": [{"role": "user", "content": Q}]},
                            "response": {"choices": [{"finish_reason": "length",
                                                      "message": {"role": "assistant", "content": "Paris is"}}]}})
    assert code == "incomplete_answer" and "'length'" in detail and "line 3" in detail


@pytest.mark.parametrize("obj", [
    {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": Q}]}},
    {"id": "batch_req_1", "custom_id": "r1", "response": {"status_code": 200, "body": {"choices": [
        {"message": {"role": "assistant", "content": A}, "finish_reason": "stop"}]}}, "error": None},
], ids=["batch_input", "batch_output"])
def test_a_batch_api_line_says_how_to_join_it(obj: dict[str, Any]) -> None:
    code, detail = refused(obj)
    assert code == "unknown_format" and "join them by custom_id" in detail


def test_an_hh_side_that_ends_on_a_human_turn_is_an_error() -> None:
    items = convert_payload(orjson.dumps({"chosen": "\n\nHuman: Q\n\nAssistant: A good\n\nHuman: more please",
                                          "rejected": "\n\nHuman: Q\n\nAssistant: B bad"}), None, None, "x.jsonl", 1)
    found = {f.code: f for f in check_record(items[0].record)}
    assert found["preference_side_not_answer"].severity == "error"


def test_gemini_thought_parts_are_reasoning_not_the_answer() -> None:
    record = read({"contents": [{"role": "user", "parts": [{"text": "2+2?"}]},
                                {"role": "model", "parts": [{"text": "I need to add 2 and 2.", "thought": True},
                                                            {"text": "4"}]}]})
    assert record["messages"][1] == {"role": "assistant", "content": "4", "reasoning": "I need to add 2 and 2."}


@pytest.mark.parametrize("image", ["coco/train2017/000000033471.jpg", ["coco/train2017/000000033471.jpg"],
                                   {"path": "coco/train2017/000000033471.jpg"}])
def test_llava_image_field_is_the_image_of_the_turn(image: Any) -> None:
    record = read({"id": "000000033471", "image": image, "conversations": [
        {"from": "human", "value": "<image>\nWhat are the colors of the bus?"}, {"from": "gpt", "value": "White."}]})
    assert record["messages"][0]["content"] == [
        {"type": "image_url", "image_url": {"url": "coco/train2017/000000033471.jpg"}},
        {"type": "text", "text": "What are the colors of the bus?"}]
    assert "fields" not in record["metadata"]


def test_sharegpt_and_firefly_turns_under_messages() -> None:
    assert read({"messages": [{"from": "human", "value": Q}, {"from": "gpt", "value": A}]})["messages"] == QA
    assert read({"conversation": [{"human": Q, "assistant": A}]})["messages"] == QA  # YeungNLP/firefly


def test_a_system_prompt_column_beside_the_turns() -> None:
    record = read({"system_prompt": "You are a pirate.", "conversations": [{"from": "human", "value": Q},
                                                                           {"from": "gpt", "value": A}]})
    assert record["messages"] == [{"role": "system", "content": "You are a pirate."}, *QA]
    assert "fields" not in record["metadata"]


def test_belle_multiturn_instruction_is_split_into_turns() -> None:
    record = read({"instruction": "Human:写一首诗\nAssistant:好的，这是一首诗。\nHuman:再写一首\nAssistant:",
                   "input": "", "output": "当然，这是另一首。"})
    assert record["messages"] == [{"role": "user", "content": "写一首诗"},
                                  {"role": "assistant", "content": "好的，这是一首诗。"},
                                  {"role": "user", "content": "再写一首"},
                                  {"role": "assistant", "content": "当然，这是另一首。"}]


def test_helpsteer2_multiturn_prompt_is_split_into_turns() -> None:
    record = read({"prompt": f"{Q}\n<extra_id_1>Assistant\nParis.\n<extra_id_1>User\nAnd of Germany?",
                   "response": "Berlin.", "helpfulness": 3})
    assert record["messages"] == [QA[0], {"role": "assistant", "content": "Paris."},
                                  {"role": "user", "content": "And of Germany?"},
                                  {"role": "assistant", "content": "Berlin."}]


def test_bedrock_converse_tool_use_results_reasoning_and_tool_config() -> None:
    spec = {"name": "get_weather", "description": "Weather of a city.",
            "inputSchema": {"json": WEATHER["function"]["parameters"]}}
    record = read({"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "S"}],
                   "toolConfig": {"tools": [{"toolSpec": spec}]},
                   "messages": [
                       {"role": "user", "content": [{"text": "Weather in Paris?"}]},
                       {"role": "assistant", "content": [{"reasoningContent": {"reasoningText": {"text": "Use it."}}},
                                                         {"toolUse": {"toolUseId": "t1", "name": "get_weather",
                                                                      "input": {"city": "Paris"}}}]},
                       {"role": "user", "content": [{"toolResult": {"toolUseId": "t1",
                                                                    "content": [{"json": {"temp": 20}}]}}]},
                       {"role": "assistant", "content": [{"text": "20C"}]}]})
    assert record["tools"] == [WEATHER]
    assert record["messages"][2] == {"role": "assistant", "reasoning": "Use it.", "tool_calls": [
        {"id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]}
    assert record["messages"][3] == {"role": "tool", "tool_call_id": "t1", "content": '{"temp":20}'}


def test_our_bedrock_nova_export_reads_back() -> None:
    """What `curate export --to bedrock-nova` writes (reasoning blocks included) is input the readers take."""
    line = {"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "S"}], "messages": [
        {"role": "user", "content": [{"text": "2+2?"}]},
        {"role": "assistant", "content": [{"reasoningContent": {"reasoningText": {"text": "2 plus 2"}}},
                                          {"text": "4"}]}]}
    record = read(line)
    assert record["messages"][2] == {"role": "assistant", "content": [{"type": "text", "text": "4"}],
                                     "reasoning": "2 plus 2"}


def test_logged_anthropic_messages_call() -> None:
    record = read({"request": {"model": "claude-sonnet-4", "max_tokens": 1024, "system": "You are terse.",
                               "messages": [{"role": "user", "content": Q}]},
                   "response": {"type": "message", "role": "assistant", "model": "claude-sonnet-4",
                                "content": [{"type": "text", "text": A}], "stop_reason": "end_turn"}})
    assert record["messages"] == [{"role": "system", "content": "You are terse."}, QA[0],
                                  {"role": "assistant", "content": [{"type": "text", "text": A}]}]
    code, _ = refused({"request": {"messages": [{"role": "user", "content": Q}]},
                       "response": {"type": "message", "content": [{"type": "text", "text": "Paris"}],
                                    "stop_reason": "max_tokens"}})
    assert code == "incomplete_answer"


def test_a_response_of_another_api_is_not_called_a_failed_call() -> None:
    code, detail = refused({"request": {"messages": [{"role": "user", "content": Q}]},
                            "response": {"output": [{"type": "message"}]}})
    assert code == "empty_record" and "neither choices" in detail and "failed" not in detail


def _node(mid: str, role: str, text: str, *replies: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"message_id": mid, "role": role, "text": text, "lang": "en", "replies": list(replies), **extra}


def test_oasst_deleted_and_rejected_replies_are_pruned() -> None:
    tree = {"message_tree_id": "t1", "tree_state": "ready_for_export", "prompt": _node(
        "m1", "prompter", Q, _node("m2", "assistant", A, review_result=True),
        _node("m3", "assistant", "SPAM", _node("m4", "prompter", "more spam"), deleted=True),
        _node("m5", "assistant", "Bad.", review_result=False))}
    items = convert_payload(orjson.dumps(tree), None, None, "x.jsonl", 1)
    assert [i.record["messages"] for i in items] == [QA]
    assert items[0].record["metadata"]["fields"]["pruned_messages"] == 3


@pytest.mark.parametrize("state", ["aborted_low_grade", "halted_by_moderator", "growing"])
def test_oasst_trees_that_did_not_pass_review_are_refused(state: str) -> None:
    tree = {"message_tree_id": "t1", "tree_state": state, "prompt": _node("m1", "prompter", Q,
                                                                         _node("m2", "assistant", A))}
    code, detail = refused(tree)
    assert code == "unreviewed_tree" and state in detail


def test_pku_pair_whose_better_answer_is_the_less_safe_one_is_flagged() -> None:
    record = read({"prompt": Q, "response_0": A, "response_1": "Lyon.", "better_response_id": 0,
                   "safer_response_id": 1, "is_response_0_safe": False, "is_response_1_safe": True})
    assert record["metadata"]["flags"] == ["chosen_less_safe"]
    same = read({"prompt": Q, "response_0": A, "response_1": "Lyon.", "better_response_id": 0, "safer_response_id": 0})
    assert "flags" not in same["metadata"]


def test_pandas_column_oriented_json_is_read_row_by_row(tmp_path) -> None:
    # pandas' df.to_json(path) default (orient='columns'): each column maps row labels to values
    from curation.readers import read_path

    path = tmp_path / "df.json"
    path.write_text('{"instruction": {"1": "Say bye", "0": "Say hi"}, "output": {"0": "Hi", "1": "Bye"}}')
    items = list(read_path(path))
    assert [i.error for i in items] == [None, None]
    assert [i.index for i in items] == [0, 1]
    assert [[m["content"] for m in i.record["messages"]] for i in items] == [["Say hi", "Hi"], ["Say bye", "Bye"]]


def test_pandas_split_json_is_read_row_by_row(tmp_path) -> None:
    # df.to_json(path, orient='split'): column names once, rows as arrays; a row no format knows is its own reject
    from curation.readers import read_path

    path = tmp_path / "df.json"
    path.write_text('{"columns": ["instruction", "input", "output"], "index": [0, 1, 2], "data": ['
                    '["Say hi", "", "Hi"], ["Translate", "chat", "le chat"], [null, null, null]]}')
    items = list(read_path(path))
    assert [i.index for i in items] == [0, 1, 2]
    assert [m["content"] for m in items[1].record["messages"]] == ["Translate\n\nchat", "le chat"]
    assert items[0].error is None and items[2].record is None and items[2].error is not None


def test_embedded_image_bytes_name_the_column() -> None:
    row = {"messages": [{"role": "user", "content": Q}, {"role": "assistant", "content": A}],
           "images": [{"bytes": b"\x89PNG\r\n", "path": None}]}
    items = convert_payload(row, None, None, "x.parquet", None, 4)
    code, detail = items[0].error
    assert code == "embedded_media" and "images[0].bytes holds binary data" in detail and "element 4" in detail


@pytest.mark.parametrize(("obj", "messages"), [
    ({"problem": Q, "solution": f"The capital is Paris. {A}", "answer": A},  # NuminaMath-1.5 / LIMO
     [QA[0], {"role": "assistant", "content": f"The capital is Paris. {A}"}]),
    ({"problem": Q, "generated_solution": A, "expected_answer": "Paris", "problem_source": "x"}, QA),  # OpenMath
    ({"input_text": Q, "output_text": A}, QA),  # Vertex PaLM tuning
    ({"input": [{"role": "user", "content": Q}], "output": f"<think>Recall it.</think>{A}",
      "system_prompt": "detailed thinking on", "reasoning": "on", "category": "chat"},  # Nemotron post-training
     [{"role": "system", "content": "detailed thinking on"}, QA[0],
      {"role": "assistant", "content": A, "reasoning": "Recall it."}]),
], ids=["numina", "openmath", "palm", "nemotron"])
def test_math_and_post_training_layouts(obj: dict[str, Any], messages: list[dict[str, Any]]) -> None:
    assert read(obj)["messages"] == messages


def test_a_solution_and_an_unrelated_answer_are_still_not_guessed() -> None:
    code, _ = refused({"problem": Q, "solution": A, "answer": "Lyon"})
    assert code == "unknown_format"


@pytest.mark.parametrize(("strength", "chosen"), [(-2, A), (3, "Lyon.")])
def test_helpsteer_preference_strength_picks_the_side(strength: int, chosen: str) -> None:
    other = "Lyon." if chosen == A else A
    record = read({"prompt": Q, "response_1": A, "response_2": "Lyon.", "preference_strength": strength})
    assert (record["chosen"], record["rejected"]) == ([{"role": "assistant", "content": chosen}],
                                                      [{"role": "assistant", "content": other}])
    assert refused({"prompt": Q, "response_1": A, "response_2": "B", "preference_strength": 0})[0] == "no_preference"


@pytest.mark.parametrize(("strength", "chosen"), [(-1, A), (2, "Lyon.")])
def test_helpsteer3_context_turns_and_overall_preference(strength: int, chosen: str) -> None:
    # nvidia/HelpSteer3's preference rows: the chat so far under `context`; unknown_format before
    other = "Lyon." if chosen == A else A
    context = [{"role": "user", "content": "Hi."}, {"role": "assistant", "content": "Hello!"},
               {"role": "user", "content": Q}]
    row = {"domain": "general", "language": "english", "context": context, "response1": A, "response2": "Lyon.",
           "overall_preference": strength, "individual_preference": [{"score": strength, "reasoning": "r"}]}
    record = read(row)
    assert record["prompt"] == context
    assert (record["chosen"], record["rejected"]) == ([{"role": "assistant", "content": chosen}],
                                                      [{"role": "assistant", "content": other}])
    assert set(record["metadata"]["fields"]) == {"domain", "language", "individual_preference"}
    assert refused({**row, "overall_preference": 0})[0] == "no_preference"


def test_helpsteer3_edit_quality_and_edit_configs_are_pairs_and_feedback_is_no_preference() -> None:
    # nvidia/HelpSteer3's other configs (dataset card): each was unknown_format
    context = [{"role": "user", "content": "Write a tagline for a bakery."}]
    feedback = ["Too short.", "Says nothing about the bakery."]
    record = read({"domain": "general", "language": "english", "context": context, "original_response": "Bread.",
                   "good_edited_response": "Freshly baked, lovingly made.", "bad_edited_response": "Bread!!!",
                   "feedback": feedback})
    assert record["prompt"] == context
    assert (record["chosen"], record["rejected"]) == (
        [{"role": "assistant", "content": "Freshly baked, lovingly made."}],
        [{"role": "assistant", "content": "Bread!!!"}])
    assert record["metadata"]["fields"]["original_response"] == "Bread."
    record = read({"domain": "general", "language": "english", "context": context, "original_response": "Bread.",
                   "edited_response": "Freshly baked, lovingly made.", "feedback": feedback,
                   "change_summary": "Rewritten to name the bakery's promise."})
    assert (record["chosen"], record["rejected"]) == (
        [{"role": "assistant", "content": "Freshly baked, lovingly made."}],
        [{"role": "assistant", "content": "Bread."}])
    assert record["metadata"]["fields"]["change_summary"] == "Rewritten to name the bakery's promise."
    code, detail = refused({"domain": "general", "language": "english", "context": context, "response1": "Bread.",
                            "response2": "Cake.", "feedback1": feedback, "feedback2": ["Fine."]})
    assert code == "no_preference" and "feedback" in detail


def test_ultrainteract_pair_trajectory_is_the_prompt() -> None:
    # openbmb/UltraInteract_pair: the prompt (with earlier attempts and their feedback) under `trajectory`; the
    # pair had no prompt and every row was refused
    row = {"task": "Math_CoT", "dataset": "gsm8k", "id": "gsm8k_1", "parent_id": "p1",
           "trajectory": [{"from": "user", "value": "Solve 2+2."}, {"from": "assistant", "value": "Step 1: 5"},
                          {"from": "user", "value": "Your answer is wrong. Try again."}],
           "chosen": "Step 1: 2+2=4\nAnswer:\n\\boxed{4}", "rejected": "Step 1: 2+2=5\nAnswer:\n\\boxed{5}"}
    record = read(row)
    assert [m["role"] for m in record["prompt"]] == ["user", "assistant", "user"]
    assert record["prompt"][0]["content"] == "Solve 2+2."
    assert record["chosen"] == [{"role": "assistant", "content": row["chosen"]}]
    assert "trajectory" not in record["metadata"]["fields"]
    assert check_record(record) == [] or all(f.severity != "error" for f in check_record(record))


def test_a_pair_whose_prompt_is_context_turns_keeps_them() -> None:
    # the prompt turns under `context` were left in fields and the pair refused for having no prompt
    record = read({"context": [{"role": "user", "content": Q}], "chosen": A, "rejected": "Lyon."})
    assert record["prompt"] == [{"role": "user", "content": Q}] and "fields" not in record["metadata"]
    # a context that is a passage stays a field, beside a pair or a ranked row
    record = read({"prompt": Q, "context": "France's capital.", "chosen": A, "rejected": "Lyon."})
    assert record["metadata"]["fields"] == {"context": "France's capital."}
    record = read({"prompt": Q, "context": "Geography.", "response_1": A, "response_2": "Lyon.",
                   "preference_strength": -1})
    assert record["metadata"]["fields"] == {"context": "Geography."}


def test_arena_55k_rows() -> None:
    row = {"id": 1, "model_a": "a", "model_b": "b", "prompt": orjson.dumps([Q, "Thanks"]).decode(),
           "response_a": orjson.dumps(["Lyon.", "ok"]).decode(),
           "response_b": orjson.dumps([A, "You are welcome."]).decode(),
           "winner_model_a": 0, "winner_model_b": 1, "winner_tie": 0}
    one_turn = {**row, "prompt": orjson.dumps([Q]).decode(), "response_a": orjson.dumps(["Lyon."]).decode(),
                "response_b": orjson.dumps([A]).decode()}
    record = read(one_turn)
    assert record["prompt"] == [QA[0]]
    assert record["chosen"] == [QA[1]] and record["rejected"] == [{"role": "assistant", "content": "Lyon."}]
    # two turns: the sides part at the first answer and hold the user's second turn, which DPO would train on
    items = convert_payload(orjson.dumps(row), None, None, "x.jsonl", 1, 0)
    found = {f.code: f for f in check_record(items[0].record)}
    assert found["preference_side_not_answer"].severity == "error" and "'user' turn" in found[
        "preference_side_not_answer"].message
    assert refused({**row, "winner_model_b": 0, "winner_tie": 1})[0] == "no_preference"
    assert refused({**row, "winner_model_a": 2, "winner_model_b": 0})[0] == "no_preference"


# --- false positives and crashes the new readers must not cause (probe of this stop's changes) -------------

def _one(obj: dict[str, Any]) -> Any:
    items = convert_payload(orjson.dumps(obj), None, None, "x.jsonl", 1, 0)
    assert len(items) >= 1
    return items[0]


@pytest.mark.parametrize("content", [
    "<tool_call>{'name': 'f', 'arguments': {'ids': {1, 2}}}</tool_call>",  # a set: not JSON
    "<tool_call>{'name': 'f', 'arguments': {'z': 999999999999999999999999999999}}</tool_call>",  # 100 bits
    "<tool_call>{'name': 'f', 'arguments': {1: 2}}</tool_call>",
])
def test_python_literals_json_cannot_carry_leave_the_text(content: str) -> None:
    item = _one({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": content}]})
    assert item.error is None and item.record["messages"][1]["content"] == content
    orjson.dumps(item.record)  # the runner writes every record


@pytest.mark.parametrize("system", ["<tools>[{'name': 'f', 'parameters': {1, 2}}]</tools>",
                                    '<tools>[{"function": "f", "name": "x"}]</tools>'])
def test_unreadable_tool_lists_in_a_system_prompt_are_left_alone(system: str) -> None:
    item = _one({"messages": [{"role": "system", "content": system}, *QA]})
    assert item.error is None and "tools" not in item.record
    item = _one({"prompt": "[{'role': 'user', 'content': b'hi'}]", "completion": "a"})
    assert item.error is None and isinstance(item.record["messages"][0]["content"], str)


CALL = {"role": "assistant", "content": '<tool_call>{"name": "f", "arguments": {}}</tool_call>'}


@pytest.mark.parametrize("messages", [
    [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<tool_call>x" * 3000}],
    [{"role": "user", "content": "q"}, CALL, {"role": "tool", "content": "<tool_response>x" * 3000}],
    [{"role": "system", "content": "<tools>x" * 3000}, {"role": "user", "content": "q"}],
], ids=["tool_call", "tool_response", "tools"])
def test_unclosed_tags_are_text(messages: list[dict[str, Any]]) -> None:
    """Thousands of openers without a closer: read in one pass (a lazy regex took minutes), left as text."""
    unclosed = next(m["content"] for m in messages if m["content"].endswith("x"))
    item = _one({"messages": messages})
    assert item.error is None
    assert unclosed in [m.get("content") for m in item.record["messages"]]
    assert "tools" not in item.record


@pytest.mark.parametrize("text", [
    "User: hi" + " " * 20000 + "x\nAssistant: yo",
    "### Instruction:\nq" + "\n" * 20000 + "x\n### Response:\na",
])
def test_long_whitespace_runs_in_templates_are_read(text: str) -> None:
    item = _one({"text": text})
    assert item.error is None and item.record["messages"][-1]["content"] in ("yo", "a")


@pytest.mark.parametrize("text", [
    "The chatbot log was printed on the wall.\nUser: Where is the key?\nAssistant: Under the mat.\nShe laughed.",
    "From: support\nUser: john@example.com\nAssistant: mary@example.com\nSubject: ticket 4431 escalated",
    "In the logs we saw: USER: reset ASSISTANT: done. Then the USER: field was empty ASSISTANT: field too.",
    "Phi-3 uses special tokens <|user|> and <|assistant|> and <|end|> to delimit turns; see the model card.",
    "The Alpaca template is:\n### Instruction:\n{instruction}\n### Response:\n{output}\n\nThen run the trainer.",
    "Gemma's template: <start_of_turn>user\nHi<end_of_turn> and so on, as the model card shows.",
])
def test_prose_that_quotes_chat_markup_is_pretraining_text(text: str) -> None:
    assert refused({"text": text})[0] == "unknown_format"


@pytest.mark.parametrize("completion", ['[{"role": "assistant", "content": "Hello!"}]', '[{"name": "Ann", "age": 3}]',
                                        "[{'a': 1, 'b': 2}, {'a': 3, 'b': 4}]"])
def test_a_json_answer_beside_a_text_prompt_stays_the_answer(completion: str) -> None:
    record = read({"prompt": "Write it as JSON.", "completion": completion})
    assert record["messages"] == [{"role": "user", "content": "Write it as JSON."},
                                  {"role": "assistant", "content": completion}]


@pytest.mark.parametrize("text", [
    "Wrap each call in <tool_call> </tool_call> tags, like this.",  # the tags quoted in prose
    "Hermes wraps each call like this:\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
    "{\"city\": \"Paris\"}}\n</tool_call>\nThe runtime parses the JSON between the tags.",  # an example call
    "<|begin_of_thought|> and <|end_of_thought|> delimit the reasoning; the solution markers the answer.",
], ids=["tags_in_prose", "call_in_explanation", "thought_markers_named"])
def test_markup_an_answer_talks_about_stays_text(text: str) -> None:
    record = read({"messages": [{"role": "user", "content": "How is this written?"},
                                {"role": "assistant", "content": text}]})
    assert record["messages"][1] == {"role": "assistant", "content": text}


def test_an_instruction_about_a_dialogue_is_not_split() -> None:
    instruction = "User: I want a refund\nAssistant: Sure, order number?\nUser: 1234\nAssistant:"
    record = read({"instruction": instruction, "input": "", "output": "refund_request"})
    assert record["messages"][0] == {"role": "user", "content": instruction}


def test_a_judge_response_beside_messages_is_not_an_api_log() -> None:
    record = read({"messages": QA, "response": {"score": 4, "choices": [
        {"message": {"role": "assistant", "content": "judge says 4"}}]}})
    assert record["messages"] == QA and record["metadata"]["source"]["format"] == "openai"


def test_a_system_prompt_column_does_not_stack_on_a_system_turn() -> None:
    record = read({"system_prompt": "Be brief", "conversations": [
        {"from": "system", "value": "You are a pirate"}, {"from": "human", "value": Q}, {"from": "gpt", "value": A}]})
    assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant"]
    assert record["metadata"]["fields"]["system_prompt"] == "Be brief"


def test_an_image_caption_is_not_an_image() -> None:
    items = convert_payload(orjson.dumps({"messages": [{"role": "user", "content": "Describe <image>"},
                                                       {"role": "assistant", "content": "a cat"}],
                                          "image": "cat on mat, high quality"}), None, None, "x.jsonl", 1)
    assert "image_missing" in {f.code for f in check_record(items[0].record)}


def test_an_hh_turn_that_lost_its_blank_line_is_still_a_turn() -> None:
    # harmless-base test: "... drag kings.  Human: Then how ..." read as one assistant turn holding the human's
    # words, then a second assistant turn; a DPO export wrote it as a two-message output
    from curation.readers.formats.preference import parse_hh

    text = ("\n\nHuman: Are drag queens men?\n\nAssistant: No. Men who impersonate women are called drag kings.  "
            "Human: Then how do they come to be called that?\n\nAssistant: I think they call them that because")
    assert [(m["role"], m["content"][:12]) for m in parse_hh(text)] == [
        ("user", "Are drag que"), ("assistant", "No. Men who "), ("user", "Then how do "),
        ("assistant", "I think they")]
    # an alternating transcript is read strictly: two spaces before "Human:" inside a turn stay text
    strict = "\n\nHuman: Quote it.\n\nAssistant: He said:  Human: beings err."
    assert parse_hh(strict)[-1]["content"] == "He said:  Human: beings err."


_BATCH_REQUEST = {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
                  "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": Q}]}}


def test_a_joined_batch_line_whose_call_failed_or_is_no_chat_call_says_so() -> None:
    # joined already: the hint to join them by custom_id could not help
    expired = {"custom_id": "r1", "request": _BATCH_REQUEST, "response": None,
               "error": {"code": "batch_expired", "message": "This request could not be executed before the "
                                                             "completion window expired."}}
    code, detail = refused(expired)
    assert code == "empty_record" and "the call failed: batch_expired" in detail and "window expired" in detail
    embedding = {"custom_id": "e1", "request": {"custom_id": "e1", "method": "POST", "url": "/v1/embeddings",
                                                "body": {"model": "text-embedding-3-small", "input": Q}},
                 "response": {"status_code": 200, "body": {"object": "list", "data": []}}, "error": None}
    code, detail = refused(embedding)
    assert code == "empty_record" and "not a chat call (/v1/embeddings)" in detail
    # a joined line that succeeded is read as before
    joined = {"custom_id": "r1", "request": _BATCH_REQUEST, "error": None, "response": {
        "status_code": 200, "body": {"choices": [{"message": {"role": "assistant", "content": A},
                                                  "finish_reason": "stop"}]}}}
    assert read(joined)["messages"] == QA


def test_a_one_column_pandas_table_of_turns_is_read_row_by_row(tmp_path) -> None:
    from curation.readers import read_path

    path = tmp_path / "df.json"
    path.write_text('{"messages": {"0": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}],'
                    ' "1": [{"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Ciao"}]}}')
    items = list(read_path(path))
    assert [i.error for i in items] == [None, None] and items[1].record["messages"][1]["content"] == "Ciao"


def test_a_trajectory_beside_a_prompt_stays_a_field() -> None:
    row = {"prompt": "Solve 2+2.", "chosen": "4", "rejected": "5", "trajectory": [{"step": 1, "note": "x"}]}
    record = read(row)
    assert record["prompt"] == [{"role": "user", "content": "Solve 2+2."}]
    assert record["metadata"]["fields"]["trajectory"] == [{"step": 1, "note": "x"}]
