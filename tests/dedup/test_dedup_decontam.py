from __future__ import annotations

from typing import Any

import pytest

from curation.dedup.config import DecontaminationConfig
from curation.dedup.decontam import ReferenceIndex

EVAL = [
    {"id": "eval-1", "messages": [
        {"role": "user", "content": "A train leaves Paris at 9 am travelling at 120 km/h; a second train leaves "
                                    "Lyon at 10 am at 150 km/h toward Paris. When do they meet?"},
        {"role": "assistant", "content": "They meet at about 11:07 am."}]},
    {"id": "eval-2", "messages": [
        {"role": "user",
         "content": "请解释为什么天空在白天是蓝色的，而在日落时会变成红色或橙色，并说明瑞利散射的作用。"},
        {"role": "assistant", "content": "因为瑞利散射……"}]},
    {"id": "eval-3", "messages": [{"role": "user", "content": "Thanks!"}, {"role": "assistant", "content": "Sure."}]},
]  # fmt: skip


def _chat(*turns: str) -> dict[str, Any]:
    messages = []
    for i, text in enumerate(turns):
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": text})
    return {"id": "t", "messages": messages}


@pytest.fixture(scope="module")
def index() -> ReferenceIndex:
    return ReferenceIndex.build(EVAL, config=DecontaminationConfig())


def test_exact_whole_record_and_whitespace_variant(index: ReferenceIndex) -> None:
    match = index.query_record({**EVAL[0], "id": "train-9", "metadata": {"x": 1}})
    assert match is not None and (match.ref_id, match.kind, match.probe) == ("eval-1", "exact", "text")
    variant = _chat("  a TRAIN leaves Paris at 9 am travelling at 120 km/h;  a second train leaves Lyon at 10 am "
                    "at 150 km/h toward Paris.\nWhen do they meet?", "They meet at about 11:07 am.")  # fmt: skip
    assert index.query_record(variant).kind == "exact"


def test_eval_question_embedded_as_a_user_turn(index: ReferenceIndex) -> None:
    record = _chat("Hi, can you help me with homework?", "Of course, what is it?",
                   EVAL[0]["messages"][0]["content"], "Let me think step by step ...")  # fmt: skip
    match = index.query_record(record)
    assert match is not None and (match.ref_id, match.kind, match.probe) == ("eval-1", "exact", "turn")


def test_near_copies_in_english_and_chinese(index: ReferenceIndex) -> None:
    english = _chat("A train leaves Paris at 9 am traveling at 120 km/h; a second train leaves Lyon at 10 am "
                    "at 150 km/h toward Paris. When do they meet?", "Around eleven.")  # fmt: skip
    match = index.query_record(english)
    assert match is not None and (match.ref_id, match.kind) == ("eval-1", "near") and match.similarity >= 0.8
    chinese = _chat("请解释为什么天空在白天是蓝色的，而在日落时会变成红色或橙色，并说明瑞利散射的原理。", "好的。")
    match = index.query_record(chinese)
    assert match is not None and (match.ref_id, match.kind, match.probe) == ("eval-2", "near", "turn")


def test_unrelated_and_short_records_are_clean(index: ReferenceIndex, sentence_pool: dict[str, list[str]]) -> None:
    pool = sentence_pool
    records = [_chat(pool["en"][i], pool["en"][i + 1]) for i in range(0, 400, 2)]
    records += [_chat(pool["zh"][i], pool["zh"][i + 1]) for i in range(0, min(200, len(pool["zh"]) - 1), 2)]
    records.append(_chat("Thanks!", "You are welcome, anything else?"))  # eval-3's short turn alone
    records.append(_chat("A train leaves Paris at 9 am.", "Nice trip."))  # shares words, not the item
    assert [m for m in index.query_records(records) if m is not None] == []
    assert index.query_record(_chat("Thanks!", "Sure.")).ref_id == "eval-3"  # whole short record: exact only


def test_string_references() -> None:
    question = "Name the three primary colours used in additive colour mixing on computer screens today."
    index = ReferenceIndex.build([question], ids=["q1"])
    assert len(index) == 1
    match = index.query_record(_chat(question.replace("today", "now"), "Red, green and blue."))
    assert match is not None and (match.ref_id, match.kind, match.probe) == ("q1", "near", "turn")
