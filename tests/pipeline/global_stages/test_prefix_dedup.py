"""Prefix dedup: a conversation whose turns open a longer kept one, on tiny key tables and through real runs
(ToolBench's steps of one run, a chat logged after every turn)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson

from curation.config import load_config
from curation.dedup.config import PrefixDedupConfig
from curation.pipeline.global_stages.base import KeyTable
from curation.pipeline.global_stages.prefix_dedup import PrefixDedupStage, prefix_keys
from curation.pipeline.runner import run_pipeline

REAL = Path(__file__).resolve().parents[2] / "data" / "real" / "OpenBMB__ToolBench"


def _chat(*turns: str, system: str | None = None, **extra: Any) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)]
    return {"messages": messages, **extra}


def _decide(records: list[dict[str, Any]], alive: list[bool] | None = None) -> dict[int, int | str | None]:
    stage = PrefixDedupStage(PrefixDedupConfig())
    table = KeyTable(ids=[f"r{i}" for i in range(len(records))],
                     exact_keys=[bytes(16)] * len(records),  # the stage keys records itself
                     lengths=np.zeros(len(records), dtype=np.int64), quality=np.zeros(len(records)),
                     strata=[""] * len(records), groups=[()] * len(records))
    if alive is not None:
        table.alive = np.asarray(alive)
    table.extra[stage.name] = stage.keys(records)
    decision = stage.decide(table)
    assert all(d.reason == "prefix_duplicate" for d in decision.drops.values())
    return {row: d.duplicate_of for row, d in decision.drops.items()}


def test_a_chain_of_steps_keeps_the_longest_and_names_it() -> None:
    one = _chat("hi", "hello")
    two = _chat("hi", "hello", "how are you", "fine")
    three = _chat("hi", "hello", "how are you", "fine", "bye", "bye now")
    assert _decide([one, three, two]) == {0: 1, 2: 1}


def test_two_branches_of_one_opening_both_stay() -> None:
    opening = _chat("hi", "hello")
    left = _chat("hi", "hello", "tell me a joke", "a joke")
    right = _chat("hi", "hello", "tell me a poem", "a poem")
    assert _decide([opening, left, right]) == {0: 1}


def test_a_shared_turn_the_shorter_record_does_not_train_still_matches() -> None:
    # a log re-sends the history as context: the shorter record may weight its earlier turns otherwise
    shorter = _chat("hi", "hello", "more", "yes")
    shorter["messages"][1]["weight"] = 0
    assert _decide([shorter, _chat("hi", "hello", "more", "yes", "again", "sure")]) == {0: 1}


def test_other_words_are_another_conversation() -> None:
    assert _decide([_chat("Hi", "Hello"), _chat("hi", "hello", "more", "yes")]) == {}


def test_another_system_prompt_or_tool_list_is_another_conversation() -> None:
    longer = _chat("hi", "hello", "more", "yes", system="be brief")
    assert _decide([_chat("hi", "hello"), longer]) == {}
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    assert _decide([_chat("hi", "hello"), _chat("hi", "hello", "more", "yes", tools=tools)]) == {}
    assert _decide([_chat("hi", "hello", tools=tools), _chat("hi", "hello", "more", "yes", tools=tools)]) == {0: 1}


def test_a_longer_record_that_does_not_train_a_reply_keeps_its_prefix() -> None:
    # the shorter record trains "hello"; the longer one has it at weight 0: both are needed
    longer = _chat("hi", "hello", "more", "yes")
    longer["messages"][1]["weight"] = 0
    assert prefix_keys(longer)[1] == 0
    assert _decide([_chat("hi", "hello"), longer]) == {}


def test_labelled_records_are_neither_dropped_nor_parents() -> None:
    good_opening = _chat("hi", "hello", metadata={"label": True})
    bad_run = _chat("hi", "hello", "more", "no", metadata={"label": False})
    assert _decide([good_opening, bad_run]) == {}
    assert _decide([_chat("hi", "hello"), bad_run]) == {}


def test_a_record_already_dropped_is_no_parent_and_not_dropped_again() -> None:
    one, two = _chat("hi", "hello"), _chat("hi", "hello", "more", "yes")
    assert _decide([one, two], alive=[True, False]) == {}
    assert _decide([one, two], alive=[False, True]) == {}


def test_single_turn_records_and_pairs_are_never_parents() -> None:
    assert prefix_keys(_chat("hi", "hello"))[1] == 0
    assert prefix_keys({"prompt": [{"role": "user", "content": "q"}], "chosen": [], "rejected": []}) == (0, 0)


def _run(tmp_path: Path, inputs: list[str], **values: Any) -> tuple[Any, list[dict[str, Any]]]:
    config = load_config(None, values={
        "inputs": inputs, "out": str(tmp_path / "run"), "export.formats": [], "runner.progress": False,
        "language.enabled": False, "quality.enabled": False, "length.enabled": False, **values})
    result = run_pipeline(config, quiet=True)
    rejects = [orjson.loads(line) for line in (tmp_path / "run" / "rejects.jsonl").read_bytes().splitlines()]
    return result, rejects


def test_toolbench_steps_of_one_run_keep_the_whole_run(tmp_path: Path) -> None:
    # Steps 2, 4, 6 and 9 of one query: near dedup caught one of the four, and the first call was trained 3 times
    result, rejects = _run(tmp_path, [str(REAL / "G1_demo_DFS_woFilter_w2.json")])
    assert [(r["id"][:7], r["stage"], r["reason"], r["duplicate_of"][:7]) for r in rejects] == [
        ("Step 2:", "prefix_dedup", "prefix_duplicate", "Step 9:"),
        ("Step 4:", "prefix_dedup", "prefix_duplicate", "Step 9:"),
        ("Step 6:", "prefix_dedup", "prefix_duplicate", "Step 9:")]
    assert result.records_in == 4 and result.records_out == 1
    funnel = {row["stage"]: row for row in result.report["funnel"]}
    assert funnel["prefix_dedup"]["by_reason"] == {"prefix_duplicate": 3}


def test_a_toolbench_answer_file_keeps_its_last_step(tmp_path: Path) -> None:
    result, rejects = _run(tmp_path, [str(REAL / "82217_ChatGPT_DFS_woFilter_w2.json")])
    assert [r["reason"] for r in rejects] == ["prefix_duplicate"] * 3
    assert len({r["duplicate_of"] for r in rejects}) == 1
    assert result.records_in == 4 and result.records_out == 1


def test_a_chat_logged_after_every_turn_is_kept_once_and_counts_reconcile(tmp_path: Path) -> None:
    turns = ["How do I reset my router?", "Hold the reset button for 10 seconds.",
             "It is still blinking orange.", "Unplug it for a minute, then plug it back in.",
             "Now it works, thanks!", "Glad it helped."]
    rows = [{"id": f"log{k}", **_chat(*turns[:k])} for k in (2, 4, 6)]
    rows.append({"id": "other", **_chat("What is a VPN?", "A private tunnel for your traffic.")})
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    result, rejects = _run(tmp_path, [str(path)], **{"split.train": 1.0, "split.validation": 0.0})
    assert sorted((r["id"], r["duplicate_of"]) for r in rejects) == [("log2", "log6"), ("log4", "log6")]
    train = (tmp_path / "run" / "splits" / "train.jsonl").read_bytes()
    kept = [orjson.loads(line)["id"] for line in train.splitlines()]
    assert sorted(kept) == ["log6", "other"]
    assert result.records_in == len(kept) + len(rejects)


def test_it_can_be_turned_off(tmp_path: Path) -> None:
    result, rejects = _run(tmp_path, [str(REAL / "G1_demo_DFS_woFilter_w2.json")],
                           **{"prefix_dedup.enabled": False, "near_dedup.enabled": False})
    assert rejects == [] and result.records_out == 4
