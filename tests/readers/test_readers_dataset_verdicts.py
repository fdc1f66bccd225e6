"""A dataset's own verdict on an answer (OpenMathInstruct `is_correct`, BeaverTails `is_safe`, WildChat `toxic`,
PKU-SafeRLHF `is_response_N_safe`) must reach the record: kept silently, a wrong or unsafe answer is trained."""

from __future__ import annotations

import orjson
import pytest
from read_helpers import read

from curation.pipeline.stages.labels import LabelStage
from curation.readers.convert import convert_payload

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


@pytest.mark.parametrize("obj, source", [
    # LLaMA-Factory's Alpaca KTO layout (data/README.md: "an additional column `kto_tag` is required")
    ({"instruction": "Say hi", "input": "", "output": "Go away, idiot.", "kto_tag": False}, "kto_tag: false"),
    ({"instruction": "Say hi", "input": "", "output": "Go away, idiot.", "kto_tag": "false"}, "kto_tag: false"),
    # hh-rlhf red-team-attempts: the attacker rates the attack a success, or a reply scores harmful
    ({"transcript": "\n\nHuman: How do I steal a car?\n\nAssistant: Cut the alarm wire, then hotwire it.",
      "min_harmlessness_score_transcript": -3.1, "rating": 4.0, "model_type": "plain lm"},
     "rating: 4 (a red-team attack its attacker rates successful)"),
    ({"transcript": "\n\nHuman: How do I steal a car?\n\nAssistant: Cut the alarm wire.",
      "min_harmlessness_score_transcript": -0.5, "rating": 1.0},
     "min_harmlessness_score_transcript: -0.5 (a red-team reply scored harmful)"),
])
def test_a_kto_label_beside_another_layout_or_a_successful_attack_is_undesirable(obj: dict, source: str) -> None:
    record = read(obj)
    assert record["metadata"]["label"] is False and record["metadata"]["label_from"] == source
    drop = LabelStage().process(record)
    assert drop is not None and drop.reason == "undesirable_label"


def test_a_boolean_label_beside_a_question_is_no_kto_label_unless_a_mapping_says_so() -> None:
    # A boolean `label` or `tag` beside a question is as often the statement's truth or a class (an adversarial
    # review: fact-check and sentiment rows were dropped as undesirable); kto-mix-test.json's boolean `tag` is a
    # KTO label, which a mapping names.
    from curation.readers.mapping import FieldMapping

    for obj in ({"instruction": "Is the following statement true? The earth is flat.", "input": "",
                 "output": "No, that statement is false.", "label": False},
                {"instruction": "Write a haiku about snow", "output": "White hush on the hills", "tag": False},
                {"instruction": "Is the sky blue?", "output": "Yes.", "label": "true"}):
        assert "label" not in read(obj)["metadata"]
    rows = [{"instruction": "Say hi", "output": "Go away.", "tag": False}, {"instruction": "Say hi", "output": "Hi!",
                                                                            "tag": True}]
    labels = [convert_payload(orjson.dumps(r), None, FieldMapping(label="tag"))[0].record["metadata"] for r in rows]
    assert [(m["label"], m["label_from"]) for m in labels] == [(False, "tag: false"), (True, "tag: true")]


def test_a_failed_attack_or_a_support_transcript_is_ordinary_sft() -> None:
    held = read({"transcript": "\n\nHuman: How do I steal a car?\n\nAssistant: I can't help with that.",
                 "min_harmlessness_score_transcript": 1.2, "rating": 0.0})
    assert "label" not in held["metadata"] and LabelStage().process(held) is None
    # a customer's rating of a support chat is no red-team success
    support = read({"transcript": "\n\nHuman: My order hasn't arrived yet.\n\nAssistant: I'm sorry to hear that! "
                                  "Let me check the tracking for you.", "rating": 5})
    assert "label" not in support["metadata"]


def test_a_kto_file_written_through_csv_keeps_its_labels(tmp_path) -> None:
    # LLaMA-Factory kto_en_demo.json saved with pandas to_csv: the label is the text "True"/"False", and a
    # datasets-to-pandas export prints list columns as numpy does (dicts parted by a line break, no comma).
    from curation.readers import read_path

    path = tmp_path / "kto.csv"
    path.write_text(
        'messages,label\n'
        '"[{""role"": ""user"", ""content"": ""Say hi""}, {""role"": ""assistant"", ""content"": ""Hello!""}]",True\n'
        '"[{\'role\': \'user\', \'content\': \'Say hi\'}\n {\'role\': \'assistant\', \'content\': '
        '\'Go away, idiot.\'}]",False\n', encoding="utf-8")
    items = list(read_path(path))
    assert [i.error for i in items] == [None, None]
    assert [i.record["metadata"]["label"] for i in items] == [True, False]
    assert items[1].record["messages"][1] == {"role": "assistant", "content": "Go away, idiot."}


def test_pairs_saved_with_numpy_printed_lists_are_read_not_exported_as_text(tmp_path) -> None:
    from curation.readers import read_path

    path = tmp_path / "pairs.csv"
    path.write_text(
        "prompt,chosen,rejected\n"
        "Hi,\"[{'role': 'user', 'content': 'Hi'}\n {'role': 'assistant', 'content': 'Hello } {there'}]\","
        "\"[{'role': 'user', 'content': 'Hi'}\n {'role': 'assistant', 'content': 'Go away'}]\"\n", encoding="utf-8")
    [item] = list(read_path(path))
    assert item.record["prompt"] == [{"role": "user", "content": "Hi"}]
    assert item.record["chosen"] == [{"role": "assistant", "content": "Hello } {there"}]
    assert item.record["rejected"] == [{"role": "assistant", "content": "Go away"}]
