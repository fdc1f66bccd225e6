"""Per-prompt scores: tool-call accuracy on hand-made cases, chrF, ROUGE-L (CJK too), exact match on short refs."""

from __future__ import annotations

import pytest

from curation.evals.scores import score, tool_call_outcome

REF_CALL = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
    "name": "get_weather", "arguments": '{"city": "Paris", "unit": "C"}'}}]}


def _call(name: str, arguments: str) -> dict:
    return {"role": "assistant", "content": "", "tool_calls": [
        {"id": "x", "type": "function", "function": {"name": name, "arguments": arguments}}]}


@pytest.mark.parametrize(("answer", "expected"), [
    (_call("get_weather", '{"unit":"C",  "city":"Paris"}'), "right_call"),  # key order and spaces do not matter
    (_call("get_weather", '{"city": "Paris", "unit": "F"}'), "wrong_arguments"),
    (_call("get_weather", '{"city": "Paris"}'), "wrong_arguments"),
    (_call("get_weather", "city=Paris"), "wrong_arguments"),  # not JSON
    (_call("get_time", '{"city": "Paris", "unit": "C"}'), "wrong_function"),
    ({"role": "assistant", "content": "It is sunny."}, "missing_call"),
])
def test_tool_call_outcome_against_a_reference_call(answer: dict, expected: str) -> None:
    assert tool_call_outcome(REF_CALL, answer, offers_tools=True) == expected
    assert score(REF_CALL, answer, offers_tools=True)["tool_call"] == (1.0 if expected == "right_call" else 0.0)


def test_no_call_is_right_only_when_nothing_is_called() -> None:
    reference = {"role": "assistant", "content": "Thank you!"}
    assert tool_call_outcome(reference, {"role": "assistant", "content": "Thanks"}, offers_tools=True) == \
        "right_no_call"
    assert tool_call_outcome(reference, _call("get_weather", "{}"), offers_tools=True) == "unexpected_call"
    # no tools offered and none in the reference: the metric does not apply (absent, not zero)
    assert "tool_call" not in score(reference, {"role": "assistant", "content": "Thanks"}, offers_tools=False)


def test_text_metrics_and_exact_match_on_short_references() -> None:
    reference = {"role": "assistant", "content": "Thank you!"}
    same = score(reference, {"role": "assistant", "content": "thank you"}, offers_tools=False)
    assert same["exact"] == 1.0 and same["rougeL"] == 1.0 and same["chrf"] > 50
    other = score(reference, {"role": "assistant", "content": "Goodbye."}, offers_tools=False)
    assert other["exact"] == 0.0 and other["rougeL"] == 0.0 and other["chrf"] < same["chrf"]
    long_ref = {"role": "assistant", "content": "Restart the router, wait one minute, then sign in again to check."}
    partial = score(long_ref, {"role": "assistant", "content": "Restart the router and sign in again."},
                    offers_tools=False)
    assert "exact" not in partial and 0.3 < partial["rougeL"] < 1.0


def test_rouge_l_compares_chinese_per_character() -> None:
    reference = {"role": "assistant", "content": "你好，我可以帮你什么？"}
    near = score(reference, {"role": "assistant", "content": "你好，我能帮你什么？"}, offers_tools=False)
    far = score(reference, {"role": "assistant", "content": "再见"}, offers_tools=False)
    assert near["rougeL"] > 0.7 and far["rougeL"] == 0.0
