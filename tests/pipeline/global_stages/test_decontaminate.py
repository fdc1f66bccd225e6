import numpy as np

from curation.pipeline.global_stages.base import KeyTable
from curation.pipeline.global_stages.decontaminate import KEY_DTYPE, DecontaminateStage


def _table(keys: list[tuple[int, float, bool, bool]]) -> KeyTable:
    n = len(keys)
    table = KeyTable(ids=[f"r{i}" for i in range(n)], exact_keys=[bytes(16)] * n, lengths=np.ones(n),
                     quality=np.zeros(n), strata=[""] * n, groups=[()] * n)
    table.extra["decontaminate"] = np.array(keys, dtype=KEY_DTYPE)
    return table


def test_drops_matched_rows_with_eval_item_and_detail():
    table = _table([(-1, 0.0, False, False), (1, 1.0, True, True), (0, 0.875, False, False)])
    drops = DecontaminateStage(["gsm-1", "mmlu-7"]).decide(table).drops
    assert sorted(drops) == [1, 2]
    assert drops[1].reason == "eval_contamination" and drops[1].duplicate_of == "mmlu-7"
    assert drops[1].detail == "a user turn exactly matches evaluation item mmlu-7 (similarity 1.00)"
    assert drops[2].detail == "the conversation nearly matches evaluation item gsm-1 (similarity 0.88)"
    assert drops[2].similarity == np.float32(0.875)


def test_rows_already_dropped_are_left_alone():
    table = _table([(0, 1.0, True, False)])
    table.alive[0] = False
    assert DecontaminateStage(["a"]).decide(table).drops == {}
