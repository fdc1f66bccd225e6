"""`curate run` over OpenAI tool calls written without ids: `curate inspect` passed them, and every chat export
then refused them (tool_missing_call_id), so a run with an export wrote none."""

from __future__ import annotations

from pathlib import Path

import orjson

from curation.cli import main

CITIES = ["Beijing", "Paris", "Rome", "Oslo", "Lima", "Cairo", "Delhi", "Tokyo", "Quito", "Dakar", "Hanoi", "Sofia"]


def test_calls_without_ids_reach_the_openai_export(tmp_path: Path) -> None:
    data = tmp_path / "calls.jsonl"
    data.write_bytes(b"".join(orjson.dumps({"messages": [
        {"role": "user", "content": f"How is the weather in {city} today?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"type": "function", "function": {"name": "get_weather",
                                              "arguments": orjson.dumps({"city": city}).decode()}}]},
        {"role": "tool", "content": "Sunny"},
        {"role": "assistant", "content": f"It is sunny in {city}."},
    ]}) + b"\n" for city in CITIES))
    out = tmp_path / "run"
    assert main(["run", "--input", str(data), "--out", str(out), "--export", "openai", "--quiet"]) == 0
    written = [orjson.loads(line) for split in ("train", "validation")
               for path in [out / "exports" / "openai" / "sft" / f"{split}.jsonl"] if path.exists()
               for line in path.read_bytes().splitlines()]
    assert len(written) == len(CITIES)
    for example in written:
        call, tool = example["messages"][1], example["messages"][2]
        assert tool["tool_call_id"] == call["tool_calls"][0]["id"]
