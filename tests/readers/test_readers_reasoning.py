"""Reasoning and typed tool-call parts read into the canonical message (curation/reasoning.py), on inline
records and on LLaMA-Factory's reason_tool_use demo; validated, counted in tokens, kept by the stages."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from curation.checks import check_record
from curation.pipeline.stages.normalise import NormaliseStage
from curation.pipeline.stages.redact import RedactConfig, RedactStage
from curation.readers import read_path
from curation.readers.convert import convert_payload
from curation.reasoning import maybe_lift_messages, maybe_lift_record, split_think
from curation.records import parse_record
from curation.tokens import assistant_tokens, chat_tokens

DEMO = "hiyouga__LLaMA-Factory/reason_tool_use_demo_50.jsonl"


def read_one(obj: dict[str, Any]) -> dict[str, Any]:
    (item,) = convert_payload(orjson.dumps(obj), None)
    assert item.record is not None, item
    return item.record


# `thinking`: gpt-oss's chat template and Ollama's chat API (it went to turn_fields and was never counted)
@pytest.mark.parametrize("key", ["reasoning_content", "reasoning", "thinking"])
def test_reasoning_fields_become_reasoning(key: str) -> None:
    record = read_one({"messages": [{"role": "user", "content": "2+2?"},
                                    {"role": "assistant", key: "Add them.", "content": "4"}]})
    assert record["messages"][1] == {"role": "assistant", "content": "4", "reasoning": "Add them."}
    parse_record(record)  # the pydantic schema of record takes it
    assert check_record(record) == []


def test_think_block_is_split_from_the_answer() -> None:
    record = read_one({"messages": [{"role": "user", "content": "2+2?"},
                                    {"role": "assistant", "content": "<think>\nTwo and two.\n</think>\n\n4"}]})
    assert record["messages"][1] == {"role": "assistant", "content": "4", "reasoning": "Two and two."}
    # not at the start, or in a user turn: text like any other
    assert split_think("the tag <think> is HTML-like") == (None, "the tag <think> is HTML-like")
    user = read_one({"messages": [{"role": "user", "content": "<think>x</think> y"},
                                  {"role": "assistant", "content": "ok"}]})
    assert user["messages"][0]["content"] == "<think>x</think> y"


def test_typed_parts_and_id_less_tool_results() -> None:
    record = read_one({"messages": [
        {"role": "user", "content": [{"type": "text", "value": "Areas for r=1 and r=2"}]},
        {"role": "assistant", "content": [
            {"type": "reasoning", "value": "Call twice."},
            {"type": "tool_call", "value": '{"name": "area", "arguments": {"r": 1}}'},
            {"type": "tool_call", "value": '{"name": "area", "arguments": {"r": 2}}'}]},
        {"role": "tool", "content": [{"type": "text", "value": '[{"name": "area", "content": "3.14"}, '
                                                                  '{"name": "area", "content": "12.57"}]'}]},
        {"role": "assistant", "content": [{"type": "reasoning", "value": "Report."},
                                          {"type": "text", "value": "3.14 and 12.57"}]}]})
    m = record["messages"]
    assert m[1] == {"role": "assistant", "reasoning": "Call twice.", "tool_calls": [
        {"id": "call_0", "type": "function", "function": {"name": "area", "arguments": '{"r":1}'}},
        {"id": "call_1", "type": "function", "function": {"name": "area", "arguments": '{"r":2}'}}]}
    assert m[2] == {"role": "tool", "content": "3.14", "tool_call_id": "call_0"}
    assert m[3] == {"role": "tool", "content": "12.57", "tool_call_id": "call_1"}
    assert m[4]["reasoning"] == "Report." and m[4]["content"] == [{"type": "text", "text": "3.14 and 12.57"}]
    assert check_record(record) == []


def test_lifting_is_idempotent_and_leaves_plain_records_alone() -> None:
    plain = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    assert maybe_lift_messages(plain) is plain
    record = read_one({"messages": [{"role": "user", "content": "q"},
                                    {"role": "assistant", "reasoning_content": "r", "content": "a"}]})
    again = copy.deepcopy(record)
    assert maybe_lift_record(again) == record


def test_reasoning_counts_in_tokens() -> None:
    without = {"id": "a", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    with_reasoning = copy.deepcopy(without)
    with_reasoning["messages"][1]["reasoning"] = "let me think about this step by step " * 10
    assert chat_tokens(with_reasoning, "o200k_base") >= chat_tokens(without, "o200k_base") + 70
    assert assistant_tokens(with_reasoning, "o200k_base") >= assistant_tokens(without, "o200k_base") + 70


def test_stages_keep_normalise_and_redact_reasoning() -> None:
    record = {"id": "a", "metadata": {}, "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a", "reasoning": "Mail  john.doe@mailbox.org  first."}]}
    NormaliseStage().process(record)
    assert record["messages"][1]["reasoning"] == "Mail john.doe@mailbox.org first."
    RedactStage(RedactConfig(enabled=True)).process(record)
    assert "john.doe@mailbox.org" not in record["messages"][1]["reasoning"]
    assert record["messages"][1]["reasoning"].startswith("Mail ")


def test_the_real_reason_tool_use_demo(real_dir: Path) -> None:
    records = [item.record for item in read_path(real_dir / DEMO)]
    assert len(records) == 50 and all(r is not None for r in records)
    messages = [m for r in records for m in r["messages"]]
    assert sum(1 for m in messages if m.get("reasoning")) == 112  # every assistant turn reasons first
    calls = [c for m in messages for c in m.get("tool_calls") or ()]
    assert len(calls) == 68 and all(c["function"]["name"] for c in calls)
    tools = [m for m in messages if m["role"] == "tool"]
    assert tools and all(m.get("tool_call_id") and isinstance(m["content"], str) for m in tools)
    assert all(not isinstance(m.get("content"), list) or all(p["type"] == "text" for p in m["content"])
               for m in messages)
    assert [f for r in records for f in check_record(r)] == []


def test_a_conversation_with_nothing_to_lift_is_returned_as_it_is() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "<think> is a tag"},
                {"role": "assistant", "content": "Yes, " + "x" * 80 + "<think>"}, "not a message",
                {"role": "tool", "content": "42"}]
    assert maybe_lift_messages(messages) is messages


@pytest.mark.parametrize("last", [
    {"role": "assistant", "content": "<think>Add.</think>4"},
    {"role": "assistant", "content": "4", "reasoning_content": "Add."},
    {"role": "assistant", "content": [{"type": "reasoning", "text": "Add."}, {"type": "text", "text": "4"}]},
])
def test_one_liftable_message_anywhere_is_lifted(last: dict[str, Any]) -> None:
    messages = [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "Let me see."},
                {"role": "user", "content": "Well?"}, last]
    lifted = maybe_lift_messages(copy.deepcopy(messages))
    assert lifted[:3] == messages[:3]
    assert lifted[3]["reasoning"] == "Add." and lifted[3]["content"] in ("4", [{"type": "text", "text": "4"}])


def _reply(content: str, **extra: object) -> list:
    from curation.readers.convert import convert_payload

    items = convert_payload({"messages": [{"role": "user", "content": "Q?"},
                                          {"role": "assistant", "content": content, **extra}]}, None)
    return items


def test_an_answer_cut_off_inside_its_reasoning_is_refused_as_incomplete() -> None:
    # NovaSky-AI/SkyThought Sky-T1 AIME outputs: a 64k-character trace that opens <|begin_of_thought|> and stops
    # mid-sentence went to train as the visible answer
    for content in ("<think>\nOkay, 17*20 is 340, plus 51 is 391. Wait, let me verify",
                    "<|begin_of_thought|>\n420 is divisible by 36"):
        [item] = _reply(content)
        assert item.record is None and item.error[0] == "incomplete_answer", content
    [prose] = _reply("The <think> tag marks reasoning.")  # a tag named in prose is no block
    assert prose.record["messages"][1]["content"] == "The <think> tag marks reasoning."


def test_every_think_block_and_other_spellings_are_lifted_once() -> None:
    [item] = _reply("<think>a</think>Partial.<think>b</think>Final 8.")
    assert item.record["messages"][1] == {"role": "assistant", "content": "Partial.\n\nFinal 8.",
                                          "reasoning": "a\n\nb"}
    [item] = _reply("<Thinking>four and four</Thinking>\n8")
    assert item.record["messages"][1] == {"role": "assistant", "content": "8", "reasoning": "four and four"}
    [item] = _reply("<think>\nsix and six make twelve\n</think>\n\nThe answer is 12.",
                    reasoning_content="six and six make twelve")  # given twice: kept once
    assert item.record["messages"][1]["reasoning"] == "six and six make twelve"
    [item] = _reply("<|begin_of_thought|>x<|end_of_thought|>\n\nThe answer is 144.")  # no solution markers
    assert item.record["messages"][1] == {"role": "assistant", "content": "The answer is 144.", "reasoning": "x"}
    [item] = _reply("<|begin_of_thought|>x<|end_of_thought|><|begin_of_solution|>144<|end_of_solution|>\n\nHope "
                    "this helps!")
    assert item.record["messages"][1]["content"] == "144\n\nHope this helps!"


def test_prose_about_the_thinking_tag_and_tags_inside_code_stay_text() -> None:
    # a second review: "<thinking> tags are how ..." was refused as incomplete_answer, and a <thinking> pair in a
    # fenced prompt template was cut out of the answer into the reasoning
    for content in ("<thinking> tags are how Claude shows its work; use <thinking> to plan.",
                    "<thinking>\nThis XML element wraps the model's scratchpad."):
        [item] = _reply(content)
        assert item.error is None and item.record["messages"][1]["content"] == content
    template = "Here is a prompt template:\n```xml\n<thinking>step by step</thinking>\n<answer>42</answer>\n```"
    [item] = _reply(f"<think>ok</think>{template}")
    assert item.record["messages"][1] == {"role": "assistant", "content": template, "reasoning": "ok"}
