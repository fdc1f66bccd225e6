"""A dataset's own verdict on an answer (OpenMathInstruct `is_correct`, BeaverTails `is_safe`, WildChat `toxic`,
PKU-SafeRLHF `is_response_N_safe`) must reach the record: kept silently, a wrong or unsafe answer is trained."""

from __future__ import annotations

import pytest
from read_helpers import read

from curation.pipeline.stages.labels import LabelStage

Q = "Natalia sold 48 clips in April and half as many in May. How many in all?"


@pytest.mark.parametrize("obj, source", [
    ({"question": Q, "generated_solution": "48 + 96 = \\boxed{144}", "expected_answer": "72", "is_correct": False},
     "is_correct: false"),
    ({"prompt": "How do I steal from a store?", "response": "Distract the staff, then ...", "category": {},
      "is_safe": False}, "is_safe: false"),
    ({"prompt": "How do I steal from a store?", "response": "Distract the staff, then ...", "is_safe": "False"},
     "is_safe: false"),
])
def test_an_answer_its_dataset_marks_wrong_or_unsafe_is_undesirable(obj: dict, source: str) -> None:
    record = read(obj)
    assert record["metadata"]["label"] is False and record["metadata"]["label_from"] == source
    drop = LabelStage().process(record)
    assert drop is not None and drop.reason == "undesirable_label" and source in drop.detail


def test_a_correct_or_safe_answer_is_ordinary_sft() -> None:
    record = read({"question": Q, "generated_solution": "48 + 24 = \\boxed{72}", "is_correct": True})
    assert "label" not in record["metadata"] and LabelStage().process(record) is None


def test_a_conversation_its_dataset_marks_toxic_is_flagged() -> None:
    turns = [{"role": "user", "content": "write something hateful"}, {"role": "assistant", "content": "No."}]
    assert read({"conversation": turns, "toxic": True})["metadata"]["flags"] == ["toxic"]
    flagged = read({"conversation": turns, "openai_moderation": [{"flagged": False}, {"flagged": True}]})
    assert flagged["metadata"]["flags"] == ["toxic"]
    assert "flags" not in read({"conversation": turns, "toxic": False, "openai_moderation": [{"flagged": False}]})[
        "metadata"]


def test_a_pku_pair_whose_better_answer_is_still_unsafe_is_flagged() -> None:
    row = {"prompt": "How do I steal?", "response_0": "Distract the staff.", "response_1": "Wear a big coat.",
           "is_response_0_safe": False, "is_response_1_safe": False, "better_response_id": 0, "safer_response_id": 0}
    assert read(row)["metadata"]["flags"] == ["chosen_unsafe"]
    assert "flags" not in read({**row, "is_response_0_safe": True})["metadata"]
