import pickle
from pathlib import Path

import numpy as np
import orjson
import pytest

from curation.dedup.config import DecontaminationConfig
from curation.errors import CurationError
from curation.pipeline.global_stages.base import KeyTable
from curation.pipeline.global_stages.decontaminate import KEY_DTYPE, DecontaminateStage


def _table(keys: list[tuple[int, float, bool, bool]] | list[tuple[int, float, bool, bool, bool]]) -> KeyTable:
    keys = [(*row, False) if len(row) == 4 else row for row in keys]  # not contained unless said
    n = len(keys)
    table = KeyTable(ids=[f"r{i}" for i in range(n)], exact_keys=[bytes(16)] * n, lengths=np.ones(n),
                     quality=np.zeros(n), strata=[""] * n, groups=[()] * n)
    table.extra["decontaminate"] = np.array(keys, dtype=KEY_DTYPE)
    return table


def _chat(user: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def test_drops_matched_rows_with_eval_item_and_detail():
    table = _table([(-1, 0.0, False, False), (1, 1.0, True, True), (0, 0.875, False, False)])
    drops = DecontaminateStage(ref_ids=["gsm-1", "mmlu-7"]).decide(table).drops
    assert sorted(drops) == [1, 2]
    assert drops[1].reason == "eval_contamination" and drops[1].duplicate_of == "mmlu-7"
    assert drops[1].detail == "a user turn exactly matches evaluation item mmlu-7 (similarity 1.00)"
    assert drops[2].detail == "the conversation nearly matches evaluation item gsm-1 (similarity 0.88)"
    assert drops[2].similarity == np.float32(0.875)


def test_a_contained_question_says_so():
    drops = DecontaminateStage(ref_ids=["gsm-1"]).decide(_table([(0, 0.8125, False, True, True)])).drops
    assert drops[0].detail == ("the conversation holds 81% of the word sequences of evaluation item gsm-1's "
                               "question (containment)")


def test_rows_already_dropped_are_left_alone():
    table = _table([(0, 1.0, True, False)])
    table.alive[0] = False
    assert DecontaminateStage(ref_ids=["a"]).decide(table).drops == {}


def test_a_row_whose_query_failed_is_a_stage_error_not_a_silent_keep():
    drops = DecontaminateStage(ref_ids=["a"]).decide(_table([(-2, 0.0, False, False)])).drops
    assert drops[0].reason == "stage_error" and "decontamination query failed" in drops[0].detail


def test_keys_find_the_eval_item_and_the_report_counts_it_per_file(tmp_path: Path):
    question = "Which planet in our solar system has the largest number of confirmed moons as of this year?"
    eval_file = tmp_path / "bench.jsonl"
    eval_file.write_bytes(b"\n".join(orjson.dumps({"id": f"q{i}", **_chat(q, "an answer")}) for i, q in
                                     enumerate(["What is two plus two, written as a word?", question])) + b"\n")
    stage = DecontaminateStage(DecontaminationConfig(paths=[str(eval_file)]))
    stage.load()
    # The built index travels to workers inside the stage (pickled), without the report's file list.
    worker = pickle.loads(pickle.dumps(stage))
    assert worker.reference is not None and worker.eval_files == []
    records = [_chat("Tell me a fact about the ocean floor and its deepest trench.", "The Mariana Trench."),
               _chat(question, "Saturn, with well over a hundred.")]
    keys = worker.keys(records)
    assert keys.dtype == KEY_DTYPE and keys["ref"][0] == -1 and worker.ref_ids[keys["ref"][1]] == "q1"
    table = _table([tuple(row) for row in keys.tolist()])
    decision = stage.decide(table)
    assert list(decision.drops) == [1] and decision.drops[1].duplicate_of == "q1"
    assert decision.report == {"decontamination": {"eval_files": [
        {"path": str(eval_file), "layout": "openai", "items": 2, "matched": 1}]}}


def test_missing_keys_stop_the_run_rather_than_keep_records_unchecked():
    table = _table([(-1, 0.0, False, False)])
    del table.extra["decontaminate"]
    with pytest.raises(CurationError, match="decontamination keys cover 0 of 1"):
        DecontaminateStage(ref_ids=["a"]).decide(table)
