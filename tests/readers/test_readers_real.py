"""Every real file in tests/data/real is read with its format recognised and the exact record count.

The counts were computed once by independent means (stdlib ``json``/``gzip``, not this package):
one record per JSONL line or JSON array element; OASST = number of leaves of each ``prompt`` tree
(recursive count of nodes without replies: 626 paths in 100 trees); self-instruct = sum of
``len(instances)`` (each task of these three files has exactly one instance).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from curation.readers import detect_container, expand_inputs, read_path, sniff_format

EXPECTED: dict[str, tuple[str, str, int]] = {
    # file: (container, format, records)
    "openai__openai-cookbook/toy_chat_fine_tuning.jsonl": ("jsonl", "openai", 5),
    # an eval output: question and reference solution are the pair; the model's generation (`code`) a field
    "NovaSky-AI__SkyThought/aime24_sky_t1_14b_3rows.jsonl": ("jsonl", "pair", 3),
    "OpenBMB__ToolBench/G1_demo_DFS_woFilter_w2.json": ("json", "sharegpt", 4),
    "OpenBMB__ToolBench/82217_ChatGPT_DFS_woFilter_w2.json": ("json_object", "toolbench_answer", 4),
    "OpenBMB__ToolBench/127_ChatGPT_DFS_woFilter_w2.json": ("json_object", "toolbench_answer", 3),
    "openai__openai-cookbook/drone_training.jsonl": ("jsonl", "openai", 103),
    "lm-sys__FastChat/dummy_conversation.json": ("json", "sharegpt", 500),
    "axolotl-ai-cloud__axolotl/alpaca.json": ("json", "alpaca", 2),
    "axolotl-ai-cloud__axolotl/conversation.json": ("json_object", "sharegpt", 1),
    "axolotl-ai-cloud__axolotl/conversation.missingturns.json": ("json_object", "sharegpt", 1),
    "axolotl-ai-cloud__axolotl/mistral_example_data.jsonl": ("jsonl", "sharegpt", 10),
    "hiyouga__LLaMA-Factory/identity.json": ("json", "alpaca", 91),
    "hiyouga__LLaMA-Factory/glaive_toolcall_en_demo.json": ("json", "sharegpt", 300),
    "hiyouga__LLaMA-Factory/v1_sft_demo.jsonl": ("jsonl", "openai", 500),
    "LAION-AI__Open-Assistant/en_100_tree.jsonl": ("jsonl", "oasst", 626),
    "mobarski__alpaca-libre/alpaca_libre_tasks_v1.jsonl": ("jsonl", "alpaca", 2375),
    "IlyaGusev__rulm/ru_alpaca_seed_tasks.jsonl": ("jsonl", "self_instruct", 137),
    "nlpai-lab__KULLM/user_oriented_instructions_eval.jsonl": ("jsonl", "self_instruct", 252),
    "yizhongw__self-instruct/user_oriented_instructions.jsonl": ("jsonl", "self_instruct", 252),
    "teknium1__GPTeacher/roleplay-simple-deduped-roleplay-instruct.json": ("json", "alpaca", 1923),
    "anthropics__hh-rlhf/harmless-base_test.jsonl.gz": ("jsonl", "preference", 2312),
    "bofenghuang__vigogne/oasst_20230412_fr_top1.jsonl": ("jsonl", "openai", 256),
    # The first 40 of LLaMA-Factory's 300 KTO demo records (25 label true, 15 false: stdlib json).
    "hiyouga__LLaMA-Factory/kto_en_demo.first40.json": ("json", "kto", 40),
    # typed text/reasoning/tool_call parts (50 lines)
    "hiyouga__LLaMA-Factory/reason_tool_use_demo_50.jsonl": ("jsonl", "openai", 50),
    # three preference records (stdlib json)
    "hiyouga__LLaMA-Factory/dpo_en_demo.arithmetic.json": ("json", "preference", 3),
    # 11 pretty-printed objects one after another (counted by a line "{" at the left margin)
    "openai__openai-cookbook/01-testing-example.jsonl": ("json_object", "openai", 11),
}
# Support-desk API fixtures: recognised, and refused where they hold no exchange (tests/readers/
# test_readers_support_desks.py): file -> (container, format, items, records read).
SUPPORT_DESK: dict[str, tuple[str, str, int, int]] = {
    "intercom__Intercom-OpenAPI/conversation_examples.json": ("json", "intercom", 14, 1),
    "sjkingo__python-freshdesk/ticket_1.json": ("json_object", "freshdesk", 1, 0),
    "sjkingo__python-freshdesk/conversations.json": ("json", "freshdesk", 2, 0),
}
# Pretty-printed objects one after another keep the line each starts on, like JSONL.
SEQUENCES = {"openai__openai-cookbook/01-testing-example.jsonl"}


def _read(real_dir: Path, name: str) -> list:
    return list(read_path(real_dir / name))


def test_every_real_file_is_listed(real_dir: Path) -> None:
    found = {p.relative_to(real_dir).as_posix() for p in expand_inputs([real_dir])}
    assert found == set(EXPECTED) | set(SUPPORT_DESK)


@pytest.mark.parametrize("name", sorted(SUPPORT_DESK))
def test_support_desk_fixtures_are_recognised(real_dir: Path, name: str) -> None:
    container, fmt, count, records = SUPPORT_DESK[name]
    path = real_dir / name
    assert detect_container(path) == container and sniff_format(path) == fmt
    items = list(read_path(path))
    assert len(items) == count and {i.format for i in items} == {fmt}
    assert sum(i.record is not None for i in items) == records
    assert {i.error[0] for i in items if i.error} <= {"one_sided_ticket"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_file_count_and_format(real_dir: Path, name: str) -> None:
    container, fmt, count = EXPECTED[name]
    path = real_dir / name
    assert detect_container(path) == container
    assert sniff_format(path) == fmt
    items = list(read_path(path))
    assert len(items) == count
    assert [i.error for i in items if i.error] == []
    assert {i.format for i in items} == {fmt}
    for item in items:
        source = item.record["metadata"]["source"]
        assert source == {"path": str(path), "line": item.line, "index": item.index, "format": fmt}
    # JSONL keeps true line numbers; arrays and single objects have none.
    assert all((i.line is not None) == (container == "jsonl" or name in SEQUENCES) for i in items)


def test_glaive_tool_calls_become_openai_tool_calls(real_dir: Path) -> None:
    items = _read(real_dir, "hiyouga__LLaMA-Factory/glaive_toolcall_en_demo.json")
    raw = json.loads((real_dir / "hiyouga__LLaMA-Factory/glaive_toolcall_en_demo.json").read_text())
    first = items[0].record
    call_msg = first["messages"][3]
    assert call_msg["role"] == "assistant" and "content" not in call_msg
    assert call_msg["tool_calls"] == [
        {
            "id": "call_0",
            "type": "function",
            "function": {"name": "search_recipes", "arguments": '{"ingredients":["chicken","bell peppers","rice"]}'},
        }
    ]
    assert first["messages"][4]["role"] == "tool" and first["messages"][4]["tool_call_id"] == "call_0"
    # tools was a JSON string: now the OpenAI list shape.
    assert first["tools"][0]["type"] == "function" and first["tools"][0]["function"]["name"] == "search_recipes"
    roles = Counter(m["role"] for i in items for m in i.record["messages"])
    sources = Counter(t["from"] for r in raw for t in r["conversations"])
    assert roles["tool"] == sources["observation"] == 211
    assert sum(1 for i in items for m in i.record["messages"] if "tool_calls" in m) == sources["function_call"]
    assert roles["user"] == sources["human"] and roles["assistant"] == sources["gpt"] + sources["function_call"]
    # every tool message answers a call made earlier in the same conversation
    for item in items:
        made: set[str] = set()
        for m in item.record["messages"]:
            made.update(c["id"] for c in m.get("tool_calls", []))
            if m["role"] == "tool":
                assert m["tool_call_id"] in made
    # 35 exact duplicates have no id of their own: same content -> same content-hash id
    assert len(items) - len({i.record["id"] for i in items}) == 35


def test_hh_transcripts_split_into_prompt_chosen_rejected(real_dir: Path) -> None:
    items = _read(real_dir, "anthropics__hh-rlhf/harmless-base_test.jsonl.gz")
    first = items[0].record
    assert [m["role"] for m in first["prompt"]] == ["user", "assistant", "user", "assistant", "user"]
    assert first["prompt"][0]["content"] == "what are some pranks with a pen i can do?"
    assert first["chosen"] == [
        {
            "role": "assistant",
            "content": "No, sorry!  All of these involve a pen, the point is that you can get funny results by "
            "doing pranks with pens.",
        }
    ]
    assert first["rejected"][0]["content"].startswith("There are lots of funny things you can do with pens")
    for item in items:
        rec = item.record
        assert rec["chosen"] and rec["rejected"]
        assert "messages" not in rec
    # "differ in the last Assistant turn in almost every record": one-message tails are the norm
    single = sum(1 for i in items if len(i.record["chosen"]) == 1 and len(i.record["rejected"]) == 1)
    assert single > 0.9 * len(items)


def test_v1_sft_parts_and_weights(real_dir: Path) -> None:
    items = _read(real_dir, "hiyouga__LLaMA-Factory/v1_sft_demo.jsonl")
    first = items[0].record["messages"]
    assert first[0] == {"role": "user", "content": [{"type": "text", "text": "hi"}]}
    assert first[1]["weight"] == 1 and first[1]["content"][0]["text"].startswith("Hello! I am {{name}}")
    for item in items:
        for m in item.record["messages"]:
            assert "loss_weight" not in m
            assert type(m["weight"]) is int if m["role"] == "assistant" else "weight" not in m
            assert all("value" not in p for p in m["content"])


def test_oasst_paths_and_leaf_ids(real_dir: Path) -> None:
    items = _read(real_dir, "LAION-AI__Open-Assistant/en_100_tree.jsonl")
    first_tree = [i for i in items if i.line == 1]
    assert len({i.record["id"] for i in items}) == 626  # leaf message ids are unique
    assert all(i.index == 0 for i in first_tree) and len(first_tree) > 1
    rec = first_tree[0].record
    assert rec["messages"][0] == {"role": "user", "content": "How can I find the best 401k plan for my needs?"}
    assert rec["id"] == rec["metadata"]["fields"]["message_ids"][-1]
    assert rec["metadata"]["fields"]["message_tree_id"] == "054e1df3-35e0-4bb8-a585-607dbdcd24e0"
    for item in items:
        roles = [m["role"] for m in item.record["messages"]]
        assert roles[0] == "user" and set(roles) <= {"user", "assistant"}
        assert all(a != b for a, b in zip(roles, roles[1:], strict=False))  # a path alternates speakers


def test_oasst_paths_through_a_lower_ranked_reply_are_flagged(real_dir: Path) -> None:
    # The reviewers' ranking of sibling replies must survive: the top-1 recipe keeps only rank-0 replies.
    items = _read(real_dir, "LAION-AI__Open-Assistant/en_100_tree.jsonl")
    flagged = 0
    for item in items:
        record = item.record
        ranks = record["metadata"]["fields"].get("ranks") or [None] * len(record["messages"])
        below = any(m["role"] == "assistant" and (r or 0) > 0 for m, r in zip(record["messages"], ranks, strict=True))
        assert below == ("lower_ranked_reply" in record["metadata"].get("flags", []))
        flagged += below
    assert 0 < flagged < len(items)
    top = [i for i in items if "flags" not in i.record["metadata"]]
    assert {i.line for i in top} == {i.line for i in items}  # every tree keeps a path of rank-0 replies


def test_customer_role_kept_verbatim(real_dir: Path) -> None:
    items = _read(real_dir, "axolotl-ai-cloud__axolotl/mistral_example_data.jsonl")
    assert [m["role"] for m in items[0].record["messages"]] == ["Customer", "assistant"]


def test_alpaca_fields_and_input_join(real_dir: Path) -> None:
    libre = _read(real_dir, "mobarski__alpaca-libre/alpaca_libre_tasks_v1.jsonl")
    assert libre[0].record["metadata"]["fields"] == {"status": "too similar", "similarity": 0.909}
    assert Counter(i.record["metadata"]["fields"]["status"] for i in libre)["ok"] > 0
    axo = _read(real_dir, "axolotl-ai-cloud__axolotl/alpaca.json")
    user = axo[0].record["messages"][0]["content"]
    assert user.endswith("on its own line.\n\nWords: ['Hello', 'world'].")
    teacher = _read(real_dir, "teknium1__GPTeacher/roleplay-simple-deduped-roleplay-instruct.json")
    assert teacher[0].record["messages"][1]["content"].startswith("The scene of the crime")  # `response` key


def test_self_instruct_ids_and_fields(real_dir: Path) -> None:
    items = _read(real_dir, "IlyaGusev__rulm/ru_alpaca_seed_tasks.jsonl")
    rec = items[0].record
    assert rec["id"] == "seed_task_0-0"
    assert rec["metadata"]["fields"]["name"] == "breakfast_suggestion"
    assert "instances" not in rec["metadata"]["fields"]


def test_drone_tool_calls_kept_as_is(real_dir: Path) -> None:
    items = _read(real_dir, "openai__openai-cookbook/drone_training.jsonl")
    rec = items[0].record
    assert rec["parallel_tool_calls"] is False and len(rec["tools"]) == 16
    assert rec["messages"][2]["tool_calls"][0]["function"]["name"] == "takeoff_drone"
    assert "content" not in rec["messages"][2]


def test_single_object_file_keeps_empty_reply(real_dir: Path) -> None:
    (item,) = _read(real_dir, "axolotl-ai-cloud__axolotl/conversation.missingturns.json")
    assert item.record["messages"][1] == {"role": "assistant", "content": ""}
    (full,) = _read(real_dir, "axolotl-ai-cloud__axolotl/conversation.json")
    assert len(full.record["messages"]) == 12


def test_vigogne_ids_kept(real_dir: Path) -> None:
    items = _read(real_dir, "bofenghuang__vigogne/oasst_20230412_fr_top1.jsonl")
    assert items[0].record["id"] == "oasst-20230412-fr-00000000"
    assert items[0].record["messages"][0]["role"] == "user"
    assert "/" in items[0].record["messages"][1]["content"]  # JSON escape \/ decoded


def test_cookbook_pretty_records_keep_their_raw_line_breaks_and_start_lines(real_dir: Path) -> None:
    name = "openai__openai-cookbook/01-testing-example.jsonl"
    text = (real_dir / name).read_text(encoding="utf-8")
    starts = [n for n, line in enumerate(text.split("\n"), 1) if line == "{"]
    items = _read(real_dir, name)
    assert [i.line for i in items] == starts
    answer = items[7].record["messages"][2]["content"]
    assert answer.startswith("If you visit our main website")
    assert "criteria is:\n\n            OPTION #1. Term:\tFall" in answer
