"""A decision made through the running app survives the app being killed (-9) and started again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from curation.review import ReviewStore
from curation.review.synthetic import write_synthetic_run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(run: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    env.pop("CURATION_UI_PASSWORD", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "curation.cli", "ui", str(run), "--port", str(port)],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError(f"app did not start: {log.read_text()}")


def _call(port: int, name: str, *args: object) -> object:
    """Gradio's HTTP API: POST starts the call, GET streams its result as server-sent events."""
    body = json.dumps({"data": list(args)}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/gradio_api/call/{name}", body,
                                     {"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as r:
        event_id = json.load(r)["event_id"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/call/{name}/{event_id}", timeout=20) as r:
        text = r.read().decode()
    event = [line for line in text.splitlines() if line.startswith("event:")][-1]
    data = [line for line in text.splitlines() if line.startswith("data:")][-1]
    assert event == "event: complete", text
    return json.loads(data[5:])[0]


def test_decision_survives_kill_9_and_restart(tmp_path: Path) -> None:
    run = write_synthetic_run(tmp_path / "run", n=60, seed=4)
    port = _free_port()
    log = tmp_path / "app.log"
    proc = _start(run, port, log)
    try:
        stored = _call(port, "decide", "r000003", "reject", "alice", "spam", "seen in the app")
        assert stored["record_id"] == "r000003" and stored["action"] == "reject"
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # no clean shutdown: the committed write must already be on disk
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    proc = _start(run, port, log)
    try:
        decision = _call(port, "decision", "r000003")
        assert decision["verdict"] == "reject" and decision["reason"] == "spam" and decision["reviewer"] == "alice"
        assert _call(port, "progress")["reviewed"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    with ReviewStore(run) as store:
        assert store.decision("r000003").note == "seen in the app"
