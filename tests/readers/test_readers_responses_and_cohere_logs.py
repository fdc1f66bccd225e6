"""Logged Responses API calls and Cohere v1 chats: read as conversations, refused by name where they hold no
whole, finished conversation. Both were ``unknown_format`` rejects, with a hint that could not help."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from curation.cli import main
from curation.readers.convert import convert_payload


def _read(obj: dict[str, Any]) -> Any:
    (item,) = convert_payload(orjson.dumps(obj), None, None, "logs.jsonl", 1, 0)
    return item


def _response(output: list[Any], **extra: Any) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "status": "completed", "model": "gpt-4.1-2025-04-14",
            "output": output, **extra}


def _said(text: str) -> dict[str, Any]:
    return {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


WEATHER = {"type": "function", "name": "get_weather", "description": "Weather for a city", "strict": True,
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def test_a_logged_responses_call_is_its_conversation() -> None:
    item = _read({"request": {"model": "gpt-4.1", "instructions": "Be brief.", "temperature": 0.2,
                              "input": [{"role": "user", "content": [{"type": "input_text", "text": "2+2?"}]}]},
                  "response": _response([_said("4.")])})
    assert item.error is None and item.format == "responses_log"
    assert item.record["messages"] == [{"role": "system", "content": "Be brief."},
                                       {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4."}]
    assert item.record["metadata"]["fields"] == {"request": {"model": "gpt-4.1", "temperature": 0.2},
                                                 "response_model": "gpt-4.1-2025-04-14"}
    # the request's keys beside the response (a proxy's log), and the Batch API's {"status_code", "body"}
    flat = _read({"model": "gpt-4.1", "input": "2+2?", "user": "u7", "response": {"status_code": 200,
                                                                                 "body": _response([_said("4.")])}})
    assert flat.error is None and flat.record["messages"][-1] == {"role": "assistant", "content": "4."}
    assert flat.record["metadata"]["fields"]["user"] == "u7"


def test_function_calls_reasoning_and_developer_turns_become_chat_turns() -> None:
    item = _read({"request": {
        "input": [{"role": "developer", "content": "Use the tools."},
                  {"role": "user", "content": "Weather in Paris?"},
                  {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
                   "arguments": '{"city": "Paris"}', "status": "completed"},
                  {"type": "function_call_output", "call_id": "call_1", "output": '{"celsius": 21}'}],
        "tools": [WEATHER, {"type": "web_search"}]},
        "response": _response([{"type": "reasoning", "id": "rs_1",
                                "summary": [{"type": "summary_text", "text": "The tool says 21."}]},
                               _said("It is 21°C.")])})
    assert item.error is None
    assert item.record["messages"][:4] == [
        {"role": "system", "content": "Use the tools."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"celsius": 21}'}]
    answer = item.record["messages"][4]
    assert answer["content"] == "It is 21°C." and answer["reasoning"] == "The tool says 21."
    # flat Responses tools nest as chat tools; a built-in tool offered but not called is left out
    assert item.record["tools"] == [{"type": "function", "function": {
        k: WEATHER[k] for k in ("name", "description", "parameters", "strict")}}]
    calls = _read({"request": {"input": "Weather in Oslo?", "tools": [WEATHER]},
                   "response": _response([{"type": "function_call", "call_id": "c9", "name": "get_weather",
                                           "arguments": '{"city": "Oslo"}'}])})
    assert calls.record["messages"][-1]["tool_calls"][0]["id"] == "c9"


@pytest.mark.parametrize(("request_", "response", "code", "words"), [
    ({"input": "Write a long story"}, _response([_said("Once upon")], status="incomplete",
                                                incomplete_details={"reason": "max_output_tokens"}),
     "incomplete_answer", "incomplete ('max_output_tokens')"),
    ({"input": "x"}, _response([], status="failed", error={"code": "server_error", "message": "boom"}),
     "empty_record", "status 'failed' (boom)"),
    ({"input": "and then?", "previous_response_id": "resp_0"}, _response([_said("Then...")]),
     "missing_history", "previous_response_id 'resp_0'"),
    ({"input": [{"type": "item_reference", "id": "msg_0"}, {"role": "user", "content": "and?"}]},
     _response([_said("And...")]), "missing_history", "input[0] refers to a stored item ('msg_0')"),
    ({"input": "news today?", "tools": [{"type": "web_search"}]},
     _response([{"type": "web_search_call", "id": "ws_1", "status": "completed"}, _said("Today [1]...")]),
     "server_tool_call", "output[0] is a web_search_call"),
    ({"input": "run it"}, _response([{"type": "custom_tool_call", "call_id": "c1", "name": "sh", "input": "ls"}]),
     "data_type", "'custom_tool_call' item"),
])
def test_what_is_no_whole_finished_conversation_is_refused_by_name(
    request_: dict[str, Any], response: dict[str, Any], code: str, words: str,
) -> None:
    item = _read({"request": request_, "response": response})
    assert item.error is not None and item.error[0] == code and words in item.error[1], item.error


def test_cohere_v1_requests_responses_and_histories() -> None:
    logged = _read({"preamble": "Be brief.", "message": "What is 2+2?", "model": "command-r",
                    "chat_history": [{"role": "USER", "message": "Hi"}, {"role": "CHATBOT", "message": "Hello!"}],
                    "response": {"text": "4.", "finish_reason": "COMPLETE", "generation_id": "g1"}})
    assert logged.error is None and logged.format == "cohere_chat"
    assert [(m["role"], m["content"]) for m in logged.record["messages"]] == [
        ("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello!"), ("user", "What is 2+2?"),
        ("assistant", "4.")]
    # the response object's chat_history already ends with the question and the answer
    response = _read({"text": "4.", "finish_reason": "COMPLETE", "chat_history": [
        {"role": "USER", "message": "What is 2+2?"}, {"role": "CHATBOT", "message": "4."}]})
    assert [m["content"] for m in response.record["messages"]] == ["What is 2+2?", "4."]
    tools = _read({"chat_history": [
        {"role": "USER", "message": "Weather in Paris?"},
        {"role": "CHATBOT", "message": "", "tool_calls": [{"name": "get_weather", "parameters": {"city": "Paris"}}]},
        {"role": "TOOL", "tool_results": [{"call": {"name": "get_weather", "parameters": {"city": "Paris"}},
                                           "outputs": [{"celsius": 21}]}]},
        {"role": "CHATBOT", "message": "21°C."}]})
    call, result = tools.record["messages"][1], tools.record["messages"][2]
    assert call == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]}
    assert result == {"role": "tool", "tool_call_id": "call_1_0", "content": '[{"celsius":21}]'}
    cut = _read({"message": "A long story", "preamble": "x",
                 "response": {"text": "Once", "finish_reason": "MAX_TOKENS"}})
    assert cut.error[0] == "incomplete_answer"


def test_a_run_over_responses_logs_trains_on_the_finished_calls(tmp_path: Path) -> None:
    lines = []
    for i in range(12):
        lines.append({"request": {"model": "gpt-4.1", "instructions": "Answer in one sentence.",
                                  "input": [{"role": "user", "content": f"What is {i} plus {i + 3}, and why?"}],
                                  "tools": [WEATHER]},
                      "response": _response([_said(f"{i} plus {i + 3} is {2 * i + 3}, by counting on.")])})
    lines.append({"request": {"input": "and then?", "previous_response_id": "resp_0"},
                  "response": _response([_said("Then it went on.")])})
    src = tmp_path / "logs.jsonl"
    src.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    out = tmp_path / "run"
    assert main(["run", "--input", str(src), "--out", str(out), "--quiet"]) == 0
    kept = [orjson.loads(line) for name in ("train", "validation")
            for line in (out / "splits" / f"{name}.jsonl").read_bytes().splitlines()]
    rejects = [orjson.loads(line) for line in (out / "rejects.jsonl").read_bytes().splitlines()]
    assert len(kept) + len(rejects) == 13
    assert [r["reason"] for r in rejects] == ["missing_history"]
    assert all(r["metadata"]["source"]["format"] == "responses_log" and r["tools"] for r in kept)


def test_an_empty_chat_history_column_beside_another_layout_is_not_cohere() -> None:
    # {"question", "chat_history": [], "answer"}, the usual first turn of conversational QA, was read as a Cohere
    # chat with no messages and refused; so were Alpaca, OpenAI and ShareGPT rows carrying such a column.
    for row in ({"question": "What is 1+1?", "chat_history": [], "answer": "It is 2."},
                {"instruction": "Add 1 and 1.", "input": "", "output": "2", "chat_history": []},
                {"instruction": "Add 1 and 1.", "output": "2", "preamble": "p", "message": "m"},
                {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
                 "chat_history": []}):
        item = _read(row)
        assert item.error is None and item.format != "cohere_chat", row
        assert item.record["messages"][-1]["role"] == "assistant"
    first = _read({"message": "hi", "chat_history": [], "response": {"text": "yo", "finish_reason": "COMPLETE"}})
    assert first.format == "cohere_chat" and [m["content"] for m in first.record["messages"]] == ["hi", "yo"]


def test_responses_instructions_from_the_response_or_a_stored_prompt() -> None:
    # the response object echoes the instructions the request was given: they are the system turn
    echoed = _read({"input": "2+2?", "response": _response([_said("4.")], instructions="Be brief.")})
    assert echoed.error is None and echoed.record["messages"][0] == {"role": "system", "content": "Be brief."}
    # a stored prompt's instructions come back as input items (developer turns) in the response
    items = _read({"input": "2+2?", "prompt": {"id": "pmpt_1", "version": "2"}, "response": _response(
        [_said("4.")], instructions=[{"type": "message", "role": "developer",
                                      "content": [{"type": "input_text", "text": "Be brief."}]}])})
    assert items.error is None
    assert [(m["role"], m["content"]) for m in items.record["messages"]] == [
        ("system", "Be brief."), ("user", "2+2?"), ("assistant", "4.")]
    # a stored prompt whose text the log does not hold: the system turn is missing, so the record is refused
    stored = _read({"input": "2+2?", "prompt": {"id": "pmpt_1"}, "response": _response([_said("4.")])})
    assert stored.error[0] == "missing_history" and "pmpt_1" in stored.error[1]


@pytest.mark.parametrize(("record", "code", "words"), [
    ({"input": "x", "response": _response([_said("Once")], status="incomplete", incomplete_details="max")},
     "incomplete_answer", "'max'"),
    ({"input": [{"role": ["user"], "content": "2+2?"}], "response": _response([_said("4.")])},
     "data_type", "input[0]: role is a list"),
    ({"input": "2+2?", "instructions": {"text": "Be brief."}, "response": _response([_said("4.")])},
     "data_type", "instructions is a dict"),
    ({"chat_history": [{"role": "USER", "message": "hi"}, {"role": "CHATBOT", "message": "yo"}], "message": 42,
      "text": "ok"}, "data_type", "message is a int"),
    ({"preamble": ["Be brief."], "chat_history": [{"role": "USER", "message": "hi"}], "text": "yo"}, "data_type",
     "preamble is a list"),
])
def test_logged_values_of_the_wrong_type_are_named_not_python_errors(
    record: dict[str, Any], code: str, words: str,
) -> None:
    item = _read(record)
    assert item.error is not None and item.error[0] == code and words in item.error[1], item.error
    assert "Error" not in item.error[1] and "object has no attribute" not in item.error[1]


def test_a_cohere_tool_result_given_as_text_is_its_content() -> None:
    item = _read({"chat_history": [
        {"role": "USER", "message": "Weather?"},
        {"role": "CHATBOT", "message": "", "tool_calls": [{"name": "w", "parameters": {"city": "Paris"}}]},
        {"role": "TOOL", "tool_results": ["sunny"]}, {"role": "CHATBOT", "message": "Sunny."}]})
    assert item.error is None
    assert item.record["messages"][2] == {"role": "tool", "tool_call_id": "call_1_0", "content": "sunny"}
