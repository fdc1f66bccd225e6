"""Decisions on real third-party files (issue 10): dedup compares what differs, clusters do not chain,
splits do not leak conversation trees or shared opening prompts, and no kept record ends on a user turn."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from curation.config import load_config
from curation.dedup.text import normalise_for_exact
from curation.pipeline.runner import run_pipeline
from curation.readers import expand_inputs

THRESHOLD = 0.7


def _lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()] if path.exists() else []


def _first_user(record: dict) -> str:
    messages = record.get("prompt") if "chosen" in record else record.get("messages")
    for message in messages or []:
        if message.get("role") == "user":
            content = message.get("content")
            text = content if isinstance(content, str) else " ".join(
                p.get("text", "") for p in content or [] if isinstance(p, dict))
            return normalise_for_exact(text)
    return ""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, real_dir: Path) -> dict[str, tuple[dict, list[dict]]]:
    """Each real file curated on its own with default settings: name -> (splits, rejects)."""
    out: dict[str, tuple[dict, list[dict]]] = {}
    base = tmp_path_factory.mktemp("real-decisions")
    for n, path in enumerate(sorted(expand_inputs([str(real_dir)]))):
        config = load_config(None, values={"inputs": [str(path)], "out": str(base / f"run{n}"),
                                           "export.formats": [], "runner.progress": False,
                                           "runner.executor": "inprocess"})
        result = run_pipeline(config, quiet=True)
        splits = {p.stem: _lines(p) for p in sorted((result.run_dir / "splits").glob("*.jsonl"))}
        out[path.relative_to(real_dir).as_posix()] = (splits, _lines(result.run_dir / "rejects.jsonl"))
    return out


def test_shared_system_prompt_and_tools_do_not_make_near_duplicates(runs) -> None:
    splits, rejects = runs["openai__openai-cookbook/drone_training.jsonl"]
    kept = sum(len(v) for v in splits.values())
    # 103 distinct requests behind one long system prompt and one 16-function tools list
    assert kept >= 100, [(r["reason"], r.get("similarity")) for r in rejects]
    assert not [r for r in rejects if r["reason"] == "near_duplicate"]


def test_every_near_duplicate_is_similar_to_its_survivor(runs) -> None:
    checked = 0
    for name, (splits, rejects) in runs.items():
        kept = {r["id"] for recs in splits.values() for r in recs}
        for reject in rejects:
            if reject["reason"] == "near_duplicate":
                checked += 1
                assert reject["similarity"] >= THRESHOLD, (name, reject["id"], reject["similarity"])
                assert reject["duplicate_of"] in kept, (name, reject["id"])
    assert checked > 100  # the templated FastChat file and OASST branches hold many


@pytest.mark.parametrize("name", ["LAION-AI__Open-Assistant/en_100_tree.jsonl",
                                  "bofenghuang__vigogne/oasst_20230412_fr_top1.jsonl"])
def test_trees_and_opening_prompts_stay_in_one_split(runs, name: str) -> None:
    splits, _rejects = runs[name]
    trees: dict[str, set[str]] = defaultdict(set)
    prompts: dict[str, set[str]] = defaultdict(set)
    for split, records in splits.items():
        for record in records:
            tree = (record["metadata"].get("fields") or {}).get("tree_id")
            if tree:
                trees[tree].add(split)
            prompts[_first_user(record)].add(split)
    assert len(splits.get("validation", [])) > 0
    assert not [t for t, s in trees.items() if len(s) > 1]
    assert not [p for p, s in prompts.items() if len(s) > 1]
    if "en_100_tree" in name:
        assert len(trees) == 100


def test_no_kept_record_ends_on_a_user_turn(runs) -> None:
    for name, (splits, _rejects) in runs.items():
        for records in splits.values():
            for record in records:
                if "messages" in record:
                    assert record["messages"][-1]["role"] != "user", (name, record["id"])
    splits, _ = runs["LAION-AI__Open-Assistant/en_100_tree.jsonl"]
    trimmed = [r for recs in splits.values() for r in recs if "trailing_user_trimmed" in r["metadata"].get(
        "normalised", [])]
    assert len(trimmed) > 50  # OASST paths that ended on an unanswered prompt keep their answered part
