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


_CTRL_C_DURING_START = """
import os, signal, sys, time
from curation.pipeline.executors import ProcessExecutor

signal.signal(signal.SIGINT, lambda *_: None)  # the parent only watches; it must not stop
executor = ProcessExecutor(2)
# The workers are still starting (a spawned interpreter takes a while to import): a Ctrl-C now reaches them
# before any initializer of ours runs.
for _ in range(40):  # over the whole start-up: every moment from fork to the first task
    os.killpg(os.getpid(), signal.SIGINT)
    time.sleep(0.05)
print(sorted(executor.map_ordered(abs, [-1, -2, -3])))
executor.close()
"""


def test_ctrl_c_while_workers_start_prints_no_worker_traceback(tmp_path: Path) -> None:
    # Seen as a stray "Traceback ... spawn_main" on stderr before the one-line "interrupted" of `curate run`.
    done = subprocess.run([sys.executable, "-c", _CTRL_C_DURING_START], capture_output=True, text=True,
                          timeout=60, start_new_session=True, cwd=tmp_path,
                          env={**__import__("os").environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[1, 2, 3]"
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr, done.stderr
