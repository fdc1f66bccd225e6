"""AutoTrain backend: the config YAML, the missing-install message, and a launched `autotrain` command."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml

from curation.trainers import jobs


def test_missing_autotrain_fails_with_install_and_command(sft_run: Path, store, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    job = jobs.start(sft_run, "autotrain", {"model": "HuggingFaceTB/SmolLM2-135M-Instruct", "epochs": 2}, store=store)
    assert job.status == "failed"
    config = Path(job.info["config"])
    assert "pip install autotrain-advanced" in job.error
    assert f"autotrain --config {config}" in job.error
    spec = yaml.safe_load(config.read_text())
    assert spec["task"] == "llm-sft" and spec["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert spec["project_name"] == f"curation-{job.id}"
    assert spec["data"]["column_mapping"] == {"text_column": "messages"}
    assert spec["data"]["chat_template"] == "tokenizer" and spec["data"]["valid_split"] == "validation"
    assert spec["params"]["epochs"] == 2 and spec["hub"] == {"username": None, "token": None, "push_to_hub": False}
    rows = [json.loads(line) for line in (Path(spec["data"]["path"]) / "train.jsonl").read_text().splitlines()]
    assert len(rows) == 36 and set(rows[0]) == {"messages"} and rows[0]["messages"][0]["role"] == "user"
    assert store.get(job.id).status == "failed"


def test_dpo_data_maps_to_llm_dpo(dpo_run: Path, store, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    job = jobs.start(dpo_run, "autotrain", {"model": "m", "dpo_beta": 0.2}, store=store)
    spec = yaml.safe_load(Path(job.info["config"]).read_text())
    assert spec["task"] == "llm-dpo" and spec["params"]["dpo_beta"] == 0.2
    assert spec["data"]["column_mapping"] == {
        "prompt_text_column": "prompt",
        "text_column": "chosen",
        "rejected_text_column": "rejected",
    }


@pytest.mark.parametrize(("exit_code", "status"), [(0, "succeeded"), (3, "failed")])
def test_installed_autotrain_is_launched(
    sft_run: Path,
    store,
    monkeypatch,
    tmp_path: Path,
    exit_code: int,
    status: str,  # noqa: ANN001
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "autotrain"
    fake.write_text(f'#!/bin/sh\necho "autotrain args: $@"\necho "training done"\nexit {exit_code}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    job = jobs.start(sft_run, "autotrain", {"model": "m"}, store=store)
    assert job.status == "running" and job.pid
    job = jobs.follow(job.id, store=store, poll_s=0.1, timeout_s=20)
    assert job.status == status
    log = "\n".join(jobs.logs(job.id, store=store))
    assert f"autotrain args: --config {job.info['config']}" in log
    if exit_code == 0:
        assert job.output_model.endswith(f"curation-{job.id}")
    else:
        assert job.error == "autotrain exited with code 3: training done"
