"""A preference pair its dataset flags toxic (Chatbot Arena's moderation and ToxicChat classifier columns) carries
the flag through a run like any other flag: counted in the report, rejected under `flags: {toxic: drop}`, and the
pairs' exports are otherwise the bytes they were without the dataset's verdict columns."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from curation.cli import main

TOPICS = ["tides", "volcanoes", "glaciers", "monsoons", "earthquakes", "auroras", "deserts", "coral reefs"]


def _row(i: int, topic: str) -> dict:
    """One lmsys/chatbot_arena_conversations row, built to its published columns; rows 1 and 2 are flagged."""
    ask = {"content": f"Explain {topic} to a child, in lesson {i} of the course.", "role": "user"}
    good = {"content": f"Lesson {i}: {topic} happen because the Earth keeps changing, little by little.",
            "role": "assistant"}
    bad = {"content": f"I don't know anything about {topic}, ask someone else about lesson {i}.", "role": "assistant"}
    return {
        "question_id": f"q{i}", "model_a": "vicuna-13b", "model_b": "alpaca-13b", "winner": "model_a",
        "judge": f"arena_user_{i}", "conversation_a": [ask, good], "conversation_b": [ask, bad], "turn": 1,
        "anony": True, "language": "English", "tstamp": 1682351591.0 + i,
        "openai_moderation": {"categories": {"harassment": i == 1, "violence": False},
                              "category_scores": {"harassment": 0.9 if i == 1 else 0.001, "violence": 0.0},
                              "flagged": i == 1},
        "toxic_chat_tag": {"roberta-large": {"flagged": False, "probability": 0.01},
                           "t5-large": {"flagged": i == 2, "score": 0.9 if i == 2 else 0.001}},
    }


def _run(tmp_path: Path, name: str, rows: list[dict], *settings: str) -> Path:
    data = tmp_path / f"{name}.jsonl"
    data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    run = tmp_path / name
    extra = [arg for setting in settings for arg in ("--set", setting)]
    assert main(["run", "--input", str(data), "--out", str(run), "--export", "openai,hf", "--quiet",
                 "--set", "runner.progress=false", "--set", "language.enabled=false", *extra]) == 0
    return run


def _openai(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((run / "exports" / "openai" / "dpo").glob("*.jsonl"))}


def _hf(run: Path) -> list[dict]:
    """The HF export's rows, their metadata (which carries the flags and the dataset's own columns) left out."""
    from datasets import load_from_disk

    data = load_from_disk(str(run / "exports" / "hf" / "dpo"))
    return [{k: v for k, v in row.items() if k != "metadata"} for split in sorted(data) for row in data[split]]


def test_an_arena_pair_flagged_toxic_is_counted_dropped_on_request_and_exported_as_before(tmp_path: Path) -> None:
    rows = [_row(i, TOPICS[i % len(TOPICS)]) for i in range(12)]  # OpenAI takes 10 or more
    run = _run(tmp_path, "flagged", rows)
    report = json.loads((run / "report.json").read_text())
    assert report["flags"]["toxic"]["kept"] == 2
    kept = [orjson.loads(line) for p in (run / "splits").glob("*.jsonl") for line in p.read_bytes().splitlines()]
    toxic = sorted(r["metadata"]["fields"]["question_id"] for r in kept if "toxic" in r["metadata"].get("flags", []))
    assert toxic == ["q1", "q2"]

    dropped = _run(tmp_path, "dropped", rows, "flags={toxic: drop}")
    rejects = [orjson.loads(line) for line in (dropped / "rejects.jsonl").read_bytes().splitlines()]
    assert [(r["stage"], r["reason"]) for r in rejects] == [("flags", "toxic")] * 2
    assert sorted(r["record"]["metadata"]["fields"]["question_id"] for r in rejects) == ["q1", "q2"]
    assert json.loads((dropped / "report.json").read_text())["reasons"]["toxic"] == 2

    unmarked = _run(tmp_path, "unmarked", [{k: v for k, v in r.items() if k not in ("openai_moderation",
                                                                                     "toxic_chat_tag")}
                                           for r in rows])
    assert _openai(run) and _openai(run) == _openai(unmarked)
    assert _hf(run) == _hf(unmarked) and len(_hf(run)) == len(kept)
