"""LangChain message dumps (``messages_to_dict`` and ``dumpd``) and LangSmith ``llm`` runs read as conversations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from read_helpers import read

from curation.readers.convert import convert_payload, read_path


def _items(obj: Any) -> list[Any]:
    return convert_payload(orjson.dumps(obj), None, None, "lc.jsonl", 1, 0)


def _dict(kind: str, content: Any, **data: Any) -> dict[str, Any]:
    return {"type": kind, "data": {"content": content, "type": kind, "additional_kwargs": {}, "id": None, **data}}


def _dumpd(cls: str, content: Any, **kwargs: Any) -> dict[str, Any]:
    return {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", cls],
            "kwargs": {"content": content, **kwargs}}


def test_messages_to_dict_turns_are_read_by_their_type() -> None:
    record = read({"messages": [_dict("human", "hi there, what's 2+2?"), _dict("ai", "2+2 is 4.")]})
    assert record["messages"] == [{"role": "user", "content": "hi there, what's 2+2?"},
                                  {"role": "assistant", "content": "2+2 is 4."}]


def test_dumpd_turns_with_tool_calls_and_tool_results() -> None:
    record = read({"messages": [
        _dumpd("SystemMessage", "Be brief.", type="system"),
        _dumpd("HumanMessage", "Weather in Lima?", type="human"),
        _dumpd("AIMessage", "", type="ai", tool_calls=[{"name": "get_weather", "args": {"city": "Lima"},
                                                         "id": "call_l", "type": "tool_call"}]),
        _dumpd("ToolMessage", "19°C", type="tool", tool_call_id="call_l"),
        _dumpd("AIMessage", "It is 19°C in Lima.", type="ai")]})
    assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    assert record["messages"][2]["tool_calls"] == [
        {"id": "call_l", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Lima"}'}}]
    assert record["messages"][3] == {"role": "tool", "tool_call_id": "call_l", "content": "19°C"}


def test_a_bare_list_of_langchain_messages_is_one_conversation(tmp_path: Path) -> None:
    turns = [_dict("human", "hi"), _dict("ai", "hello")]
    (line,) = _items(turns)
    assert line.error is None and line.format == "langchain" and len(line.record["messages"]) == 2
    (dumped,) = _items([_dumpd("HumanMessage", "hi"), _dumpd("AIMessage", "hello")])
    assert dumped.error is None and dumped.record["messages"][1] == {"role": "assistant", "content": "hello"}
    path = tmp_path / "history.json"
    path.write_bytes(orjson.dumps(turns))
    (item,) = list(read_path(path))
    assert item.error is None and len(item.record["messages"]) == 2


def _run(finish_reason: str, text: str = "Go to Settings > Security.") -> dict[str, Any]:
    return {"id": "run-1", "name": "ChatOpenAI", "run_type": "llm",
            "inputs": {"messages": [[_dumpd("HumanMessage", "How do I reset my password?", type="human")]]},
            "outputs": {"generations": [[{"text": text, "generation_info": {"finish_reason": finish_reason},
                                          "type": "ChatGeneration",
                                          "message": _dumpd("AIMessage", text, type="ai")}]],
                        "llm_output": {"model_name": "gpt-4o-mini"}}}


def test_a_langsmith_llm_run_is_its_prompt_and_first_generation() -> None:
    record = read(_run("stop"))
    assert record["messages"] == [{"role": "user", "content": "How do I reset my password?"},
                                  {"role": "assistant", "content": "Go to Settings > Security."}]
    assert record["metadata"]["fields"]["name"] == "ChatOpenAI"


def test_a_langsmith_llm_run_cut_off_for_length_is_refused() -> None:
    (item,) = _items(_run("length", "Go to Settings and"))
    assert item.record is None and item.error[0] == "incomplete_answer"
    assert "'length'" in item.error[1]
