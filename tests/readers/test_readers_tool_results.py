"""Tool results as real tool-calling sets write them, answering the calls they follow: Qwen's chat templates
(the results as a user turn of ``<tool_response>`` blocks), ms-swift's agent roles (``tool_call`` /
``tool_response``) and Hermes responses that name the function they answer."""

from __future__ import annotations

import orjson
import pytest
from read_helpers import read

from curation.readers.convert import convert_payload

TEMPERATURE = {"type": "function", "function": {
    "name": "get_current_temperature",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}
QWEN_SYSTEM = "# Tools\n<tools>\n" + orjson.dumps(TEMPERATURE).decode() + "\n</tools>"
QWEN_CALL = ('<tool_call>\n{"name": "get_current_temperature", "arguments": {"location": "San Francisco, CA, USA"}}'
             "\n</tool_call>")


# --- Qwen2.5 / Qwen3: tool results in a user turn ----------------------------------------------------------

def test_qwen_user_turn_of_tool_responses_answers_the_call() -> None:
    record = read({"messages": [
        {"role": "system", "content": QWEN_SYSTEM},
        {"role": "user", "content": "What's the temperature in San Francisco now?"},
        {"role": "assistant", "content": QWEN_CALL},
        {"role": "user", "content": '<tool_response>\n{"temperature": 26.1}\n</tool_response>'},
        {"role": "assistant", "content": "It is 26.1 °C."},
    ]})
    assert record["messages"][3] == {"role": "tool", "content": '{"temperature": 26.1}', "tool_call_id": "call_0"}
    assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant", "tool", "assistant"]


def test_qwen_parallel_results_in_one_user_turn_are_one_tool_message_each() -> None:
    call = QWEN_CALL.replace("San Francisco, CA, USA", "Paris")
    record = read({"messages": [
        {"role": "user", "content": "Temperature in San Francisco and Paris?"},
        {"role": "assistant", "content": QWEN_CALL + "\n" + call},
        {"role": "user", "content": "<tool_response>\n21\n</tool_response>\n<tool_response>\n18\n</tool_response>"},
        {"role": "assistant", "content": "21 and 18."},
    ]})
    assert record["messages"][2:4] == [{"role": "tool", "content": "21", "tool_call_id": "call_0"},
                                       {"role": "tool", "content": "18", "tool_call_id": "call_1"}]


def test_qwen_chatml_text_with_tool_responses_in_a_user_turn() -> None:
    text = ("<|im_start|>system\n" + QWEN_SYSTEM + "<|im_end|>\n<|im_start|>user\nTemperature in SF?<|im_end|>\n"
            "<|im_start|>assistant\n" + QWEN_CALL + "<|im_end|>\n<|im_start|>user\n<tool_response>\n26.1\n"
            "</tool_response><|im_end|>\n<|im_start|>assistant\nIt is 26.1 °C.<|im_end|>\n")
    record = read({"text": text})
    assert record["messages"][3] == {"role": "tool", "content": "26.1", "tool_call_id": "call_0"}
    assert record["tools"] == [TEMPERATURE]


@pytest.mark.parametrize("content", [
    "Here is what the tool said: <tool_response>26.1</tool_response>",  # the user's own words around it
    "<tool_response>26.1</tool_response> Thanks, and tomorrow?",
])
def test_a_user_turn_with_words_beside_a_tool_response_stays_the_users(content: str) -> None:
    obj = {"messages": [{"role": "user", "content": "Temperature in SF?"}, {"role": "assistant", "content": QWEN_CALL},
                        {"role": "user", "content": content}, {"role": "assistant", "content": "26.1."}]}
    [item] = convert_payload(orjson.dumps(obj), None, None, "x.jsonl", 1, 0)
    assert item.record["messages"][2] == {"role": "user", "content": content}


def test_tool_responses_in_a_user_turn_after_no_call_stay_the_users() -> None:
    obj = {"messages": [{"role": "user", "content": "<tool_response>26.1</tool_response>"},
                        {"role": "assistant", "content": "Noted."}]}
    [item] = convert_payload(orjson.dumps(obj), None, None, "x.jsonl", 1, 0)
    assert item.record["messages"][0]["role"] == "user"


# --- Hermes responses that name their function -------------------------------------------------------------

HERMES_TOOLS = ("<tools>\n[{'type': 'function', 'function': {'name': 'get_weather', 'parameters': {'type': 'object', "
                "'properties': {'city': {'type': 'string'}}}}}, {'type': 'function', 'function': {'name': 'get_time', "
                "'parameters': {'type': 'object', 'properties': {'tz': {'type': 'string'}}}}}]\n</tools>")
HERMES_CALLS = ("<tool_call>\n{'arguments': {'city': 'Paris'}, 'name': 'get_weather'}\n</tool_call>\n"
                "<tool_call>\n{'arguments': {'tz': 'Asia/Tokyo'}, 'name': 'get_time'}\n</tool_call>\n")


def _hermes(responses: str) -> dict[str, object]:
    return {"conversations": [
        {"from": "system", "value": HERMES_TOOLS},
        {"from": "human", "value": "Weather in Paris and time in Tokyo?"},
        {"from": "gpt", "value": HERMES_CALLS},
        {"from": "tool", "value": responses},
        {"from": "gpt", "value": "18C in Paris, 10:00 in Tokyo."},
    ]}


def test_hermes_responses_that_name_their_function_answer_that_call() -> None:
    record = read(_hermes('<tool_response>\n{"name": "get_time", "content": {"time": "10:00"}}\n</tool_response>\n'
                          '<tool_response>\n{"name": "get_weather", "content": {"temp": 18}}\n</tool_response>\n'))
    calls = {c["function"]["name"]: c["id"] for c in record["messages"][2]["tool_calls"]}
    time_result, weather_result = record["messages"][3:5]
    assert "10:00" in time_result["content"] and time_result["tool_call_id"] == calls["get_time"]
    assert "18" in weather_result["content"] and weather_result["tool_call_id"] == calls["get_weather"]


@pytest.mark.parametrize("responses", [
    # one names a function nobody called: the names do not pair, so the order does
    '<tool_response>{"name": "get_date", "content": 1}</tool_response><tool_response>{"name": "get_weather", '
    '"content": 2}</tool_response>',
    # one names none
    '<tool_response>{"content": 1}</tool_response><tool_response>{"name": "get_weather", "content": 2}'
    "</tool_response>",
])
def test_hermes_responses_whose_names_do_not_pair_answer_in_order(responses: str) -> None:
    record = read(_hermes(responses))
    assert [m["tool_call_id"] for m in record["messages"][3:5]] == ["call_0", "call_1"]


# --- ms-swift's agent roles: tool_call / tool_response -----------------------------------------------------

AQI = {"type": "function", "function": {"name": "realtime_aqi", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def _swift_call(city: str) -> dict[str, str]:
    call = {"name": "realtime_aqi", "arguments": {"city": city}}
    return {"role": "tool_call", "content": orjson.dumps(call).decode()}


def test_ms_swift_parallel_tool_calls_and_responses() -> None:
    """modelscope/ms-swift docs/source_en/Customization/Custom-dataset.md (agent format)."""
    record = read({"tools": orjson.dumps([AQI]).decode(), "messages": [
        {"role": "user", "content": "Weather in Beijing and Shanghai?"},
        _swift_call("Beijing"), _swift_call("Shanghai"),
        {"role": "tool_response", "content": '{"city": "Beijing", "aqi": "10"}'},
        {"role": "tool_response", "content": '{"city": "Shanghai", "aqi": "72"}'},
        {"role": "assistant", "content": "Beijing AQI 10, Shanghai 72."},
    ]})
    assert record["tools"] == [AQI]
    assert record["messages"] == [
        {"role": "user", "content": "Weather in Beijing and Shanghai?"},
        {"role": "assistant", "tool_calls": [
            {"id": "call_0", "type": "function",
             "function": {"name": "realtime_aqi", "arguments": '{"city":"Beijing"}'}},
            {"id": "call_1", "type": "function",
             "function": {"name": "realtime_aqi", "arguments": '{"city":"Shanghai"}'}}]},
        {"role": "tool", "content": '{"city": "Beijing", "aqi": "10"}', "tool_call_id": "call_0"},
        {"role": "tool", "content": '{"city": "Shanghai", "aqi": "72"}', "tool_call_id": "call_1"},
        {"role": "assistant", "content": "Beijing AQI 10, Shanghai 72."},
    ]


def test_ms_swift_calls_in_two_rounds_are_two_assistant_turns() -> None:
    record = read({"tools": [AQI], "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "AQI of Beijing, then of Shanghai?"},
        _swift_call("Beijing"), {"role": "tool_response", "content": "10"},
        _swift_call("Shanghai"), {"role": "tool_response", "content": "72"},
        {"role": "assistant", "content": "10, then 72."},
    ]})
    assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant", "tool", "assistant", "tool",
                                                       "assistant"]
    assert [m.get("tool_call_id") for m in record["messages"] if m["role"] == "tool"] == ["call_0", "call_1"]


# --- OpenAI tool calls written without ids -----------------------------------------------------------------

def _weather_call(city: str) -> dict[str, object]:
    arguments = orjson.dumps({"city": city}).decode()
    return {"type": "function", "function": {"name": "get_weather", "arguments": arguments}}


def test_openai_calls_and_results_without_ids_are_paired_in_order() -> None:
    record = read({"messages": [
        {"role": "user", "content": "How is the weather?"},
        {"role": "assistant", "content": None, "tool_calls": [_weather_call("Beijing")]},
        {"role": "tool", "content": "Sunny"},
        {"role": "assistant", "content": "It is sunny in Beijing. And in Paris and Rome?"},
        {"role": "user", "content": "Check Paris and Rome."},
        {"role": "assistant", "content": None, "tool_calls": [_weather_call("Paris"), _weather_call("Rome")]},
        {"role": "tool", "content": "Rain"},
        {"role": "tool", "content": "Fog"},
        {"role": "assistant", "content": "Rain in Paris, fog in Rome."},
    ]})
    messages = record["messages"]
    assert [c["id"] for m in messages for c in m.get("tool_calls") or []] == ["call_0", "call_1", "call_2"]
    assert [(m["content"], m["tool_call_id"]) for m in messages if m["role"] == "tool"] == [
        ("Sunny", "call_0"), ("Rain", "call_1"), ("Fog", "call_2")]


@pytest.mark.parametrize("messages", [
    # one result too many for the calls before it
    [{"role": "user", "content": "q"}, {"role": "assistant", "tool_calls": [_weather_call("Paris")]},
     {"role": "tool", "content": "Rain"}, {"role": "tool", "content": "Fog"}, {"role": "assistant", "content": "a"}],
    # one call has an id: the record says how it pairs, and the rest is for validation to report
    [{"role": "user", "content": "q"}, {"role": "assistant", "tool_calls": [
        {**_weather_call("Paris"), "id": "c1"}, _weather_call("Rome")]},
     {"role": "tool", "content": "Rain"}, {"role": "tool", "content": "Fog"}, {"role": "assistant", "content": "a"}],
], ids=["extra_result", "some_ids"])
def test_calls_that_cannot_be_paired_are_left_as_they_are(messages: list[dict[str, object]]) -> None:
    [item] = convert_payload(orjson.dumps({"messages": messages}), None, None, "x.jsonl", 1, 0)
    assert [m.get("tool_call_id") for m in item.record["messages"] if m["role"] == "tool"] == [None, None]


def test_smoltalk2_chat_template_kwargs_give_the_system_prompt_and_the_tools() -> None:
    # HuggingFaceTB/smoltalk2 SFT rows: what the chat template renders into the system turn sits in
    # chat_template_kwargs (custom_instructions, xml_tools); the persona and the tool schemas were left in fields
    weather = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city.",
                                                "parameters": {"type": "object",
                                                               "properties": {"city": {"type": "string"}}}}}
    messages = [{"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                                                 "{\"city\": \"Paris\"}}\n</tool_call>"},
                {"role": "tool", "content": "<tool_response>\n{\"temp_c\": 18}\n</tool_response>"},
                {"role": "assistant", "content": "It is 18 °C in Paris."}]
    kwargs = {"custom_instructions": "You are a weather bot. Answer in one sentence.", "enable_thinking": False,
              "python_tools": [], "xml_tools": [orjson.dumps(weather).decode()]}
    record = read({"messages": messages, "chat_template_kwargs": kwargs,
                   "source": "smolagents_toolcalling_traces_think"})
    assert record["messages"][0] == {"role": "system", "content": "You are a weather bot. Answer in one sentence."}
    assert [t["function"]["name"] for t in record["tools"]] == ["get_weather"]
    assert record["messages"][2]["tool_calls"][0]["function"]["name"] == "get_weather"
    # the Hermes and xLAM splits list their tools inside <tools>[...]</tools>, as Python literals
    hermes = {**kwargs, "custom_instructions": "",
              "xml_tools": ["You may call these tools.\n<tools>\n[" + repr(weather) + "]\n</tools>"]}
    record = read({"messages": messages, "chat_template_kwargs": hermes})
    assert record["messages"][0]["role"] == "user"  # no instructions: no system turn
    assert [t["function"]["name"] for t in record["tools"]] == ["get_weather"]
    # a plain row with a persona
    record = read({"messages": messages[:1] + [{"role": "assistant", "content": "Arr, 'tis sunny."}],
                   "chat_template_kwargs": {"custom_instructions": "You are Smol, a pirate.", "xml_tools": [],
                                            "python_tools": [], "enable_thinking": False}})
    assert record["messages"][0] == {"role": "system", "content": "You are Smol, a pirate."}
    assert "tools" not in record


def test_smoltalk2_instructions_do_not_stack_on_the_rows_own_system_turn() -> None:
    # a row with its own system turn: the template's custom_instructions are its default, not a second system turn
    record = read({"messages": [{"role": "system", "content": "You are X."}, {"role": "user", "content": "Hi"},
                                {"role": "assistant", "content": "Hello."}],
                   "chat_template_kwargs": {"custom_instructions": "You are Y.", "xml_tools": [],
                                            "python_tools": [], "enable_thinking": False}})
    assert [m["content"] for m in record["messages"] if m["role"] == "system"] == ["You are X."]
