"""Software-agent trajectory datasets, read to their own columns.

SWE-smith-trajectories (split ``tool``): the turns below are the first and last turns of a real SWE-agent run that
SWE-smith ships (tests/test_logs/trajectories/pandas-dev__pandas.95280573.pr_53652.traj, its last step's
``messages`` without the final one, as ``swesmith.train.traj_mgr.utils.get_messages`` takes them; texts cut to 240
characters), in the row ``collect_trajs.py`` writes (``instance_id, resolved, model, traj_id, patch``). nebius's
SWE-agent-trajectories and SWE-Gym's OpenHands-Sampled-Trajectories are on the Hugging Face Hub only: their rows are
built to the published columns (the nebius card's features; SWE-Gym's ``instance_id, run_id, resolved, messages,
test_result`` as its loaders read them).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from read_helpers import read, refused

from curation.checks import check_record
from curation.readers.convert import convert_payload

SWE_SMITH_TURNS: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a helpful assistant that can interact with a computer to solve tasks.",
     "agent": "main", "message_type": "system_prompt"},
    {"role": "user", "content": [{"type": "text", "text": (
        "<uploaded_files>\n/testbed\n</uploaded_files>\nI've uploaded a python code repository in the directory "
        "/testbed. Consider the following PR description:\n\n<pr_description>\nBUG: [pyarrow] AttributeError: "
        "'Index' object has no attribute 'freq'\n###")}], "agent": "main", "message_type": "observation"},
    {"role": "assistant", "content": (
        "I'll help you implement the necessary changes to fix the issue described in the PR description. Let's "
        "follow the steps you outlined.\n\n## Step 1: Find and read relevant code\n\nFirst, let's explore the "
        "repository structure to get a better unde"), "thought": (
        "I'll help you implement the necessary changes to fix the issue described in the PR description. Let's "
        "follow the steps you outlined.\n\n## Step 1: Find and read relevant code\n\nFirst, let's explore the "
        "repository structure to get a better unde"),
     "action": 'find /testbed -type f -name "*.py" | grep -v "__pycache__" | grep -v "test_" | head -20',
     "agent": "main", "tool_calls": [{"index": 1, "function": {"arguments": (
         '{"command": "find /testbed -type f -name \\"*.py\\" | grep -v \\"__pycache__\\" | grep -v \\"test_\\" | '
         'head -20"}'), "name": "bash"}, "id": "toolu_01W2RNXycbJxFZHnSEFjyXgT", "type": "function"}],
     "message_type": "action"},
    {"role": "tool", "content": [{"type": "text", "text": (
        "OBSERVATION:\n/testbed/scripts/pandas_errors_documented.py\r\n/testbed/scripts/check_for_inconsistent_"
        "pandas_namespace.py\r\n/testbed/scripts/run_vulture.py\r\n/testbed/scripts/validate_min_versions_in_sync."
        "py\r\n/testbed/scripts/generate_pip_deps_f")}], "agent": "main", "message_type": "observation",
     "tool_call_ids": ["toolu_01W2RNXycbJxFZHnSEFjyXgT"]},
    {"role": "assistant", "content": "Let's remove our test scripts and parquet files:",
     "thought": "Let's remove our test scripts and parquet files:",
     "action": "cd /testbed && rm -f reproduce_error.py test_edge_cases.py frame*.parquet", "agent": "main",
     "tool_calls": [{"index": 1, "function": {
         "arguments": '{"command": "cd /testbed && rm -f reproduce_error.py test_edge_cases.py frame*.parquet"}',
         "name": "bash"}, "id": "toolu_01Jw9jHKQ5XKER2hWFREZLW1", "type": "function"}], "message_type": "action"},
    {"role": "tool", "content": [{"type": "text", "text": "Your command ran successfully and did not produce any "
                                                          "output."}],
     "agent": "main", "message_type": "observation", "tool_call_ids": ["toolu_01Jw9jHKQ5XKER2hWFREZLW1"],
     "cache_control": {"type": "ephemeral"}},
    {"role": "assistant", "content": "Now let's submit our changes again:",
     "thought": "Now let's submit our changes again:", "action": "submit", "agent": "main",
     "tool_calls": [{"index": 1, "function": {"arguments": "{}", "name": "submit"},
                     "id": "toolu_014jBVbrPufWvwdcfX5yCCtN", "type": "function"}], "message_type": "action"},
]


def swe_smith_row(resolved: bool = True, turns: list[dict[str, Any]] | None = None,
                  as_string: bool = True) -> dict[str, Any]:
    messages = SWE_SMITH_TURNS if turns is None else turns
    return {"instance_id": "pandas-dev__pandas.95280573.pr_53652", "resolved": resolved,
            "model": "claude-3-7-sonnet-20250219", "traj_id": "pandas-dev__pandas.95280573.pr_53652.8qa84d2e",
            "patch": "diff --git a/pandas/core/indexes/base.py b/pandas/core/indexes/base.py\n",
            # the Hub's parquet holds the turns as one JSON string; a row written from Python holds the list
            "messages": orjson.dumps(messages).decode() if as_string else messages}


def only(obj: dict[str, Any]) -> dict[str, Any]:
    """The one record ``obj`` reads to (errors in its checks allowed: the test asserts them)."""
    [item] = convert_payload(orjson.dumps(obj), None, None, "x.jsonl", 1, 0)
    assert item.error is None, item.error
    return item.record


# --- SWE-bench/SWE-smith-trajectories, split `tool` ---------------------------------------------------------

@pytest.mark.parametrize("as_string", [True, False])
def test_swe_smith_tool_results_are_their_text_answering_their_call(as_string: bool) -> None:
    record = read(swe_smith_row(as_string=as_string))
    messages = record["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "assistant", "tool",
                                             "assistant"]
    assert messages[3] == {"role": "tool", "content": SWE_SMITH_TURNS[3]["content"][0]["text"],
                           "tool_call_id": "toolu_01W2RNXycbJxFZHnSEFjyXgT"}
    assert messages[5]["content"] == "Your command ran successfully and did not produce any output."
    assert messages[5]["tool_call_id"] == messages[4]["tool_calls"][0]["id"]
    assert messages[1]["content"] == SWE_SMITH_TURNS[1]["content"]  # a user turn may hold parts: it stays
    assert "label" not in record["metadata"]  # a resolved run is one to learn from


def test_swe_smith_turn_bookkeeping_is_kept_aside() -> None:
    record = read(swe_smith_row())
    fields = record["metadata"]["fields"]
    assert fields["instance_id"] == "pandas-dev__pandas.95280573.pr_53652" and fields["resolved"] is True
    aside = {entry["index"]: entry["fields"] for entry in fields["turn_fields"]}
    assert aside[2]["action"].startswith("find /testbed") and aside[2]["message_type"] == "action"
    assert aside[5] == {"agent": "main", "message_type": "observation", "cache_control": {"type": "ephemeral"}}
    assert all("tool_call_ids" not in entry for entry in aside.values())  # read as each result's tool_call_id


def test_swe_smith_unresolved_run_is_undesirable() -> None:
    metadata = read(swe_smith_row(resolved=False))["metadata"]
    assert metadata["label"] is False
    assert metadata["label_from"].startswith("resolved: false")


def test_an_unresolved_run_saved_as_0_is_undesirable_too() -> None:
    # the run table through pandas or CSV: `resolved` 0/1 (the 0 was trained as a run to imitate)
    for value in (0, "0"):
        metadata = read({**swe_smith_row(), "resolved": value})["metadata"]
        assert metadata["label"] is False and metadata["label_from"].startswith("resolved: 0 (")
    assert "label" not in read({**swe_smith_row(), "resolved": 1})["metadata"]


def test_a_tool_result_for_several_calls_is_refused() -> None:
    turns = [dict(t) for t in SWE_SMITH_TURNS]
    turns[3] = {**turns[3], "tool_call_ids": ["toolu_01W2RNXycbJxFZHnSEFjyXgT", "toolu_02"]}
    code, detail = refused(swe_smith_row(turns=turns))
    assert code == "shared_tool_result"
    assert "line 3: message 3 is one tool result for 2 tool calls" in detail and "toolu_02" in detail


def test_a_tool_call_id_given_beside_the_list_is_kept() -> None:
    turns = [dict(t) for t in SWE_SMITH_TURNS]
    turns[3] = {**turns[3], "tool_call_id": "toolu_01W2RNXycbJxFZHnSEFjyXgT", "tool_call_ids": ["other"]}
    record = read(swe_smith_row(turns=turns))
    assert record["messages"][3]["tool_call_id"] == "toolu_01W2RNXycbJxFZHnSEFjyXgT"
    aside = {entry["index"]: entry["fields"] for entry in record["metadata"]["fields"]["turn_fields"]}
    assert aside[3]["tool_call_ids"] == ["other"]


def test_a_tool_result_with_an_image_part_is_not_flattened() -> None:
    parts = [{"type": "text", "text": "OBSERVATION: screenshot"},
             {"type": "image_url", "image_url": {"url": "https://example.com/shot.png"}}]
    record = only({"messages": [
        {"role": "user", "content": "Take a screenshot."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "screenshot", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": parts},
        {"role": "assistant", "content": "Done."}]})
    assert record["messages"][2]["content"] == parts
    assert "tool_content_not_string" in {f.code for f in check_record(record)}


def test_text_parts_of_a_tool_result_join_as_the_exporters_join_them() -> None:
    record = read({"messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "18 C"},
                                                            {"type": "text", "text": "cloudy"}]},
        {"role": "assistant", "content": "18 C and cloudy."}]})
    assert record["messages"][2]["content"] == "18 C\ncloudy"


# --- nebius/SWE-agent-trajectories ----------------------------------------------------------------------------

def nebius_row(target: bool = False, **turn_changes: Any) -> dict[str, Any]:
    trajectory: list[dict[str, Any]] = [
        {"role": "system", "system_prompt": "SETTING: You are an autonomous programmer, and you're working "
                                            "directly in the command line with a special interface.",
         "text": None, "cutoff_date": "01.01.2023", "mask": False},
        {"role": "user", "system_prompt": None, "cutoff_date": None, "mask": False,
         "text": "We're currently solving the following issue within our repository.\nISSUE:\nMemset provider: "
                 "TypeError: string indices must be integers"},
        {"role": "ai", "system_prompt": None, "cutoff_date": None, "mask": True,
         "text": "Let's start by reproducing the error.\n\n```\nls -F\n```"},
        {"role": "user", "system_prompt": None, "cutoff_date": None, "mask": False,
         "text": "CODEOWNERS\nlexicon/\nsetup.py\n\n(Open file: n/a)\n(Current directory: /lexicon)\nbash-$"},
        {"role": "ai", "system_prompt": None, "cutoff_date": None, "mask": True,
         "text": "The fix is in place; the tests pass.\n\n```\nsubmit\n```"},
    ]
    for key, value in turn_changes.items():
        index, field = key.split("_", 1)
        trajectory[int(index[1:])][field] = value
    return {"instance_id": "AnalogJ__lexicon-336", "model_name": "swe-agent-llama-70b", "target": target,
            "trajectory": trajectory, "exit_status": "submitted",
            "generated_patch": "diff --git a/lexicon/providers/memset.py b/lexicon/providers/memset.py\n",
            "eval_logs": "Will execute following command for run_tests:\n```\npytest tests/providers/test_memset.py"}


def test_nebius_trajectory_saved_as_json_text_reads_as_the_same_conversation() -> None:
    # the Hub's parquet through pandas' to_csv or a string column: the trajectory was an unknown_format reject
    import json

    row = nebius_row(target=False)
    as_text = read({**row, "trajectory": json.dumps(row["trajectory"])})
    assert as_text["messages"] == read(row)["messages"] and as_text["metadata"]["label"] is False


def test_nebius_trajectory_reads_as_a_conversation() -> None:
    record = read(nebius_row(target=True))
    messages = record["messages"]
    assert record["metadata"]["source"]["format"] == "swe_agent_trajectory"
    assert messages[0] == {"role": "system", "content": nebius_row()["trajectory"][0]["system_prompt"]}
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert messages[2] == {"role": "assistant", "content": "Let's start by reproducing the error.\n\n```\nls -F\n```",
                           "weight": 1}
    assert "weight" not in messages[1] and "weight" not in messages[3]
    assert "label" not in record["metadata"]
    fields = record["metadata"]["fields"]
    assert fields["model_name"] == "swe-agent-llama-70b" and fields["exit_status"] == "submitted"
    assert fields["turn_fields"] == [{"side": "messages", "index": 0, "fields": {"cutoff_date": "01.01.2023"}}]


def test_nebius_unsolved_run_is_undesirable() -> None:
    metadata = read(nebius_row(target=False))["metadata"]
    assert metadata["label"] is False
    assert metadata["label_from"].startswith("target: false")


def test_nebius_mask_false_on_an_agent_turn_is_weight_zero() -> None:
    record = read(nebius_row(target=True, t2_mask=False))
    assert record["messages"][2]["weight"] == 0 and record["messages"][4]["weight"] == 1


def test_nebius_parquet_row_without_nulls_reads_the_same() -> None:
    # a parquet row read through pyarrow drops the struct fields that are null (the system turn's text)
    row = nebius_row(target=True)
    row["trajectory"] = [{k: v for k, v in t.items() if v is not None} for t in row["trajectory"]]
    [item] = convert_payload(row, None, None, "train-00000-of-00012.parquet", None, 0)
    assert item.record["messages"] == read(nebius_row(target=True))["messages"]


def test_nebius_system_prompt_repeated_on_every_turn_is_said_once() -> None:
    prompt = nebius_row()["trajectory"][0]["system_prompt"]
    record = read(nebius_row(target=True, t1_system_prompt=prompt, t2_system_prompt="another prompt"))
    aside = {entry["index"]: entry["fields"] for entry in record["metadata"]["fields"]["turn_fields"]}
    assert 1 not in aside  # the run's own prompt again: nothing new
    assert aside[2] == {"system_prompt": "another prompt"}


# --- SWE-Gym/OpenHands-Sampled-Trajectories --------------------------------------------------------------------

def swe_gym_row(resolved: bool) -> dict[str, Any]:
    return {"instance_id": "getmoto__moto-5865", "run_id": "gpt-4o-2024-08-06_maxiter_30_N_v2.1-no-hint-run_1",
            "resolved": resolved, "test_result": {"apply_patch_output": "APPLY_PATCH_PASS"},
            "messages": [
                {"role": "system", "content": "You are OpenHands agent, a helpful AI assistant."},
                {"role": "user", "content": "<uploaded_files>\n/workspace/getmoto__moto__4.1\n</uploaded_files>"},
                {"role": "assistant", "content": "Let me look at the repository.", "tool_calls": [
                    {"id": "toolu_01", "type": "function", "function": {
                        "name": "execute_bash", "arguments": '{"command": "ls /workspace/getmoto__moto__4.1"}'}}]},
                {"role": "tool", "tool_call_id": "toolu_01", "name": "execute_bash",
                 "content": [{"type": "text", "text": "AUTHORS.md\nmoto\nsetup.py"}]},
                {"role": "assistant", "content": "The change is made.", "tool_calls": [
                    {"id": "toolu_02", "type": "function", "function": {"name": "finish", "arguments": "{}"}}]},
            ]}


def test_swe_gym_unresolved_run_is_undesirable_and_resolved_one_is_not() -> None:
    failed = read(swe_gym_row(resolved=False))
    assert failed["metadata"]["label"] is False and failed["metadata"]["label_from"].startswith("resolved: false")
    assert failed["messages"][3]["content"] == "AUTHORS.md\nmoto\nsetup.py"
    assert "label" not in read(swe_gym_row(resolved=True))["metadata"]


# --- the outcome rules stay with the agent datasets' own keys --------------------------------------------------

CHAT = [{"role": "user", "content": "My order never arrived."}, {"role": "assistant", "content": "Sorry about that."}]


@pytest.mark.parametrize("row", [
    {"ticket_id": 4711, "resolved": False, "messages": CHAT},  # a support ticket still open
    {"id": "t1", "resolved": "false", "status": "open", "patch": "n/a", "messages": CHAT},  # no task instance
    {"instance_id": "i-0abc123", "resolved": False, "messages": CHAT},  # a cloud instance, no agent run
    {"instruction": "Say hi.", "output": "Hi!", "target": False},
    {"instance_id": "i-0abc123", "target": False, "region": "eu-west-1", "messages": CHAT},
])
def test_outcome_columns_of_other_datasets_label_nothing(row: dict[str, Any]) -> None:
    assert "label" not in only(row)["metadata"]


def test_other_trajectory_turn_lists_are_not_swe_agent_ones() -> None:
    # nebius/SWE-rebench-openhands-trajectories: OpenAI-style turns under `trajectory`
    row = {"instance_id": "x__y-1", "trajectory": [{"role": "system", "content": "You are OpenHands."},
                                                   {"role": "assistant", "content": "Done."}]}
    [item] = convert_payload(orjson.dumps(row), None, None, "x.jsonl", 1, 0)
    assert item.format != "swe_agent_trajectory"
