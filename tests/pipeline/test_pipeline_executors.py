from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from curation.pipeline.executors import InProcessExecutor, ProcessExecutor, make_executor


def _square(x: int) -> int:
    return x * x


def test_process_executor_keeps_order_and_bounds_in_flight() -> None:
    pulled = 0

    def source():
        nonlocal pulled
        for x in range(20):
            pulled += 1
            yield x

    executor = ProcessExecutor(2, max_in_flight=2)
    results: list[int] = []
    ahead: list[int] = []  # batches taken from the source but not yet returned, when each result arrives
    try:
        for result in executor.map_ordered(_square, source()):
            ahead.append(pulled - len(results))
            results.append(result)
    finally:
        executor.close()
    assert results == [x * x for x in range(20)]
    assert max(ahead) == 2


def test_auto_runs_small_inputs_in_process() -> None:
    assert isinstance(make_executor("auto", 2, None, (), small_input=True), InProcessExecutor)


def test_a_script_from_stdin_does_not_hang(tmp_path: Path, real_dir: Path) -> None:
    # Spawned workers cannot re-import a script read from stdin; the pool used to restart them forever.
    script = f"""
from curation.config import load_config
from curation.pipeline.runner import run_pipeline
cfg = load_config(None, values={{"inputs": [{str(real_dir / "lm-sys__FastChat")!r}], "out": {str(tmp_path / "run")!r},
                                 "export.formats": [], "runner.executor": "processes", "runner.progress": False}})
print(run_pipeline(cfg, quiet=True).records_in)
"""
    done = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "500"
