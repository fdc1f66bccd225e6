"""ToolBench (OpenBMB/ToolBench, Apache-2.0): its ToolLLaMA training file (ShareGPT turns whose calls are ReAct
text, the API list a Python literal in the system prompt) and its DFS answer files (OpenAI legacy function
calling in ``answer_generation.train_messages``), read as tool calls. The fixtures are real files of the repo
(tests/data/real/README.md); rows edited here start from them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from read_helpers import read, refused

from curation.checks import check_record, has_error
from curation.readers import read_path

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "OpenBMB__ToolBench"
PROCESSED = REAL / "G1_demo_DFS_woFilter_w2.json"
ANSWER = REAL / "82217_ChatGPT_DFS_woFilter_w2.json"
GAVE_UP = REAL / "127_ChatGPT_DFS_woFilter_w2.json"


def _records(path: Path) -> list[dict[str, Any]]:
    items = list(read_path(str(path)))
    assert all(it.error is None for it in items), [it.error for it in items]
    return [it.record for it in items]


def _names(tools: list[dict[str, Any]]) -> list[str]:
    return [t["function"]["name"] for t in tools]


def test_toolllama_react_turns_read_as_tool_calls_and_finish_as_the_reply() -> None:
    records = _records(PROCESSED)
    assert len(records) == 4
    last = records[-1]
    roles = [m["role"] for m in last["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant", "tool", "assistant"]
    calls = [m["tool_calls"][0] for m in last["messages"] if m.get("tool_calls")]
    assert [c["function"]["name"] for c in calls] == [
        "love_quote_for_olato_quotes", "success_quote_for_olato_quotes", "motivation_quote_for_olato_quotes"]
    assert [c["function"]["arguments"] for c in calls] == ["{}", "{}", "{}"]
    results = [m for m in last["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in results] == [c["id"] for c in calls]
    assert results[0]["content"].startswith('{"error": "", "response": ')
    final = last["messages"][-1]
    # Finish(give_answer) is the reply: its final_answer, the thought before it the reasoning
    assert final["content"].startswith("Here are some meaningful quotes that you can include in the decorations")
    assert "Action" not in final["content"] and final["reasoning"].startswith("For your surprise party")
    # the API list of the system prompt is the record's tools, without Finish once nothing calls it
    assert _names(last["tools"]) == ["love_quote_for_olato_quotes", "success_quote_for_olato_quotes",
                                     "motivation_quote_for_olato_quotes"]
    assert last["tools"][0]["function"]["parameters"]["type"] == "object"
    for record in records:
        assert not has_error(check_record(record)), check_record(record)
        assert all(m["role"] != "function" for m in record["messages"])


def _processed_row() -> dict[str, Any]:
    return copy.deepcopy(json.loads(PROCESSED.read_text())[1])  # Step 4: one call, its result, one more call


def test_a_finish_that_gives_up_makes_the_run_undesirable() -> None:
    row = _processed_row()
    row["conversations"][-1]["value"] = ('\nThought: The API fails.\nAction: Finish\nAction Input: {\n  '
                                         '"return_type": "give_up_and_restart"\n}')
    record = read(row)
    assert record["metadata"]["label"] is False
    assert "give_up_and_restart" in record["metadata"]["label_from"]
    assert record["messages"][-1]["tool_calls"][0]["function"]["name"] == "Finish"
    assert "Finish" in _names(record["tools"])  # still called: still a tool


def test_action_input_that_is_no_json_stays_the_calls_arguments_for_the_checks(tmp_path: Path) -> None:
    row = _processed_row()
    row["conversations"][2]["value"] = "\nThought: \nAction: love_quote_for_olato_quotes\nAction Input: {'a': "
    record = _read_rows([row], tmp_path)[0]
    call = record["messages"][2]["tool_calls"][0]
    assert call["function"]["arguments"] == "{'a':"
    assert record["messages"][3]["role"] == "tool"


def test_an_action_the_prompt_does_not_list_stays_text(tmp_path: Path) -> None:
    row = _processed_row()
    row["conversations"][2]["value"] = "\nThought: \nAction: delete_everything\nAction Input: {}"
    record = _read_rows([row], tmp_path)[0]
    assert record["messages"][2]["content"].endswith("Action: delete_everything\nAction Input: {}")
    assert "tool_calls" not in record["messages"][2]


def test_a_whole_react_transcript_in_one_turn_stays_text() -> None:
    # Qwen's ReAct prompt: the model's observations inside its own turn, not a call awaiting a result
    row = _processed_row()
    row["conversations"] = row["conversations"][:2] + [{"from": "assistant", "value": (
        "Thought: I need a quote.\nAction: love_quote_for_olato_quotes\nAction Input: {}\nObservation: {'quote': "
        "'x'}\nThought: I now know the final answer\nFinal Answer: x")}]
    record = read(row)
    assert "tool_calls" not in record["messages"][-1]


def _read_rows(rows: list[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    """Rows whose calls the checks refuse, read as a file (``read`` insists on a record without errors)."""
    path = folder / "rows.json"
    path.write_text(json.dumps(rows))
    return [it.record for it in read_path(str(path))]


def test_dfs_answer_files_read_each_step_with_legacy_calls_as_tool_calls() -> None:
    records = _records(ANSWER)
    # the fourth step ends in a thought alone, which the fifth continues with Finish: no record of its own
    assert [len(r["messages"]) for r in records] == [3, 5, 7, 9]
    last = records[-1]
    assert [m["role"] for m in last["messages"]] == ["system", "user", "assistant", "tool", "assistant", "tool",
                                                     "assistant", "tool", "assistant"]
    results = [m for m in last["messages"] if m["role"] == "tool"]
    calls = [m["tool_calls"][0] for m in last["messages"] if m.get("tool_calls")]
    assert [m["tool_call_id"] for m in results] == [c["id"] for c in calls]
    assert all("name" not in m and "function_call" not in m for m in last["messages"])
    # a turn of thought alone, then Finish(give_answer): one reply, the thought its reasoning
    final = last["messages"][-1]
    assert final["content"].startswith("Here are some meaningful quotes")
    assert final["reasoning"]
    assert "Finish" not in _names(last["tools"]) and len(last["tools"]) == 3
    assert last["metadata"]["fields"]["finish_type"] == "give_answer"
    assert "tree" not in last["metadata"]["fields"] and "compare_candidates" not in last["metadata"]["fields"]
    for record in records:
        assert not has_error(check_record(record)), check_record(record)


def test_a_query_the_search_gave_up_on_is_undesirable() -> None:
    records = _records(GAVE_UP)
    assert len(records) == 3
    assert {r["metadata"]["label"] for r in records} == {False}
    assert records[-1]["messages"][-1]["tool_calls"][0]["function"]["name"] == "Finish"


def test_a_query_without_a_valid_answer_is_refused() -> None:
    row = json.loads(ANSWER.read_text())
    row["answer_generation"]["valid_data"] = False
    del row["answer_generation"]["train_messages"]
    code, detail = refused(row)
    assert code == "empty_record"
    assert "valid_data: false" in detail


@pytest.mark.parametrize("path", [PROCESSED, ANSWER, GAVE_UP])
def test_every_record_converts_to_an_openai_line(path: Path) -> None:
    # read as text, every file was refused at export: function_call_legacy (a function turn answering no call)
    from curation.exporters.chat import conversation
    from curation.exporters.openai import OPENAI_RULES

    for record in _records(path):
        flags: set[str] = set()
        assert conversation(record, OPENAI_RULES, flags) is not None, flags
        assert flags <= {"reasoning_dropped"}
