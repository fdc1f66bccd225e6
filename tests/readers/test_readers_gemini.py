"""Gemini / Vertex AI tuning lines read as they mean (a tester's round trip through the vertex-gemini export)."""

from __future__ import annotations

from read_helpers import read, refused

USER = {"role": "user", "parts": [{"text": "Name a colour."}]}


def _completion(score: int, text: str) -> dict[str, object]:
    return {"score": score, "completion": {"role": "model", "parts": [{"text": text}]}}


def test_vertex_preference_line_is_a_pair_best_against_worst() -> None:
    # 622 of 2,096 exported pairs were refused (example_missing_assistant_message), the rest trained on the prompt
    record = read({"system_instruction": {"parts": [{"text": "Be brief."}]}, "contents": [USER],
                   "completions": [_completion(0, "Seven."), _completion(1, "Blue.")]})
    assert record["prompt"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "Name a colour."}]
    assert record["chosen"] == [{"role": "assistant", "content": "Blue."}]
    assert record["rejected"] == [{"role": "assistant", "content": "Seven."}]
    assert "messages" not in record and "completions" not in record["metadata"].get("fields", {})


def test_vertex_preference_line_with_more_completions_takes_the_highest_and_lowest_score() -> None:
    record = read({"contents": [USER], "completions": [_completion(2, "Green."), _completion(3, "Blue."),
                                                        _completion(1, "Seven.")]})
    assert (record["chosen"][0]["content"], record["rejected"][0]["content"]) == ("Blue.", "Seven.")


def test_vertex_preference_line_with_equal_scores_is_no_preference() -> None:
    code, _ = refused({"contents": [USER], "completions": [_completion(1, "Blue."), _completion(1, "Red.")]})
    assert code == "no_preference"


def _call(name: str, city: str) -> dict[str, object]:
    return {"functionCall": {"name": name, "args": {"city": city}}}


def _response(name: str, result: str) -> dict[str, object]:
    return {"functionResponse": {"name": name, "response": {"result": result}}}


def _answers(calls: list[dict[str, object]], responses: list[dict[str, object]]) -> dict[str, str]:
    record = read({"contents": [{"role": "user", "parts": [{"text": "Weather and time in Lima?"}]},
                                {"role": "model", "parts": calls}, {"role": "user", "parts": responses},
                                {"role": "model", "parts": [{"text": "Sunny, noon."}]}]})
    return {m["tool_call_id"]: m["content"] for m in record["messages"] if m["role"] == "tool"}


def test_function_responses_answer_the_calls_of_their_name() -> None:
    # the time came back first and was paired with the weather call (ids were handed out in order)
    answers = _answers([_call("get_weather", "Lima"), _call("get_time", "Lima")],
                       [_response("get_time", "noon"), _response("get_weather", "sunny")])
    assert answers == {"call_0": '{"result":"sunny"}', "call_1": '{"result":"noon"}'}


def test_same_name_responses_answer_their_calls_in_order() -> None:
    answers = _answers([_call("get_weather", "Lima"), _call("get_time", "Lima"), _call("get_weather", "Paris")],
                       [_response("get_time", "noon"), _response("get_weather", "Lima: sunny"),
                        _response("get_weather", "Paris: rain")])
    assert answers == {"call_0": '{"result":"Lima: sunny"}', "call_1": '{"result":"noon"}',
                       "call_2": '{"result":"Paris: rain"}'}


def test_responses_whose_names_match_no_call_answer_in_order() -> None:
    answers = _answers([_call("get_weather", "Lima"), _call("get_time", "Lima")],
                       [_response("weather", "sunny"), _response("get_time", "noon")])
    assert answers == {"call_0": '{"result":"sunny"}', "call_1": '{"result":"noon"}'}


def test_text_beside_function_responses_is_a_user_turn_after_the_results() -> None:
    # the vertex-gemini export merges a tool result and the user's next words into one Content; the words were lost
    record = read({"contents": [{"role": "user", "parts": [{"text": "Weather in Lima?"}]},
                                {"role": "model", "parts": [_call("get_weather", "Lima")]},
                                {"role": "user", "parts": [_response("get_weather", "sunny"),
                                                           {"text": "And tomorrow?"}]},
                                {"role": "model", "parts": [{"text": "Sunny too."}]}]})
    assert [m["role"] for m in record["messages"]] == ["user", "assistant", "tool", "user", "assistant"]
    assert record["messages"][3] == {"role": "user", "content": "And tomorrow?"}


def test_text_parts_of_one_content_are_paragraphs() -> None:
    # were joined with "": "Hello?Is anyone there?"; the exporters merge consecutive turns with a blank line
    record = read({"contents": [{"role": "user", "parts": [{"text": "Hello?"}, {"text": "Is anyone there?"}]},
                                {"role": "model", "parts": [{"text": "Yes."}, {"text": ""}]}]})
    assert [m["content"] for m in record["messages"]] == ["Hello?\n\nIs anyone there?", "Yes."]


def test_a_text_result_wrapped_as_content_reads_back_as_the_text() -> None:
    # the vertex-gemini export wraps a result that is not a JSON object as {"content": text} (a functionResponse's
    # response must be an object); read back, the tool message said '{"content":"sunny"}' instead of "sunny"
    record = read({"contents": [{"role": "user", "parts": [{"text": "Weather in Lima?"}]},
                                {"role": "model", "parts": [_call("get_weather", "Lima")]},
                                {"role": "user", "parts": [{"functionResponse": {
                                    "name": "get_weather", "response": {"content": "sunny"}}}]},
                                {"role": "model", "parts": [{"text": "Sunny."}]}]})
    assert record["messages"][2] == {"role": "tool", "content": "sunny", "tool_call_id": "call_0"}


def test_inline_and_stored_media_parts_are_openai_parts() -> None:
    # inlineData and fileData parts were "content part of unknown type" (missing_content): no Vertex image
    # dataset could be read
    from curation.checks import check_record
    from curation.readers.convert import convert_payload

    [item] = convert_payload({"contents": [
        {"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                                   {"text": "What is this?"}]},
        {"role": "model", "parts": [{"text": "A cat."}]}]}, None)
    assert item.record["messages"][0]["content"] == [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "text", "text": "What is this?"}]
    assert check_record(item.record) == []
    [video] = convert_payload({"contents": [
        {"role": "user", "parts": [{"fileData": {"mimeType": "video/mp4", "fileUri": "gs://b/v.mp4"}},
                                   {"text": "What?"}]},
        {"role": "model", "parts": [{"text": "A dog."}]}]}, None)
    assert [f.code for f in check_record(video.record)] == ["unsupported_media"]


def test_streamed_text_parts_join_as_one_text_and_paragraph_parts_with_a_blank_line() -> None:
    streamed = [{"text": "def f(x):\n    return "}, {"text": "x + 1\n"}]
    record = read({"contents": [{"role": "user", "parts": [{"text": "Hello"}]}, {"role": "model", "parts": streamed}]})
    assert record["messages"][1]["content"] == "def f(x):\n    return x + 1\n"
    merged = read({"contents": [{"role": "user", "parts": [{"text": "Hello?"}, {"text": "Is anyone there?"}]},
                                {"role": "model", "parts": [{"text": "Yes."}]}]})
    assert merged["messages"][0]["content"] == "Hello?\n\nIs anyone there?"
