"""The Azure trainer uploads the Azure export and obeys Azure's model list and methods from the target table,
refusing before any network call; closed targets are refused for every backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FakeOpenAI

from curation.cli import main
from curation.errors import TrainerError
from curation.exporters import available_exporters
from curation.targets import TargetClosedError
from curation.trainers import jobs


def test_azure_uploads_the_azure_export_not_the_openai_one(fake_azure: FakeOpenAI, sft_run: Path, store) -> None:  # noqa: ANN001
    job = jobs.start(sft_run, "azure-openai", {"n_epochs": 1}, store=store)
    assert job.prepared.format == "azure-openai"
    assert job.prepared.train == str(sft_run / "exports" / "azure-openai" / "train.jsonl")
    azure_train = (sft_run / "exports" / "azure-openai" / "train.jsonl").read_bytes()
    uploaded = [fake_azure.contents[f] for f in fake_azure.files]
    assert azure_train in uploaded
    assert (sft_run / "exports" / "openai" / "train.jsonl").read_bytes() not in uploaded
    assert json.loads(next(r["raw"] for r in fake_azure.requests if r.get("operation") == "POST /fine_tuning/jobs")
                      )["model"] == "gpt-4.1-mini-2025-04-14"  # the default: open on Azure, SFT and DPO
    assert fake_azure.violations == []


def test_azure_refuses_dpo_on_gpt_4o_mini_before_any_request(fake_azure: FakeOpenAI, dpo_run: Path, store) -> None:  # noqa: ANN001
    with pytest.raises(TrainerError, match=r"does not fine-tune gpt-4o-mini-2024-07-18 with DPO \(it takes: sft\)"):
        jobs.start(dpo_run, "azure-openai", {"model": "gpt-4o-mini-2024-07-18"}, store=store)
    assert fake_azure.requests == []
    job = jobs.start(dpo_run, "azure-openai", {"model": "gpt-4.1-mini-2025-04-14"}, store=store)
    assert json.loads(next(r["raw"] for r in fake_azure.requests if r.get("operation") == "POST /fine_tuning/jobs")
                      )["method"] == {"type": "dpo"}
    assert job.status == "queued"


def test_azure_refuses_a_model_it_does_not_tune(fake_azure: FakeOpenAI, sft_run: Path, store) -> None:  # noqa: ANN001
    with pytest.raises(TrainerError, match="Azure OpenAI does not fine-tune 'gpt-5' .*gpt-4.1-mini-2025-04-14"):
        jobs.start(sft_run, "azure-openai", {"model": "gpt-5"}, store=store)
    assert fake_azure.requests == []


def test_closed_openai_model_refused_in_one_line_before_upload(
    fake_openai: FakeOpenAI, sft_run: Path, store, capsys, monkeypatch  # noqa: ANN001
) -> None:
    monkeypatch.setenv("CURATION_TODAY", "2026-12-02")
    code = main(["train", str(sft_run), "--backend", "openai", "--model", "gpt-4.1-nano-2025-04-14", "--detach",
                 "--db", str(store.path)])
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: refused to launch a job on openai:gpt-4.1-nano-2025-04-14")
    assert "shut down 2026-10-23" in lines[0] and "azure-openai" in lines[0]
    assert fake_openai.requests == [] and store.list() == []


def test_openai_after_2027_01_06_is_closed_and_before_is_a_dated_warning(
    fake_openai: FakeOpenAI, sft_run: Path, store, capsys, monkeypatch  # noqa: ANN001
) -> None:
    monkeypatch.setenv("CURATION_TODAY", "2026-12-02")
    code = main(["train", str(sft_run), "--backend", "openai", "--detach", "--db", str(store.path)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert ("warning: OpenAI stops new fine-tuning jobs on 2027-01-06 (35 days); gpt-4o-mini and its fine-tunes "
            "shut down on 2027-01-14. Open targets for this data: azure-openai, together, vertex-gemini, "
            + ("bedrock-nova, " if "bedrock-nova" in available_exporters() else "") + "hf-local") in err
    monkeypatch.setenv("CURATION_TODAY", "2027-01-07")
    n_requests = len(fake_openai.requests)
    with pytest.raises(TargetClosedError, match="no new jobs after 2027-01-06"):
        jobs.start(sft_run, "openai", {}, store=store)
    assert len(fake_openai.requests) == n_requests


def test_a_table_override_in_the_run_config_closes_a_target(fake_azure: FakeOpenAI, sft_run: Path, store) -> None:  # noqa: ANN001
    (sft_run / "config.yaml").write_text(
        "targets:\n  providers:\n    azure-openai:\n      status: {v: closed, src: azure-fine-tuning}\n")
    with pytest.raises(TargetClosedError, match="Azure OpenAI"):
        jobs.start(sft_run, "azure-openai", {}, store=store)
    assert fake_azure.requests == []
