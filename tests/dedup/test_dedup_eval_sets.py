"""Decontamination reads every evaluation set it is given, prompt-only layouts included, or stops before work."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from curation.config import load_config
from curation.dedup.eval_sets import load_eval_sets, prompt_only_record
from curation.errors import ConfigError, CurationError
from curation.pipeline.runner import run_pipeline

MT_BENCH = [
    {"question_id": 81, "category": "writing", "turns": [
        "Compose an engaging travel blog post about a recent trip to Hawaii, highlighting cultural experiences "
        "and must-see attractions.", "Rewrite your previous response. Start every sentence with the letter A."]},
    {"question_id": 82, "category": "writing", "turns": [
        "Draft a professional email seeking your supervisor's feedback on the 'Quarterly Financial Report' you "
        "prepared.", "Take a moment to evaluate and critique your own response."]},
]
GSM = {"question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
       "How many clips did Natalia sell altogether in April and May?", "answer": "72"}


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_prompt_only_layouts() -> None:
    assert prompt_only_record(MT_BENCH[0])["messages"][1]["content"].startswith("Rewrite")
    assert prompt_only_record(MT_BENCH[0])["id"] == "81"
    assert prompt_only_record(GSM)["messages"] == [{"role": "user", "content": GSM["question"]}]
    assert prompt_only_record({"instruction": "Translate", "input": "chat"})["messages"][0]["content"] == \
        "Translate\n\nchat"
    assert prompt_only_record({"answer": "72"}) is None


def test_every_eval_file_is_loaded_and_matched_counts_are_reported(tmp_path: Path) -> None:
    mt = _jsonl(tmp_path / "question.jsonl", MT_BENCH)
    gsm = _jsonl(tmp_path / "gsm8k.jsonl", [GSM])
    chats = [{"id": f"c{i}", "messages": [{"role": "user", "content": f"Give me idea number {i} for a weekend "
                                           "in the mountains with friends"},
                                          {"role": "assistant", "content": f"Idea {i}: hike to the lake and camp."}]}
             for i in range(12)]
    chats.append({"id": "leak", "messages": [{"role": "user", "content": MT_BENCH[0]["turns"][0]},
                                             {"role": "assistant", "content": "Aloha from the islands."}]})
    train = _jsonl(tmp_path / "train.jsonl", chats)
    config = load_config(None, values={"inputs": [str(train)], "out": str(tmp_path / "run"), "export.formats": [],
                                       "runner.progress": False, "decontaminate.paths": [str(mt), str(gsm)]})
    result = run_pipeline(config, quiet=True)
    files = result.report["decontamination"]["eval_files"]
    assert [(Path(f["path"]).name, f["layout"], f["items"], f["matched"]) for f in files] == [
        ("question.jsonl", "prompt-only", 2, 1), ("gsm8k.jsonl", "pair", 1, 0)]  # question+answer reads as a chat
    rejects = [orjson.loads(line) for line in (tmp_path / "run" / "rejects.jsonl").read_bytes().splitlines()]
    assert [(r["id"], r["reason"], r["duplicate_of"]) for r in rejects] == [("leak", "eval_contamination", "81")]


@pytest.mark.parametrize("content", ['{"answer": "72"}\n{"label": 1}\n', ""])
def test_an_eval_file_with_no_items_stops_before_work(tmp_path: Path, content: str) -> None:
    good = _jsonl(tmp_path / "question.jsonl", MT_BENCH)
    bad = tmp_path / "answers.jsonl"
    bad.write_text(content, encoding="utf-8")
    train = _jsonl(tmp_path / "train.jsonl", [{"messages": [{"role": "user", "content": "hi"},
                                                             {"role": "assistant", "content": "hello"}]}])
    config = load_config(None, values={"inputs": [str(train)], "out": str(tmp_path / "run"), "export.formats": [],
                                       "runner.progress": False, "decontaminate.paths": [str(good), str(bad)]})
    with pytest.raises(CurationError) as caught:  # an empty file: InputError; one of no use: ConfigError
        run_pipeline(config, quiet=True)
    assert str(bad) in str(caught.value)
    assert not (tmp_path / "run").exists()  # stopped before any work
    if content:
        with pytest.raises(ConfigError, match="holds no item decontamination can read"):
            load_eval_sets([str(bad)])
