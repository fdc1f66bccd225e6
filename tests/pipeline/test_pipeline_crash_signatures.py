"""The crash signatures the adversarial pass found: each is one reject (or one finding), never a traceback."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from curation.cli import main
from curation.config import RunConfig
from curation.inspect import inspect_paths
from curation.pipeline.runner import run_pipeline

GOOD = [{"messages": [{"role": "user", "content": f"question {i} about rivers"},
                      {"role": "assistant", "content": f"answer {i}: rivers flow to the sea"}]} for i in range(3)]
# JSON nested deeper than orjson writes (254 levels): the content hash raised on it and stopped the run.
DEEP = b'{"messages": [{"role": "user", "content": "deep"}], "extra": ' + b"[" * 300 + b"]" * 300 + b"}"
CRASHERS = [
    {"preferred_output": True, "input": {"messages": [{"role": "user", "content": "hi"}]},
     "non_preferred_output": [{"role": "assistant", "content": "x"}]},
    {"prompt": [{"role": "user", "content": "hi"}], "chosen": True, "rejected": 5},
    {"messages": [{"role": ["user"], "content": "hi"}, {"role": {"a": 1}, "content": "yo"}]},
    {"messages": [{"role": "assistant", "content": None, "tool_calls": [{"id": ["x"], "type": "function",
                                                                         "function": {"name": "f"}}]},
                  {"role": "tool", "tool_call_id": {"a": 1}, "content": "r"}]},
]
N_IN = len(GOOD) + len(CRASHERS) + 1


def _write(path: Path) -> Path:
    path.write_bytes(b"\n".join([*(orjson.dumps(r) for r in GOOD + CRASHERS), DEEP]) + b"\n")
    return path


def test_run_rejects_each_crasher_alone(tmp_path: Path) -> None:
    data = _write(tmp_path / "in.jsonl")
    config = RunConfig.model_validate({"inputs": [{"path": str(data)}], "out": str(tmp_path / "run"),
                                       "runner": {"workers": 1, "progress": False}, "redact": {"enabled": True}})
    result = run_pipeline(config, quiet=True)
    rejects = [orjson.loads(line) for line in (result.run_dir / "rejects.jsonl").read_bytes().splitlines()]
    assert result.records_in == N_IN
    assert result.records_out + len(rejects) == result.records_in
    reasons = {r["reason"] for r in rejects}
    assert not reasons & {"stage_error", "check_error"}, rejects
    assert "too_deep" in reasons


@pytest.mark.parametrize("command", ["inspect", "run"])
def test_cli_finishes_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    data = _write(tmp_path / "in.jsonl")
    args = [command, str(data)] if command == "inspect" else ["run", "-i", str(data), "--out", str(tmp_path / "r"),
                                                              "-q", "--export", "none"]
    code = main(args)
    assert code == 0, capsys.readouterr().err
    assert "Traceback" not in capsys.readouterr().err


def test_inspect_reports_codes_not_crashes(tmp_path: Path) -> None:
    report = inspect_paths([_write(tmp_path / "in.jsonl")], workers=1)
    assert report["records"] == N_IN
    assert "check_error" not in report["findings_by_code"]
    assert "unrecognized_role" in report["findings_by_code"] and "too_deep" in report["findings_by_code"]
