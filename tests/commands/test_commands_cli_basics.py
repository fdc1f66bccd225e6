"""CLI basics: --input a b c, --version, -h, choices in help, did-you-mean, stratify_by checked, jobs list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.cli import main, spread_inputs


def test_input_takes_several_paths_after_one_flag(tmp_path: Path, repo_dir: Path) -> None:
    raw = repo_dir / "samples" / "raw"
    assert spread_inputs(["run", "--input", "a", "b", "cfg.yaml", "--out", "x"]) == [
        "run", "--input", "a", "--input", "b", "cfg.yaml", "--out", "x"]
    out = tmp_path / "run"
    code = main(["run", "--input", str(raw / "support_chats.jsonl"), str(raw / "sharegpt.json"), "--out", str(out),
                 "--export", "none", "--quiet"])
    assert code == 0
    inputs = [Path(i["path"]).name for i in json.loads((out / "manifest.json").read_text())["inputs"]]
    assert inputs == ["support_chats.jsonl", "sharegpt.json"]


def test_version_help_and_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0 and capsys.readouterr().out.startswith("curate ")
    assert main(["-h"]) == 0 and "Exit codes" in capsys.readouterr().out
    assert main(["inspect", "-h"]) == 0 and "sharegpt" in capsys.readouterr().out  # --format lists its values


@pytest.mark.parametrize(("argv", "expected"), [
    (["run", "--input", "samples/raw", "--set", "near_dedup.treshold=0.5"], "(did you mean 'threshold'?)"),
    (["run", "--input", "samples/raw", "--model", "gpt-4o-mni"], "(did you mean 'gpt-4o-mini'?)"),
    (["run", "--input", "samples/raw", "--export", "opnai"], "(did you mean 'openai'?)"),
    (["inspect", "samples/raw", "--format", "sharegtp"], "(did you mean 'sharegpt'?)"),
    (["train", "samples", "--backend", "hf-locl"], "(did you mean 'hf-local'?)"),
    (["run", "--input", "samples/raw", "--set", "split.stratify_by=langauge"], "(did you mean 'language'?)"),
])
def test_did_you_mean(argv: list[str], expected: str, repo_dir: Path, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(repo_dir)
    monkeypatch.setenv("CURATION_HOME", str(tmp_path))
    code = main([*argv, "--out", str(tmp_path / "run")] if argv[0] == "run" else argv)
    err = capsys.readouterr().err
    assert code == 2 and expected in err, err
    assert not (tmp_path / "run").exists()  # refused before any work


def test_jobs_list_has_a_header_times_and_the_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from curation.trainers.base import Job
    from curation.trainers.store import JobStore

    store = JobStore(tmp_path / "jobs.sqlite")
    job = Job.new("hf-local", tmp_path, {"model": "m"})
    job.status, job.error = "failed", "cannot load model\nsecond line"
    job.info["finished_at"] = job.created_at + 75
    store.save(job)
    assert main(["jobs", "list", "--db", str(store.path), "--no-refresh"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["JOB", "BACKEND", "STATUS", "STARTED", "DURATION", "MODEL", "/", "ERROR"]
    assert job.id in lines[1] and "1m15s" in lines[1] and lines[1].endswith("cannot load model")
