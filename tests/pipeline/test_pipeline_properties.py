"""Property test (hypothesis) over the per-record work of a run: every payload of a batch ends in exactly one
outcome (kept, or rejected with a stage and reason), whatever the batch holds; no exception escapes."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.config import RunConfig
from curation.pipeline import runner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from record_strategies import payloads  # noqa: E402

SETTINGS = settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
_READY: list[bool] = []


def _plan() -> None:
    if _READY:
        return
    config = RunConfig.model_validate({"inputs": [{"path": "x.jsonl"}], "redact": {"enabled": True},
                                       "quality": {"enabled": True}})
    plan = runner.WorkerPlan(stages=runner.build_stages(config), shingle_size=config.near_dedup.shingle_size,
                             num_perm=config.near_dedup.num_perm, minhash_seed=config.near_dedup.seed,
                             near_enabled=True, stratify_by=None)
    runner._init_worker(plan)
    _READY.append(True)


@SETTINGS
@given(batch=st.lists(payloads, min_size=1, max_size=3), fmt=st.sampled_from([None, "openai", "sharegpt"]))
def test_every_payload_ends_in_one_outcome(batch, fmt) -> None:  # noqa: ANN001
    _plan()
    items = [(i + 1, i, payload) for i, payload in enumerate(batch)]
    result = runner.process_batch((0, "x.jsonl", fmt, None, items))
    outcomes = result["outcomes"]
    assert len(outcomes) >= len(batch)  # an OASST tree or self-instruct task can give several records
    kept = 0
    for outcome in outcomes:
        assert outcome[0] in ("K", "R")
        if outcome[0] == "K":
            kept += 1
            orjson.loads(outcome[2])  # the kept record is valid JSON
        else:
            assert outcome[1] and outcome[2]  # stage and reason code
            assert outcome[2] != "stage_error" and outcome[2] != "check_error", outcome[3]  # no crash behind it
    assert len(result["signatures"]) == kept
