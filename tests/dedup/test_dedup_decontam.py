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


GSM8K = ("Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her "
         "friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck "
         "egg. How much in dollars does she make every day at the farmers' market?")


def test_a_rewritten_question_inside_a_longer_prompt_is_contained() -> None:
    # MetaMath's GSM8K_Backward: the test question word for word, one number as x, a sentence added. Its Jaccard
    # with the question is far under 0.8, so 606 of 613 such rows reached training.
    index = ReferenceIndex.build([_chat(GSM8K, "She makes $18 every day.")], ids=["gsm8k-0"])
    backward = GSM8K.replace("16 eggs", "x eggs") + " If we know the answer to the above question is 18, what is " \
        "the value of unknown variable x?"
    match = index.query_record(_chat(backward, "16"))
    assert match is not None and (match.ref_id, match.kind) == ("gsm8k-0", "contained")
    assert 0.7 <= match.similarity < 1.0
    assert index.query_records([_chat(backward, "16")]) == [match]  # batch and single agree


def test_containment_needs_a_good_part_of_the_question_and_can_be_turned_off(sentence_pool) -> None:
    index = ReferenceIndex.build([GSM8K], ids=["q"])
    part = GSM8K[: len(GSM8K) // 4]  # a quarter of the question, and other text
    assert index.query_record(_chat(f"{part} Then write a poem about ducks and the sea.", "ok")) is None
    records = [_chat(sentence_pool["en"][i], sentence_pool["en"][i + 1]) for i in range(0, 600, 2)]
    assert [m for m in index.query_records(records) if m is not None] == []
    off = ReferenceIndex.build([GSM8K], ids=["q"], config=DecontaminationConfig(containment=0))
    backward = GSM8K.replace("16 eggs", "x eggs") + " If we know the answer to the above question is 18, what " \
        "is the value of unknown variable x?"
    assert index.query_record(_chat(backward, "16")) is not None and off.query_record(_chat(backward, "16")) is None


def test_containment_in_chinese() -> None:
    question = "小明有三个苹果，小红给了他五个苹果，后来他又吃掉了两个，请问小明现在一共还剩下几个苹果？"
    index = ReferenceIndex.build([question], ids=["zh-1"])
    prompt = "请一步一步思考并回答下面的数学题，最后给出答案。" + question.replace("三个", "x个") + \
        "如果答案是6，求x。"
    match = index.query_record(_chat(prompt, "x = 3"))
    assert match is not None and match.kind == "contained"


def test_a_template_many_questions_share_is_no_item() -> None:
    # MMLU-style items open with the same instruction: a training prompt quoting it holds none of the items.
    template = "The following are multiple choice questions with answers about high school physics, answer them."
    questions = [f"{template} Question {i}: what is the unit of quantity number {i} in the SI system?"
                 for i in range(40)]
    index = ReferenceIndex.build(questions, ids=[f"q{i}" for i in range(40)])
    record = _chat(f"{template} Question: why is the sky blue on a clear and sunny summer day?", "Scattering.")
    assert index.query_record(record) is None
    assert index.query_record(_chat(questions[7].replace("number 7", "number x"), "metre")).ref_id == "q7"


def test_a_multiple_choice_question_copied_without_its_options_is_found() -> None:
    # MMLU as the multiple-choice reader writes it: the options join the question in the user turn. A training
    # record holding the question alone (its options dropped, or rephrased) is still that item.
    import orjson

    from curation.readers.convert import convert_payload

    row = {"question": "A spherical conductor carries a net charge. How is this charge distributed on the sphere "
                       "when it sits alone, far from any other charges?",
           "subject": "high_school_physics",
           "choices": ["The charge is evenly distributed on the surface.",
                       "The charge resides on the surface only; the distribution of charge on the surface depends "
                       "on what other charged objects are near the sphere.",
                       "The charge moves continually within the sphere.",
                       "The charge is distributed uniformly throughout the sphere."],
           "answer": 0}
    item = convert_payload(orjson.dumps(row), None, None, "mmlu.jsonl", 1, 0)[0].record
    index = ReferenceIndex.build([item], ids=["mmlu-0"])
    question = item["messages"][0]["content"].split("\n\nA. ")[0]
    match = index.query_record(_chat(question, "Evenly on its surface."))
    assert match is not None and match.ref_id == "mmlu-0"
    assert index.query_record(_chat("Why is the sky blue on a clear day? Explain Rayleigh scattering.", "x")) is None
