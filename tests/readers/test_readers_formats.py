"""Format recognition (``is_*`` / ``detect_format``) and conversion rules, on tiny inline records."""

from __future__ import annotations

import pickle
from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from curation.errors import InputError
from curation.readers import (
    FieldMapping,
    SourceItem,
    convert_payload,
    detect_format,
    read_path,
    sniff_format,
)
from curation.records import content_hash, parse_record

U = {"role": "user", "content": "hi"}
A = {"role": "assistant", "content": "hello"}


def one(obj: dict | bytes, fmt: str | None = None, mapping: FieldMapping | None = None) -> dict:
    payload = obj if isinstance(obj, bytes) else orjson.dumps(obj)
    items = convert_payload(payload, fmt, mapping, path="x.jsonl", line=1, index=0)
    assert len(items) == 1 and items[0].error is None, items
    return items[0].record


@pytest.mark.parametrize(
    ("obj", "fmt"),
    [
        ({"messages": [U, A]}, "openai"),
        ({"conversations": [{"from": "human", "value": "q"}]}, "sharegpt"),
        ({"instruction": "i", "input": "", "output": "o"}, "alpaca"),
        ({"instruction": "i", "response": "o"}, "alpaca"),
        ({"instruction": "i", "instances": [{"input": "", "output": "o"}]}, "self_instruct"),
        ({"prompt": "p", "completion": "c"}, "prompt_completion"),
        ({"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: a\n\nAssistant: c"}, "preference"),
        ({"prompt": [U], "chosen": [A], "rejected": [A]}, "preference"),
        ({"input": {"messages": [U]}, "preferred_output": [A], "non_preferred_output": [A]}, "openai_dpo"),
        ({"message_tree_id": "t", "prompt": {"text": "q", "role": "prompter", "replies": []}}, "oasst"),
        ({"text": "just text"}, None),
        ({"instruction": "no output"}, None),
    ],
)
def test_detect_format(obj: dict, fmt: str | None) -> None:
    assert detect_format(obj) == fmt


def test_openai_role_aliases_mapped_and_turn_bookkeeping_set_aside() -> None:
    obj = {
        "id": 42,
        "messages": [
            {"role": "human", "content": "q", "mood": "x"},
            {"role": "assistant", "content": "a", "weight": 2},
        ],
        "tools": [{"name": "f", "parameters": {}}],
        "parallel_tool_calls": False,
        "topic": "t",
    }
    rec = one(obj)
    assert rec["id"] == "42"
    # a known alias is mapped, an unknown per-turn key moves to metadata, an odd weight stays for the checks
    assert rec["messages"] == [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 2}]
    assert rec["tools"] == [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    assert rec["parallel_tool_calls"] is False
    assert rec["metadata"] == {
        "source": {"path": "x.jsonl", "line": 1, "index": 0, "format": "openai"},
        "fields": {"topic": "t", "turn_fields": [{"side": "messages", "index": 0, "fields": {"mood": "x"}}]},
    }
    assert list(rec) == ["id", "messages", "tools", "parallel_tool_calls", "metadata"]


def test_openai_v1_fixes_are_idempotent() -> None:
    obj = {"messages": [{"role": "user", "content": [{"type": "text", "value": "q"}], "loss_weight": 0.0}]}
    rec = one(obj)
    # A prompt turn's loss_weight is dropped: only assistant turns carry weight in the canonical model.
    assert rec["messages"] == [{"role": "user", "content": [{"type": "text", "text": "q"}]}]
    again = one({"messages": rec["messages"]})
    assert again["messages"] == rec["messages"]
    odd = one({"messages": [{"role": "assistant", "content": "a", "loss_weight": 0.5}]})
    assert odd["messages"][0]["weight"] == 0.5  # kept for checks to report, never rounded silently


def test_canonical_records_read_back_unchanged() -> None:
    canonical = {
        "id": "c1",
        "messages": [U, A],
        "metadata": {"source": {"path": "old.jsonl", "line": 3, "index": 2, "format": "sharegpt"}, "language": "en"},
    }
    rec = one(canonical)
    assert rec["id"] == "c1" and rec["messages"] == [U, A]
    assert rec["metadata"]["language"] == "en" and rec["metadata"]["source"]["path"] == "x.jsonl"
    parse_record(rec)  # a valid canonical record
    pair = {"id": "p1", "prompt": [U], "chosen": [A], "rejected": [{"role": "assistant", "content": "no"}]}
    got = one(pair)
    assert (got["prompt"], got["chosen"], got["rejected"]) == (pair["prompt"], pair["chosen"], pair["rejected"])


def test_sharegpt_roles_system_and_tools() -> None:
    obj = {
        "conversations": [
            {"from": "system", "value": "be brief"},
            {"from": "human", "value": "weather?"},
            {"from": "function_call", "value": '[{"name": "w", "arguments": {"city": "Paris"}}, {"name": "t"}]'},
            {"from": "observation", "value": "sunny"},
            {"from": "function_response", "value": "12:00"},
            {"from": "tool", "value": "extra result without a call"},
            {"from": "chatgpt", "value": "Sunny, noon."},
            {"from": "function_call", "value": "not json"},
            {"from": "Customer", "value": "thanks", "weight": 0},
        ],
        "tools": '[{"name": "w", "parameters": {"type": "object"}}]',
    }
    msgs = one(obj)["messages"]
    assert [m["role"] for m in msgs] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "tool",
        "assistant",
        "assistant",
        "Customer",
    ]
    assert msgs[2]["tool_calls"] == [
        {"id": "call_0", "type": "function", "function": {"name": "w", "arguments": '{"city":"Paris"}'}},
        {"id": "call_1", "type": "function", "function": {"name": "t", "arguments": "{}"}},
    ]
    assert msgs[3]["tool_call_id"] == "call_0" and msgs[4]["tool_call_id"] == "call_1"
    assert "tool_call_id" not in msgs[5]  # no open call: checks report it
    assert msgs[7]["tool_calls"] == [
        {"id": "call_2", "type": "function", "function": {"name": "", "arguments": "not json"}}
    ]
    assert msgs[8] == {"role": "Customer", "content": "thanks", "weight": 0}
    assert one(obj)["tools"] == [{"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}]


def test_one_observation_holding_every_parallel_result_is_one_tool_message_per_call() -> None:
    # ToolACE (LLaMA-Factory layout): a list of calls, then ONE observation holding a JSON array of their results.
    # It answered only the first call, and every later result took the id left over (tool_result_orphan).
    obj = {
        "conversations": [
            {"from": "human", "value": "Time in New York and Tokyo?"},
            {"from": "function_call", "value": '[{"name": "tz", "arguments": {"city": "NY"}}, '
                                               '{"name": "tz", "arguments": {"city": "Tokyo"}}]'},
            {"from": "observation", "value": '[{"time": "9am"}, {"time": "10pm"}]'},
            {"from": "gpt", "value": "9am and 10pm."},
            {"from": "human", "value": "And Paris?"},
            {"from": "function_call", "value": '{"name": "tz", "arguments": {"city": "Paris"}}'},
            {"from": "observation", "value": '{"time": "3pm"}'},
            {"from": "gpt", "value": "3pm."},
        ],
    }
    msgs = one(obj)["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "tool", "tool", "assistant", "user", "assistant",
                                         "tool", "assistant"]
    assert [(m["tool_call_id"], m["content"]) for m in msgs if m["role"] == "tool"] == [
        ("call_0", '{"time":"9am"}'), ("call_1", '{"time":"10pm"}'), ("call_2", '{"time": "3pm"}')]
    assert msgs[4]["content"] == "9am and 10pm."


@pytest.mark.parametrize("results", [
    '[{"time": "9am"}]',  # one result for two calls: which call it answers is not guessed at
    '["a", "b", "c"]',
    "9am, 10pm",
])
def test_an_observation_that_does_not_hold_one_result_per_call_answers_the_first(results: str) -> None:
    obj = {"conversations": [
        {"from": "human", "value": "q"},
        {"from": "function_call", "value": '[{"name": "a", "arguments": {}}, {"name": "b", "arguments": {}}]'},
        {"from": "observation", "value": results},
        {"from": "gpt", "value": "done"},
    ]}
    tools = [m for m in one(obj)["messages"] if m["role"] == "tool"]
    assert [(m["tool_call_id"], m["content"]) for m in tools] == [("call_0", results)]  # call_1: unanswered


def test_separate_observations_after_parallel_calls_are_not_split() -> None:
    # Each result in its own turn, the first being a list: that list is one call's result.
    obj = {"conversations": [
        {"from": "human", "value": "q"},
        {"from": "function_call", "value": '[{"name": "a", "arguments": {}}, {"name": "b", "arguments": {}}]'},
        {"from": "observation", "value": '[1, 2]'},
        {"from": "observation", "value": '3'},
        {"from": "gpt", "value": "done"},
    ]}
    tools = [m for m in one(obj)["messages"] if m["role"] == "tool"]
    assert [(m["tool_call_id"], m["content"]) for m in tools] == [("call_0", "[1, 2]"), ("call_1", "3")]


def test_top_level_system_prepended_once() -> None:
    rec = one({"system": "S", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]})
    assert rec["messages"][0] == {"role": "system", "content": "S"}
    assert "fields" not in rec["metadata"]
    same = one({"system": "S", "messages": [{"role": "system", "content": "S"}, U]})
    assert [m["role"] for m in same["messages"]] == ["system", "user"]


def test_field_mapping_roles_for_sharegpt_and_custom_layout() -> None:
    mapping = FieldMapping(roles={"Customer": "user", "bot": "assistant"})
    rec = one({"conversations": [{"from": "Customer", "value": "q"}, {"from": "bot", "value": "a"}]}, None, mapping)
    assert [m["role"] for m in rec["messages"]] == ["user", "assistant"]
    custom = FieldMapping(messages="dialog", role="speaker", content="utterance", roles={"agent": "assistant"},
                          system="instructions", id="ticket")  # fmt: skip
    obj = {
        "ticket": "T-1",
        "instructions": "be nice",
        "dialog": [{"speaker": "user", "utterance": "q"}, {"speaker": "agent", "utterance": "a"}],
        "channel": "mail",
    }
    rec = one(obj, None, custom)
    assert rec["id"] == "T-1"
    assert rec["messages"] == [{"role": "system", "content": "be nice"}, {"role": "user", "content": "q"},
                               {"role": "assistant", "content": "a"}]  # fmt: skip
    assert rec["metadata"]["source"]["format"] == "mapped"
    assert rec["metadata"]["fields"] == {"channel": "mail"}
    strings = one({"turns": ["q", "a", "q2"]}, None, FieldMapping(messages="turns"))
    assert [m["role"] for m in strings["messages"]] == ["user", "assistant", "user"]
    with pytest.raises(ValidationError):
        FieldMapping(messages="x", speaker="y")  # extra="forbid"


def test_alpaca_input_history_system() -> None:
    rec = one(
        {
            "instruction": "Translate",
            "input": "chat",
            "output": "cat",
            "system": "You translate.",
            "history": [["hi", "hello"]],
            "status": "ok",
        }
    )
    assert rec["messages"] == [
        {"role": "system", "content": "You translate."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "Translate\n\nchat"},
        {"role": "assistant", "content": "cat"},
    ]
    assert rec["metadata"]["fields"] == {"status": "ok"}
    blank = one({"instruction": "Say hi", "input": "  ", "output": ""})
    assert blank["messages"] == [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": ""}]


def test_self_instruct_one_record_per_instance() -> None:
    obj = {
        "id": "t7",
        "instruction": "Add",
        "instances": [{"input": "1+1", "output": "2"}, {"input": "", "output": "0"}],
    }
    items = convert_payload(orjson.dumps(obj), None, path="s.jsonl", line=5, index=4)
    assert [i.record["id"] for i in items] == ["t7-0", "t7-1"]
    assert {(i.line, i.index) for i in items} == {(5, 4)}
    assert items[0].record["messages"][0]["content"] == "Add\n\n1+1"
    assert items[1].record["messages"][0]["content"] == "Add"
    no_id = convert_payload(orjson.dumps({k: v for k, v in obj.items() if k != "id"}), None)
    assert len({i.record["id"] for i in no_id}) == 2
    empty = convert_payload(orjson.dumps({"id": "e", "instruction": "x", "instances": []}), None)
    assert empty[0].error[0] == "empty_record"


def test_prompt_completion_strings_and_lists() -> None:
    assert one({"prompt": "2+2?", "completion": "4"})["messages"] == [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
    ]
    rec = one({"prompt": [{"role": "system", "content": "s"}, U], "completion": [A]})
    assert [m["role"] for m in rec["messages"]] == ["system", "user", "assistant"]


def test_preference_shapes() -> None:
    hh = one(
        {
            "chosen": "\n\nHuman: q1\n\nAssistant: a1\n\nHuman: q2\n\nAssistant: good",
            "rejected": "\n\nHuman: q1\n\nAssistant: a1\n\nHuman: q2\n\nAssistant: bad",
        }
    )
    assert hh["prompt"] == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
    ]
    assert hh["chosen"] == [{"role": "assistant", "content": "good"}]
    assert hh["rejected"] == [{"role": "assistant", "content": "bad"}]
    assert list(hh) == ["id", "prompt", "chosen", "rejected", "metadata"]
    trl_hh = one({"prompt": "\n\nHuman: q\n\nAssistant:", "chosen": " good", "rejected": " bad"})
    assert trl_hh["prompt"] == [{"role": "user", "content": "q"}]
    assert trl_hh["chosen"] == [{"role": "assistant", "content": " good"}]
    strings = one({"prompt": "q", "chosen": "good", "rejected": "bad"})
    assert strings["prompt"] == [{"role": "user", "content": "q"}]
    implicit = one({"prompt": [U], "chosen": [U, A], "rejected": [U, {"role": "assistant", "content": "no"}]})
    assert implicit["chosen"] == [A] and implicit["rejected"] == [{"role": "assistant", "content": "no"}]
    factory = one(
        {
            "system": "S",
            "conversations": [{"from": "human", "value": "q"}],
            "chosen": {"from": "gpt", "value": "good"},
            "rejected": {"from": "gpt", "value": "bad"},
        }
    )
    assert factory["prompt"] == [{"role": "system", "content": "S"}, {"role": "user", "content": "q"}]
    assert factory["chosen"] == [{"role": "assistant", "content": "good"}]
    alpaca_pref = one({"instruction": "i", "input": "x", "chosen": "good", "rejected": "bad"})
    assert alpaca_pref["prompt"] == [{"role": "user", "content": "i\n\nx"}]
    same = one({"chosen": [U, A], "rejected": [U, A]})
    assert same["prompt"] == [U] and same["chosen"] == same["rejected"] == [A]  # identical sides: checks report


def test_openai_dpo() -> None:
    rec = one(
        {
            "input": {"messages": [U], "tools": [{"type": "function", "function": {"name": "f"}}]},
            "preferred_output": [A],
            "non_preferred_output": [{"role": "assistant", "content": "meh"}],
        }
    )
    assert rec["prompt"] == [U] and rec["chosen"] == [A] and rec["rejected"][0]["content"] == "meh"
    assert rec["tools"][0]["function"]["name"] == "f"
    assert rec["metadata"]["source"]["format"] == "openai_dpo"


def test_oasst_tree_gives_one_record_per_path() -> None:
    tree = {
        "message_tree_id": "r",
        "prompt": {
            "message_id": "r", "role": "prompter", "text": "q", "lang": "de",
            "replies": [
                {"message_id": "a1", "role": "assistant", "text": "x",
                 "replies": [{"message_id": "u2", "role": "prompter", "text": "more?", "replies": []}]},
                {"message_id": "a2", "role": "assistant", "text": "y"},
            ],
        },
    }  # fmt: skip
    items = convert_payload(orjson.dumps(tree), None, line=1)
    assert [i.record["id"] for i in items] == ["u2", "a2"]
    assert [m["content"] for m in items[0].record["messages"]] == ["q", "x", "more?"]
    assert items[1].record["metadata"]["fields"] == {
        "message_tree_id": "r", "message_ids": ["r", "a2"], "tree_id": "r", "lang": "de",
    }
    items[0].record["metadata"]["source"]["line"] = 99  # records do not share mutable metadata
    assert items[1].record["metadata"]["source"]["line"] == 1


def test_ids_are_deterministic_content_hashes() -> None:
    obj = {"messages": [U, A], "extra": 1}
    first = convert_payload(orjson.dumps(obj), None, path="a.jsonl", line=1, index=0)[0].record
    again = convert_payload(orjson.dumps(obj), None, path="b.jsonl", line=9, index=8)[0].record
    assert first["id"] == again["id"] == content_hash(first)
    assert one({"messages": [U, {"role": "assistant", "content": "other"}]})["id"] != first["id"]
    assert one({"conversation_id": "conv-1", "messages": [U]})["id"] == "conv-1"


def test_errors_and_forced_format() -> None:
    with pytest.raises(InputError, match="unknown input format"):
        convert_payload(b"{}", "chatml")
    # a record that does not fit the file's format is recognised on its own
    (item,) = convert_payload(orjson.dumps({"prompt": "p", "completion": "c"}), "openai")
    assert item.format == "prompt_completion"
    (bad,) = convert_payload(orjson.dumps({"conversations": 5}), "sharegpt", line=3)
    assert bad.record["messages"] == 5  # kept for checks (messages must be a list)
    # a history that is not [question, answer] pairs is refused: skipping it trained the chat without those turns
    (typed,) = convert_payload(orjson.dumps({"instruction": "i", "output": "o", "history": 3}), None, line=2)
    assert typed.error == ("data_type", "line 2: history is int, expected a list of [question, answer] pairs "
                                        "(fix: write the earlier turns as such pairs)")
    (blank,) = convert_payload(orjson.dumps({"instruction": "i", "output": "o", "history": ""}), None, line=2)
    assert blank.error is None and len(blank.record["messages"]) == 2
    (weird,) = convert_payload(orjson.dumps({"message_tree_id": "t", "prompt": {"replies": 5}}), None, line=4)
    assert weird.error[0] == "data_type" and weird.error[1].startswith("line 4: cannot read as oasst")
    (scalar,) = convert_payload(b'"text"', None, index=3)
    assert scalar.error == ("data_type", 'element 3: a JSON string, expected an object like {"messages": [...]}')


def test_convert_is_picklable_for_workers() -> None:
    from concurrent.futures import ProcessPoolExecutor

    payloads = [orjson.dumps({"messages": [U, A], "n": i}) for i in range(3)]
    assert pickle.loads(pickle.dumps(convert_payload)) is convert_payload
    with ProcessPoolExecutor(max_workers=1) as pool:
        results = list(pool.map(convert_payload, payloads, ["openai"] * 3))
    assert [r[0].record["metadata"]["fields"]["n"] for r in results] == [0, 1, 2]
    assert isinstance(results[0][0], SourceItem)


def test_sniff_majority_and_read_path_forced(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [{"prompt": "p", "completion": "c"}] + [{"messages": [U, A]}] * 3 + [{"bogus": 1}]
    path.write_bytes(b"not json\n" + b"\n".join(orjson.dumps(x) for x in lines) + b"\n")
    assert sniff_format(path) == "openai"
    items = list(read_path(path))
    assert [i.format for i in items] == ["openai", "prompt_completion", "openai", "openai", "openai", "openai"]
    assert [i.error[0] if i.error else None for i in items] == ["not_json", None, None, None, None, "unknown_format"]
    with pytest.raises(InputError, match="unknown input format"):
        list(read_path(path, format="nope"))
    unknown = tmp_path / "u.jsonl"
    unknown.write_bytes(b'{"a": 1}\n')
    assert sniff_format(unknown) is None
    assert [i.error[0] for i in read_path(unknown)] == ["unknown_format"]


def test_a_mapped_turn_without_its_text_key_is_named_not_a_keyerror() -> None:
    # a photo-only Messenger message: "cannot read as mapped: KeyError: 'text'" lost the whole conversation
    from curation.checks import check_record
    from curation.readers.convert import convert_payload
    from curation.readers.mapping import FieldMapping

    mapping = FieldMapping(messages="dialog", role="speaker", content="text", roles={"A": "user", "B": "assistant"})
    [item] = convert_payload({"dialog": [{"speaker": "A", "text": "hi"}, {"speaker": "B"}]}, "mapped", mapping)
    assert item.error is None and item.record["messages"][1] == {"role": "assistant", "content": None}
    assert [f.code for f in check_record(item.record)] == ["missing_content"]


def test_a_mapping_may_name_a_nested_role_or_text_key() -> None:
    # DiscordChatExporter writes the speaker under author.name: `role: author.name` was silently ignored, and a
    # roles map over the dict role raised "TypeError: unhashable type: 'dict'" as the reject's text
    from curation.readers.convert import convert_payload
    from curation.readers.mapping import FieldMapping

    record = {"messages": [{"author": {"name": "Ann"}, "content": "hi"}, {"author": {"name": "Bot"}, "content": "yo"}]}
    mapping = FieldMapping(role="author.name", roles={"Ann": "user", "Bot": "assistant"})
    [item] = convert_payload(record, None, mapping)
    assert [(m["role"], m["content"]) for m in item.record["messages"]] == [("user", "hi"), ("assistant", "yo")]
    [plain] = convert_payload(record, None, FieldMapping(roles={"Ann": "user"}))
    assert plain.error is None and plain.record["messages"][0]["role"] == {"name": "Ann"}  # for the checks to name


def test_anthropic_image_blocks_are_image_parts() -> None:
    # {"type": "image", "source": {"type": "base64" | "url", ...}} was image_missing: "an image part but no image"
    from curation.checks import check_record
    from curation.readers.convert import convert_payload

    for source, url in (({"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
                         "data:image/png;base64,iVBORw0KGgo="),
                        ({"type": "url", "url": "https://example.com/a.jpg"}, "https://example.com/a.jpg")):
        [item] = convert_payload({"messages": [
            {"role": "user", "content": [{"type": "image", "source": source}, {"type": "text", "text": "What?"}]},
            {"role": "assistant", "content": "A cat."}]}, None)
        assert item.record["messages"][0]["content"][0] == {"type": "image_url", "image_url": {"url": url}}
        assert check_record(item.record) == []


def test_no_input_placeholders_are_no_input_and_unnatural_constraints_are_kept() -> None:
    # mobarski/alpaca-libre (tests/data/real): 373 prompts ended in "\n\n<noinput>"; code_alpaca writes "< noinput >";
    # Unnatural Instructions' `constraints` ("The output should be one of the two: True or False.") were dropped
    from curation.readers.convert import convert_payload

    for placeholder in ("<noinput>", "< noinput >", "<No Input>"):
        [item] = convert_payload({"instruction": "Say hi", "input": placeholder, "output": "hi"}, None)
        assert item.record["messages"][0]["content"] == "Say hi", placeholder
    [item] = convert_payload({"instruction": "Is it true?", "instances": [
        {"input": "S: fish fly", "constraints": "The output should be one of the two: True or False.",
         "output": "False"}]}, None)
    assert item.record["messages"][0]["content"] == (
        "Is it true?\n\nS: fish fly\n\nThe output should be one of the two: True or False.")


def test_a_mapping_names_the_two_fields_of_one_exchange() -> None:
    # CoT-Collection's source/target, Spider's question/query: unknown_format, and the hint's "pass a field
    # mapping" had no field that could say so
    from curation.readers.convert import convert_payload
    from curation.readers.mapping import FieldMapping

    row = {"source": "Which gas do plants take in?", "target": "Carbon dioxide.", "rationale": "r", "task": "qasc"}
    [unknown] = convert_payload(row, None)
    assert unknown.error[0] == "unknown_format" and "prompt/completion" in unknown.error[1]
    [item] = convert_payload(row, None, FieldMapping(prompt="source", completion="target"))
    assert item.record["messages"] == [{"role": "user", "content": "Which gas do plants take in?"},
                                       {"role": "assistant", "content": "Carbon dioxide."}]
    assert item.record["metadata"]["fields"] == {"rationale": "r", "task": "qasc"}


def test_an_empty_system_turn_is_left_out_not_the_whole_conversation() -> None:
    # {"from": "system", "value": ""} (ShareGPT conversions of OpenOrca-style data): the empty turn made the whole
    # record an empty_content reject
    from read_helpers import read

    for row in ({"conversations": [{"from": "system", "value": ""}, {"from": "human", "value": "hi"},
                                   {"from": "gpt", "value": "Hello!"}]},
                {"messages": [{"role": "system", "content": "  "}, {"role": "user", "content": "hi"},
                              {"role": "assistant", "content": "Hello!"}]},
                {"messages": [{"role": "developer", "content": None}, {"role": "user", "content": "hi"},
                              {"role": "assistant", "content": "Hello!"}]}):
        assert read(row)["messages"] == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!"}]
    # an empty user or assistant turn is still the checks' to judge
    item, = convert_payload(orjson.dumps({"messages": [{"role": "user", "content": ""},
                                                       {"role": "assistant", "content": "Hello!"}]}), None)
    assert item.record["messages"][0] == {"role": "user", "content": ""}
