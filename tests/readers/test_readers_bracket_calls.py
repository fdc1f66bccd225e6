"""ToolACE / BFCL: schemas as a JSON list in the system prompt, calls as `[Name(k=v)]` turns
(curation/readers/formats/bracket_calls.py)."""

from __future__ import annotations

import orjson
import pytest
from read_helpers import read

from curation.readers.formats.bracket_calls import parse_calls

SYSTEM = ("You are an expert in composing functions. You are given a question and a set of possible functions.\n"
          "Here is a list of functions in JSON format that you can invoke:\n" + orjson.dumps([
              {"name": "Market Trends API", "description": "Get market trends", "parameters": {
                  "type": "dict", "properties": {"trend_type": {"type": "string"}, "country": {"type": "string"}},
                  "required": ["trend_type"]}},
              {"name": "getWeather", "description": "Weather", "parameters": {
                  "type": "dict", "properties": {"city": {"type": "str"}, "days": {"type": "int"}}}}]).decode()
          + "\nPut it in the format of [func1(params_name=params_value), func2(params)]\n"
          "NO other text MUST be included.")


def _row(*turns: tuple[str, str]) -> dict:
    return {"system": SYSTEM, "conversations": [{"from": f, "value": v} for f, v in turns]}


def test_toolace_calls_become_tool_calls_and_the_schemas_tools() -> None:
    record = read(_row(("user", "Top market trends in the US?"),
                       ("assistant", '[Market Trends API(trend_type="MARKET_INDEXES", country="us")]'),
                       ("tool", '[{"name": "Market Trends API", "results": {"trends": ["S&P 500"]}}]'),
                       ("assistant", "The S&P 500 leads.")))
    call = record["messages"][2]["tool_calls"][0]
    assert call["function"] == {"name": "Market Trends API",
                                "arguments": '{"trend_type":"MARKET_INDEXES","country":"us"}'}
    assert "content" not in record["messages"][2]
    assert record["messages"][3]["tool_call_id"] == call["id"]
    schema = record["tools"][0]["function"]["parameters"]
    assert schema["type"] == "object" and record["tools"][1]["function"]["parameters"]["properties"]["days"] == {
        "type": "integer"}


def test_two_calls_in_one_turn_get_one_tool_message_each() -> None:
    record = read(_row(("user", "Trends and the weather in Paris?"),
                       ("assistant",
                        '[Market Trends API(trend_type="MOST_ACTIVE"), getWeather(city="Paris", days=2)]'),
                       ("tool", '[{"name": "Market Trends API", "results": {}}, {"name": "getWeather", '
                                '"results": {"t": 12}}]'),
                       ("assistant", "Quiet markets, 12 degrees.")))
    calls = record["messages"][2]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["Market Trends API", "getWeather"]
    assert orjson.loads(calls[1]["function"]["arguments"]) == {"city": "Paris", "days": 2}
    results = record["messages"][3:5]
    assert [m["tool_call_id"] for m in results] == [c["id"] for c in calls]
    assert orjson.loads(results[1]["content"]) == {"name": "getWeather", "results": {"t": 12}}


@pytest.mark.parametrize("text", [
    "[see the note (below)]",  # prose in brackets
    '[unknownFunc(a=1)]',  # not a listed function
    '[getWeather(city="Paris")] and then more text',
    '[getWeather("Paris")]',  # positional: not the syntax
    '[getWeather(city=open("x"))]',  # not a literal
])
def test_text_that_is_not_exactly_calls_to_listed_functions_stays_text(text: str) -> None:
    assert parse_calls(text, {"getWeather", "Market Trends API"}) is None


def test_literal_words_of_json_and_python_both_read() -> None:
    assert parse_calls('[getWeather(city="a, b)", days=null, ok=true, tags=["x", {"y": False}])]', {"getWeather"}) == [
        ("getWeather", {"city": "a, b)", "days": None, "ok": True, "tags": ["x", {"y": False}]})]


def test_a_turn_that_is_not_an_object_does_not_stop_the_lift() -> None:
    from curation.readers.formats.bracket_calls import lift

    messages = ["stray text", {"role": "assistant", "content": '[getWeather(city="Paris")]'}]
    assert lift(messages, [{"name": "getWeather", "description": "w"}]) is True
    assert messages[0] == "stray text" and messages[1]["tool_calls"][0]["function"]["name"] == "getWeather"


def test_toolace_list_and_any_types_read_as_the_xlam_ones_do() -> None:
    system = SYSTEM.replace('"days":{"type":"int"}', '"days":{"type":"list"},"extra":{"type":"any"},'
                            '"hours":{"type":"array"}')
    assert system != SYSTEM
    record = read({"system": system, "conversations": [{"from": "user", "value": "Weather?"},
                                                       {"from": "assistant", "value": "Sunny."}]})
    properties = record["tools"][1]["function"]["parameters"]["properties"]
    assert properties["days"] == {"type": "array", "items": {"type": "string"}}
    assert properties["hours"] == {"type": "array", "items": {"type": "string"}}
    assert properties["extra"] == {"type": "string"}
