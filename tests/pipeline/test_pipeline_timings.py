"""Stage timings in the manifest: CPU (time.process_time) and wall (perf_counter) are recorded apart."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

from curation.config import load_config
from curation.pipeline import runner
from curation.pipeline.base import RecordStage


class SleepyStage(RecordStage):
    """Waits without using the CPU (an I/O-bound stage, or one starved by a loaded machine)."""

    name: ClassVar[str] = "sleepy"

    def process(self, record: dict[str, Any]) -> None:
        time.sleep(0.01)


def test_a_waiting_stage_shows_wall_time_but_almost_no_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"id": f"r{i}", "messages": [{"role": "user", "content": f"question {i}"},
                                         {"role": "assistant", "content": f"answer {i}"}]} for i in range(30)]
    (tmp_path / "in.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    monkeypatch.setattr(runner, "build_stages", lambda config: [SleepyStage()])
    config = load_config(None, values={"inputs": [str(tmp_path / "in.jsonl")], "out": str(tmp_path / "run"),
                                       "export.formats": [], "runner.executor": "inprocess", "runner.progress": False})
    runner.run_pipeline(config, quiet=True)
    timing = orjson.loads((tmp_path / "run" / "manifest.json").read_bytes())["timing"]
    assert set(timing["stage_cpu_seconds"]) == set(timing["stage_wall_seconds"])
    assert {"ingest", "validate", "sleepy", "signatures", "exact_dedup", "near_dedup", "split"} <= set(
        timing["stage_wall_seconds"])
    assert timing["stage_wall_seconds"]["sleepy"] >= 0.3  # 30 records x 10 ms
    assert timing["stage_cpu_seconds"]["sleepy"] < 0.1
    assert set(timing["phase_seconds"]) == {"per_record", "write"} and timing["wall_seconds"] > 0.3
