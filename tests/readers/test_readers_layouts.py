"""Layouts beyond the classic ones: KTO labels, `conversation` with French roles, chosen_messages /
rejected_messages, OASST trees given as their root message; and whole files the readers cannot read."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from curation.readers import FileProblem, convert_payload, probe_input, read_path, sniff_format

KTO = "hiyouga__LLaMA-Factory/kto_en_demo.first40.json"


def _one(obj: dict) -> dict:
    items = convert_payload(json.dumps(obj).encode(), None)
    assert len(items) == 1 and items[0].error is None, items
    return items[0].record


def test_llama_factory_kto_file_keeps_its_labels(real_dir: Path) -> None:
    path = real_dir / KTO
    raw = json.loads(path.read_text())
    items = list(read_path(path))
    assert sniff_format(path) == "kto"
    assert [i.record["metadata"]["label"] for i in items] == [r["label"] for r in raw]
    assert Counter(i.record["metadata"]["label"] for i in items) == {True: 25, False: 15}
    # The label is the record's own metadata, not an unknown extra field; the turns are the file's.
    assert all("fields" not in i.record["metadata"] for i in items)
    assert items[0].record["messages"] == raw[0]["messages"]


@pytest.mark.parametrize(
    "obj",
    [
        {"prompt": "Hi?", "completion": "Hello.", "label": False},  # TRL KTOTrainer, standard
        {"prompt": [{"role": "user", "content": "Hi?"}], "completion": [{"role": "assistant", "content": "Hello."}],
         "label": False},  # TRL, conversational
        {"conversations": [{"from": "human", "value": "Hi?"}, {"from": "gpt", "value": "Hello."}], "kto_tag": False},
    ],
    ids=["trl", "trl-conversational", "sharegpt-kto_tag"],
)
def test_kto_layouts(obj: dict) -> None:
    record = _one(obj)
    assert record["metadata"]["source"]["format"] == "kto"
    assert record["metadata"]["label"] is False
    assert record["messages"] == [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]


def test_a_non_boolean_label_is_not_kto() -> None:
    record = _one({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
                   "label": "spam"})
    assert record["metadata"]["source"]["format"] == "openai"
    assert "label" not in {k for k in record["metadata"] if k != "fields"}
    assert record["metadata"]["fields"] == {"label": "spam"}


def test_conversation_key_with_upper_case_french_roles() -> None:
    record = _one({"id": "fr1", "conversation": [
        {"role": "UTILISATEUR", "content": "Quelle est la capitale de la France ?"},
        {"role": "ASSISTANT", "content": "Paris."},
    ]})
    assert record["metadata"]["source"]["format"] == "sharegpt"
    assert [m["role"] for m in record["messages"]] == ["user", "assistant"]
    assert record["id"] == "fr1"


def test_chosen_messages_and_rejected_messages() -> None:
    prompt = [{"role": "user", "content": "2+2?"}]
    record = _one({"prompt": "2+2?",
                   "chosen_messages": [*prompt, {"role": "assistant", "content": "4"}],
                   "rejected_messages": [*prompt, {"role": "assistant", "content": "5"}],
                   "chosen": "4", "rejected": "5", "score_chosen": 9})
    assert record["metadata"]["source"]["format"] == "preference"
    assert record["prompt"] == prompt
    assert record["chosen"] == [{"role": "assistant", "content": "4"}]
    assert record["rejected"] == [{"role": "assistant", "content": "5"}]
    assert record["metadata"]["fields"] == {"score_chosen": 9}


def test_chosen_messages_without_a_prompt_split_the_shared_prefix() -> None:
    prompt = [{"role": "user", "content": "2+2?"}]
    record = _one({"chosen_messages": [*prompt, {"role": "assistant", "content": "4"}],
                   "rejected_messages": [*prompt, {"role": "assistant", "content": "5"}]})
    assert (record["prompt"], record["chosen"][0]["content"], record["rejected"][0]["content"]) == (prompt, "4", "5")


def test_oasst_tree_rooted_at_the_prompt_message() -> None:
    tree = {
        "message_id": "root", "text": "Name a colour.", "role": "prompter", "lang": "en", "review_count": 3,
        "replies": [
            {"message_id": "a1", "text": "Blue.", "role": "assistant", "replies": [
                {"message_id": "u2", "text": "Another?", "role": "prompter", "replies": [
                    {"message_id": "a2", "text": "Red.", "role": "assistant", "replies": []}]}]},
            {"message_id": "b1", "text": "Green.", "role": "assistant"},
        ],
    }
    items = convert_payload(json.dumps(tree).encode(), None)
    assert [i.error for i in items] == [None, None]
    records = [i.record for i in items]
    assert {r["metadata"]["source"]["format"] for r in records} == {"oasst"}
    assert [r["id"] for r in records] == ["a2", "b1"]
    assert [[m["content"] for m in r["messages"]] for r in records] == [
        ["Name a colour.", "Blue.", "Another?", "Red."], ["Name a colour.", "Green."]]
    assert [m["role"] for m in records[0]["messages"]] == ["user", "assistant", "user", "assistant"]
    fields = records[0]["metadata"]["fields"]
    # Both paths carry the tree id (the root's message id), so a group-aware split can keep them together.
    assert {r["metadata"]["fields"]["message_tree_id"] for r in records} == {"root"}
    assert fields["message_ids"] == ["root", "a1", "u2", "a2"] and fields["review_count"] == 3


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("model.jsonl", b"\x00\x01\x02PK\x03\x04" + bytes(range(256)) * 4, "binary_file"),
        ("strings.jsonl", b'"just a string"\n"another one"\n', "not_json_file"),
        ("utf32.jsonl", '{"messages": []}\n'.encode("utf-32"), "utf16_file"),
    ],
)
def test_probe_input_names_a_file_level_problem(tmp_path: Path, name: str, data: bytes, code: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    problem = probe_input(path)
    assert isinstance(problem, FileProblem)
    assert (problem.path, problem.code) == (str(path), code)
    assert problem.hint and problem.message


def test_probe_input_of_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "ok.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"messages": [{"role": "user", "content": "a"}]}\n'))
    assert probe_input(path) == ("jsonl", "openai")
