"""Stages that work on a whole batch (``process_batch``): one call per batch, same verdicts as per record."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from curation.pipeline import runner
from curation.pipeline.base import Drop, RecordStage


class SpamBatch(RecordStage):
    """Drops 'spam' with one call per batch (as a model would score many texts at once)."""

    name: ClassVar[str] = "spam"
    calls: ClassVar[list[int]] = []

    def process(self, record: dict[str, Any]) -> Drop | None:
        return Drop("spam", "looks like spam") if "spam" in record["messages"][0]["content"] else None

    def process_batch(self, records: list[dict[str, Any]]) -> list[Drop | None]:
        type(self).calls.append(len(records))
        if any("boom" in r["messages"][0]["content"] for r in records):
            raise ValueError("the batch call cannot take this record")
        return [self.process(r) for r in records]


def _batch(contents: list[str]) -> tuple[Any, ...]:
    lines = [orjson.dumps({"id": f"r{i}", "messages": [{"role": "user", "content": c},
                                                       {"role": "assistant", "content": "a reply"}]})
             for i, c in enumerate(contents)]
    return (0, "x.jsonl", "openai", None, [(i + 1, i, b) for i, b in enumerate(lines)])


def _plan() -> runner.WorkerPlan:
    return runner.WorkerPlan(stages=[SpamBatch()], shingle_size=3, num_perm=16, minhash_seed=1, near_enabled=True,
                             stratify_by=None)


def test_a_batch_stage_is_called_once_per_batch_and_its_drops_are_counted() -> None:
    SpamBatch.calls.clear()
    runner._init_worker(_plan())
    result = runner.process_batch(_batch(["hello", "buy spam now", "fine"]))
    assert SpamBatch.calls == [3]
    assert [(o[0], o[1]) for o in result["outcomes"]] == [("K", "r0"), ("R", "spam"), ("K", "r2")]
    assert result["outcomes"][1][2:4] == ("spam", "looks like spam")
    assert result["signatures"].shape == (2, 16)


def test_a_failing_batch_call_falls_back_to_records_so_only_the_bad_record_drops() -> None:
    SpamBatch.calls.clear()
    runner._init_worker(_plan())
    result = runner.process_batch(_batch(["hello", "spam", "boom"]))
    assert SpamBatch.calls == [3]
    assert [(o[0], o[1]) for o in result["outcomes"]] == [("K", "r0"), ("R", "spam"), ("K", "r2")]
