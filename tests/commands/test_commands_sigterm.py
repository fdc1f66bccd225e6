"""SIGTERM stops every command with exit 143 and README's one line, not Ctrl-C's 130 and "interrupted".

typer turns any KeyboardInterrupt a command lets through into exit 130, SIGTERM's ``Terminated`` too: only
`curate run` turned it into its own error first. The signal is sent from inside the command (no timing).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from curation.cli import main


def _terminate(*_args: Any, **_kwargs: Any) -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    raise AssertionError("SIGTERM did not stop the command")


@pytest.mark.parametrize("command,target", [
    (["retarget", "{run}", "--to", "together"], "curation.targets.retarget.retarget"),
    (["export", "{run}", "--to", "openai"], "curation.exporters.export_run"),
    (["inspect", "{data}"], "curation.inspect.inspect_paths"),
    (["run", "-i", "{data}", "--out", "{run}", "-q", "--export", "none"], "curation.pipeline.runner.run_pipeline"),
])
def test_sigterm_exits_143_with_one_line(command: list[str], target: str, tmp_path: Path, real_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    run.mkdir()
    data = real_dir / "hiyouga__LLaMA-Factory/identity.json"
    monkeypatch.setattr(target, _terminate)
    assert main([part.format(run=run, data=data) for part in command]) == 143
    assert [line for line in capsys.readouterr().err.splitlines() if line.strip()] == ["terminated (SIGTERM)"]
