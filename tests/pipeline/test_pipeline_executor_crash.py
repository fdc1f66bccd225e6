"""A worker process that dies while it holds a batch is one clear error, never a wait for ever."""

from __future__ import annotations

import subprocess
import sys

# Run in a child interpreter with a timeout: were the dead worker's batch awaited, the test would fail rather
# than hang the suite. os._exit is the batch function: the worker that takes batch 3 exits with code 3.
SCRIPT = """
import os
from curation.pipeline.executors import ProcessExecutor, WorkerCrashedError
executor = ProcessExecutor(2)
got = []
try:
    for result in executor.map_ordered(abs, [1, 2]):
        got.append(result)
    for result in executor.map_ordered(os._exit, [3]):
        got.append(result)
except WorkerCrashedError as exc:
    executor.terminate()
    print(got, exc.exit_code, exc)
"""


def test_a_dead_worker_raises_worker_crashed() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout.strip()
    assert out.startswith("[1, 2] 1 a worker process died (exit code 3): the batches it held would never come "
                          "back"), out
    assert "--executor inprocess" in out  # the fix names a way to see the error
