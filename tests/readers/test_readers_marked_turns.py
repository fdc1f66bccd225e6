"""Baize and MOSS-003: turns told apart by speaker markers inside strings (curation/readers/formats/marked_turns)."""

from __future__ import annotations

from pathlib import Path

import orjson
from read_helpers import read, refused

from curation.readers import read_path

BAIZE = {"topic": "What is RAM?", "input": "The conversation between human and AI assistant.\n[|Human|] What is "
         "RAM?\n[|AI|] RAM is short-term memory.\n[|Human|] And ROM?\n[|AI|] Read-only memory.\n[|Human|] "}


def test_baize_transcript_reads_as_turns_without_its_header_or_open_cue() -> None:
    record = read(BAIZE)
    assert record["messages"] == [
        {"role": "user", "content": "What is RAM?"}, {"role": "assistant", "content": "RAM is short-term memory."},
        {"role": "user", "content": "And ROM?"}, {"role": "assistant", "content": "Read-only memory."}]
    assert record["metadata"]["fields"] == {"topic": "What is RAM?"}


def test_a_baize_transcript_that_does_not_alternate_is_refused() -> None:
    code, detail = refused({"input": "[|Human|] Hi\n[|Human|] again\n[|AI|] Hello"})
    assert code == "data_type" and "alternate" in detail


def _moss_turn(human: str, moss: str, thoughts: str = "None", command: str = "None") -> dict[str, str]:
    return {"Human": f"<|Human|>: {human}<eoh>\n", "Inner Thoughts": f"<|Inner Thoughts|>: {thoughts}<eot>\n",
            "Commands": f"<|Commands|>: {command}<eoc>\n", "Tool Responses": "<|Results|>:\nNone\n<eor>\n",
            "MOSS": f"<|MOSS|>: {moss}<eom>\n"}


MOSS = {"conversation_id": 1, "meta_instruction": "You are an AI assistant whose name is MOSS.\n- Inner thoughts: "
        "enabled.\n", "num_turns": 2, "chat": {
            "turn_2": _moss_turn("好的，面积呢？", "面积约为96。"),
            "turn_1": _moss_turn("三角形两边是16和12，第三边多长？", "第三边长度是8√5。",
                                 thoughts="用勾股定理求解。")},
        "category": "honest"}


def test_moss_turns_in_order_with_system_prompt_and_inner_thoughts_as_reasoning(tmp_path: Path) -> None:
    # The SFT data ships one pretty-printed JSON object per file.
    path = tmp_path / "conversation_1.json"
    path.write_text(orjson.dumps(MOSS, option=orjson.OPT_INDENT_2).decode(), encoding="utf-8")
    [item] = list(read_path(path))
    messages = item.record["messages"]
    assert messages[0] == {"role": "system", "content": MOSS["meta_instruction"].strip()}
    assert messages[1] == {"role": "user", "content": "三角形两边是16和12，第三边多长？"}
    assert messages[2] == {"role": "assistant", "content": "第三边长度是8√5。", "reasoning": "用勾股定理求解。"}
    assert messages[3:] == [{"role": "user", "content": "好的，面积呢？"},
                            {"role": "assistant", "content": "面积约为96。"}]
    assert read(MOSS)["metadata"]["fields"] == {"category": "honest"}  # conversation_id is the record's id


def test_a_moss_plugin_call_is_refused_not_trained_as_prose() -> None:
    row = {**MOSS, "chat": {"turn_1": _moss_turn("sqrt(2)?", "约1.414。", command='Calculate("sqrt(2)")')}}
    code, detail = refused(row)
    assert code == "tool_calls_as_text" and "Calculate" in detail
