"""A stage whose ``load()`` raises stops the run at once with one line, under every executor.

The spawn pool used to restart a worker whose initialiser raised, forever (78 tracebacks in 40 s, no error).
The failing stages live in a module written to a temporary folder on ``sys.path``, so spawned workers can
import them the way they import real stages.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

STAGE_MODULE = textwrap.dedent('''
    import os
    from curation.pipeline.base import RecordStage

    class BrokenModelStage(RecordStage):
        name = "broken"
        def load(self):
            raise FileNotFoundError("models/missing.bin")
        def process(self, record):
            return None

    class BrokenInWorkersStage(RecordStage):
        """Loads in the main process but not in a worker (a resource only the main process can reach)."""
        name = "broken_in_workers"
        def __init__(self):
            self.main_pid = os.getpid()
        def load(self):
            if os.getpid() != self.main_pid:
                raise OSError("no GPU in this worker")
        def process(self, record):
            return None
''')


def _run(tmp: str, stage_name: str, executor: str) -> tuple[str, float]:
    """In a forked child (see the ``bounded`` fixture): run with the failing stage, return the error and seconds."""
    import importlib

    from curation.config import load_config
    from curation.errors import CurationError
    from curation.pipeline import runner

    sys.path.insert(0, tmp)
    stage_cls = getattr(importlib.import_module("h14_failing_stages"), stage_name)
    runner.build_stages = lambda config: [stage_cls()]
    cfg = load_config(None, values={"inputs": [str(Path(tmp) / "in.jsonl")], "out": str(Path(tmp) / "run"),
                                    "export.formats": [], "runner.executor": executor, "runner.workers": 2,
                                    "runner.progress": False})
    started = time.perf_counter()
    try:
        runner.run_pipeline(cfg, quiet=True)
    except CurationError as exc:
        return f"{type(exc).__name__}|{exc}", time.perf_counter() - started
    return "no error", time.perf_counter() - started


@pytest.fixture
def stage_dir(tmp_path: Path) -> Path:
    (tmp_path / "h14_failing_stages.py").write_text(STAGE_MODULE, encoding="utf-8")
    rows = [{"id": f"r{i}", "messages": [{"role": "user", "content": f"question {i} about rivers"},
                                         {"role": "assistant", "content": f"answer {i}: rivers flow downhill"}]}
            for i in range(20)]
    (tmp_path / "in.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return tmp_path


@pytest.mark.parametrize("executor", ["processes", "inprocess"])
def test_a_stage_that_fails_to_load_stops_the_run_with_one_line(stage_dir: Path, bounded, executor: str) -> None:
    message, seconds = bounded(_run, str(stage_dir), "BrokenModelStage", executor, timeout=60)
    kind, _, text = message.partition("|")
    assert kind == "StageLoadError"
    assert "\n" not in text
    assert "the broken stage could not load: FileNotFoundError: models/missing.bin" in text
    assert "(fix:" in text
    assert seconds < 5
    assert not (stage_dir / "run" / "splits").exists()  # stopped before any work: no outputs begun


def test_a_stage_that_fails_to_load_only_in_workers_stops_the_run(stage_dir: Path, bounded) -> None:
    message, seconds = bounded(_run, str(stage_dir), "BrokenInWorkersStage", "processes", timeout=60)
    kind, _, text = message.partition("|")
    assert kind == "StageLoadError"
    assert "\n" not in text
    assert "the broken_in_workers stage could not load in a worker: OSError: no GPU in this worker" in text
    assert seconds < 5


def test_curate_run_with_a_missing_model_folder_exits_with_one_line(stage_dir: Path) -> None:
    import subprocess

    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "curation.cli", "run", "--input", str(stage_dir / "in.jsonl"), "--out",
         str(stage_dir / "run"), "--export", "", "--workers", "2", "--set", "runner.executor=processes",
         "--set", "semantic_dedup.enabled=true", "--set", f"semantic_dedup.model={stage_dir / 'no-model'}"],
        capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - started  # includes the interpreter's start and imports
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: the semantic_dedup stage could not load: semantic_dedup.model: no model2vec")
    assert "(fix: download one first" in lines[0]
    assert seconds < 5
