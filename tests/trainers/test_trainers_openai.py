"""OpenAI and Azure OpenAI backends: the real openai client against a spec-checking local server."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from conftest import API_KEY, AZURE_KEY, MGMT_TOKEN, FakeOpenAI, write_openai_export

from curation.cli import main
from curation.errors import ConfigError, TrainerError
from curation.trainers import jobs


def _ops(fake: FakeOpenAI) -> list[str]:
    return [r.get("operation", f"{r['method']} {r['path']}") for r in fake.requests]


def _create_body(fake: FakeOpenAI) -> dict:
    return json.loads(next(r["raw"] for r in fake.requests if r.get("operation") == "POST /fine_tuning/jobs"))


def test_spec_checker_catches_bad_requests(fake_openai: FakeOpenAI) -> None:
    """The checker is not vacuous: an out-of-range hyperparameter and an unknown upload field are violations."""
    bad = {
        "model": "gpt-4o-mini",
        "training_file": "file-x",
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 0}}},
    }
    request = urllib.request.Request(
        fake_openai.url + "/v1/fine_tuning/jobs",
        data=json.dumps(bad).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request)
    assert err.value.code == 400
    assert any("n_epochs" in v for v in fake_openai.violations)
    fake_openai.violations.clear()
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="colour"\r\n\r\nblue\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="t.jsonl"\r\n\r\n{{}}\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    request = urllib.request.Request(
        fake_openai.url + "/v1/files",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request)
    assert any("colour" in v for v in fake_openai.violations)


def test_supervised_job_walks_to_succeeded(fake_openai: FakeOpenAI, sft_run: Path, store) -> None:  # noqa: ANN001
    params = {
        "model": "gpt-4o-mini-2024-07-18",
        "n_epochs": 2,
        "learning_rate_multiplier": 0.5,
        "suffix": "curated",
        "seed": 7,
    }
    job = jobs.start(sft_run, "openai", params, store=store)
    assert job.status == "queued" and job.provider_job_id.startswith("ftjob-")
    uploads = [f for f in fake_openai.files.values()]
    assert [f["purpose"] for f in uploads] == ["fine-tune", "fine-tune"]
    assert [f["filename"] for f in uploads] == ["train.jsonl", "validation.jsonl"]
    body = _create_body(fake_openai)
    assert body["method"] == {
        "type": "supervised",
        "supervised": {"hyperparameters": {"n_epochs": 2, "learning_rate_multiplier": 0.5}},
    }
    assert body["validation_file"] == job.info["validation_file"] and body["suffix"] == "curated" and body["seed"] == 7

    seen: list[str] = []
    job = jobs.follow(job.id, store=store, poll_s=0, on_update=lambda j: seen.append(j.status))
    assert seen == ["queued", "running", "succeeded"]
    assert job.output_model.startswith("ft:gpt-4o-mini-2024-07-18:")
    assert job.metrics["train_loss"] == 0.9 and job.metrics["trained_tokens"] == 5768
    assert [c["step"] for c in job.info["checkpoints"]] == [1, 2, 3]
    messages = [e["message"] for e in job.events]
    assert messages[0].startswith("Created fine-tuning job") and messages[-1] == "The job has successfully completed"
    assert {
        "GET /fine_tuning/jobs/{fine_tuning_job_id}/events",
        "GET /fine_tuning/jobs/{fine_tuning_job_id}/checkpoints",
    } <= set(_ops(fake_openai))
    assert store.get(job.id).status == "succeeded"  # persisted, readable by a new process
    assert fake_openai.violations == []


def test_dpo_job_uses_dpo_method_with_beta(fake_openai: FakeOpenAI, dpo_run: Path, store) -> None:  # noqa: ANN001
    job = jobs.start(dpo_run, "openai", {"model": "gpt-4.1-mini-2025-04-14", "beta": 0.2, "n_epochs": 1}, store=store)
    assert job.prepared.kind == "dpo"
    assert _create_body(fake_openai)["method"] == {
        "type": "dpo",
        "dpo": {"hyperparameters": {"n_epochs": 1, "beta": 0.2}},
    }
    assert jobs.follow(job.id, store=store, poll_s=0).status == "succeeded"
    assert fake_openai.violations == []


def test_failed_job_reports_provider_error(fake_openai: FakeOpenAI, tmp_path: Path, conversations, store) -> None:  # noqa: ANN001
    run = tmp_path / "small"
    write_openai_export(run, conversations[:7], n_val=0)
    job = jobs.start(run, "openai", {}, store=store)
    assert "validation_file" not in _create_body(fake_openai)
    job = jobs.follow(job.id, store=store, poll_s=0)
    assert job.status == "failed"
    assert job.error == "invalid_n_examples: Training file has 7 example(s), but must have at least 10 examples"
    assert fake_openai.violations == []


def test_cancel_job(fake_openai: FakeOpenAI, sft_run: Path, store, capsys) -> None:  # noqa: ANN001
    job = jobs.start(sft_run, "openai", {}, store=store)
    assert main(["jobs", "cancel", job.id[-6:], "--db", str(store.path)]) == 0
    assert "cancelled" in capsys.readouterr().out
    assert store.get(job.id).status == "cancelled"
    assert "POST /fine_tuning/jobs/{fine_tuning_job_id}/cancel" in _ops(fake_openai)
    with pytest.raises(TrainerError, match="already cancelled"):
        jobs.cancel(job.id, store=store)
    assert fake_openai.violations == []


def test_bad_key_is_one_clear_line_and_never_stored(
    fake_openai: FakeOpenAI,
    sft_run: Path,
    store,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    wrong = "sk-wrong-SECRET-9d8c7b6a5f4e"
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    code = main(["train", str(sft_run), "--backend", "openai", "--db", str(store.path)])
    # (the dated warning about OpenAI's 2027-01-06 cutoff comes first; the error itself is one line)
    err = "\n".join(x for x in capsys.readouterr().err.strip().splitlines() if not x.startswith("warning: "))
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "OpenAI API error 401 (invalid_api_key): Incorrect API key provided" in err
    assert "fix: check the API key" in err
    assert wrong not in err
    [job] = store.list()
    assert job.status == "failed" and "401" in job.error
    _assert_secret_absent(wrong, store, sft_run)


def test_quota_and_bad_model_errors_carry_provider_message(fake_openai: FakeOpenAI, sft_run: Path, store) -> None:  # noqa: ANN001
    with pytest.raises(TrainerError) as quota:
        jobs.start(sft_run, "openai", {"model": "quota-model", "max_retries": 0}, store=store)
    assert str(quota.value).startswith("OpenAI API error 429 (insufficient_quota): You exceeded your current quota")
    with pytest.raises(TrainerError) as model:
        jobs.start(sft_run, "openai", {"model": "gpt-4-0613"}, store=store)
    assert "400 (model_not_available): Model gpt-4-0613 is not available for fine-tuning" in str(model.value)
    with pytest.raises(TrainerError, match="method 'dpo' does not match the export kind 'sft'"):
        jobs.start(sft_run, "openai", {"method": "dpo"}, store=store)
    assert [j.status for j in store.list()] == ["failed", "failed", "failed"]
    assert fake_openai.violations == []


def test_params_are_checked_and_credentials_refused(sft_run: Path, store) -> None:  # noqa: ANN001
    with pytest.raises(ConfigError, match="n_epochs"):
        jobs.start(sft_run, "openai", {"n_epochs": 0}, store=store)
    with pytest.raises(ConfigError, match="allowed: model"):
        jobs.start(sft_run, "openai", {"epochs": 3}, store=store)
    with pytest.raises(ConfigError, match="looks like a credential"):
        jobs.start(sft_run, "openai", {"api_key": "sk-123456"}, store=store)
    assert store.list() == []


def _assert_secret_absent(secret: str, store, *folders: Path) -> None:  # noqa: ANN001
    files = [p for p in store.path.parent.iterdir() if p.is_file()]
    for folder in folders:
        files += [p for p in folder.rglob("*") if p.is_file()]
    for path in files:
        assert secret.encode() not in path.read_bytes(), f"secret found in {path}"


def test_key_never_written_to_db_or_logs(fake_openai: FakeOpenAI, sft_run: Path, store, capsys) -> None:  # noqa: ANN001
    code = main(["train", str(sft_run), "--backend", "openai", "--db", str(store.path), "--poll", "0"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "status: succeeded" in out.out and "The job has successfully completed" in out.out
    assert main(["jobs", "logs", store.list()[0].id, "--db", str(store.path)]) == 0
    assert main(["jobs", "show", store.list()[0].id, "--json", "--db", str(store.path)]) == 0
    out = capsys.readouterr()
    assert API_KEY not in out.out + out.err
    _assert_secret_absent(API_KEY, store, sft_run)
    assert any(r["headers"].get("authorization") == f"Bearer {API_KEY}" for r in fake_openai.requests)


def test_azure_job_and_deploy(fake_azure: FakeOpenAI, sft_run: Path, store, capsys) -> None:  # noqa: ANN001
    job = jobs.start(
        sft_run,
        "azure-openai",
        {"model": "gpt-4o-mini-2024-07-18", "api_version": "2024-10-21", "n_epochs": 1},
        store=store,
    )
    assert all(
        r["path"].startswith("/openai/") and r["query"].get("api-version") == "2024-10-21" for r in fake_azure.requests
    )
    job = jobs.follow(job.id, store=store, poll_s=0)
    assert job.status == "succeeded"
    code = main(
        [
            "jobs",
            "deploy",
            job.id,
            "--subscription",
            "sub-1",
            "--resource-group",
            "rg-1",
            "--account",
            "acct",
            "--deployment-name",
            "curated-v1",
            "--no-wait",
            "--db",
            str(store.path),
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "deployment curated-v1" in out.out and "Creating" in out.out
    assert "costs per hour" in out.err
    [deployment] = fake_azure.deployments
    assert deployment["sub"] == "sub-1" and deployment["rg"] == "rg-1" and deployment["account"] == "acct"
    assert deployment["body"]["properties"]["model"] == {"format": "OpenAI", "name": job.output_model, "version": "1"}
    assert store.get(job.id).info["deployment"]["provisioning_state"] == "Creating"
    assert fake_azure.violations == []
    for secret in (AZURE_KEY, MGMT_TOKEN):
        _assert_secret_absent(secret, store, sft_run)


def test_azure_bad_key_and_unfinished_deploy(fake_azure: FakeOpenAI, sft_run: Path, store, monkeypatch) -> None:  # noqa: ANN001
    job = jobs.start(sft_run, "azure-openai", {}, store=store)
    with pytest.raises(TrainerError, match="no fine-tuned model yet"):
        jobs.deploy(job.id, store=store, subscription="s", resource_group="r", account="a", deployment_name="d")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "wrong-azure-key-123")
    with pytest.raises(TrainerError) as err:
        jobs.refresh(job.id, store=store)
    assert str(err.value).startswith("Azure OpenAI API error 401: Access denied due to invalid subscription key")
    assert fake_azure.violations == []


def test_an_export_edited_since_it_was_written_is_not_uploaded(fake_openai: FakeOpenAI, sft_run: Path,
                                                               store) -> None:  # noqa: ANN001
    from curation.run_folder import RunFolderError, seal_export

    seal_export(sft_run, "openai")  # as export_run seals what it writes
    train = sft_run / "exports" / "openai" / "train.jsonl"
    train.write_text(train.read_text() + train.read_text().splitlines()[0] + "\n")
    with pytest.raises(RunFolderError) as err:
        jobs.start(sft_run, "openai", {"model": "gpt-4o-mini-2024-07-18"}, store=store)
    assert str(err.value) == (f"{train}: changed after the export was written, so exports/openai is not what was "
                              f"exported; training refused (fix: re-run `curate export {sft_run} --to openai`)")
    assert fake_openai.files == {} and err.value.exit_code == 2
