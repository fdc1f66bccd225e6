"""The rest of Azure's fine-tuning tutorial against the fake: follow the deployment until ready, call it once,
delete it; the CLI says a deployment costs per hour; `jobs show` tells it exists."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import AZURE_KEY, MGMT_TOKEN, FakeOpenAI

from curation.cli import main
from curation.trainers import jobs


def _succeeded_job(sft_run: Path, store):  # noqa: ANN001, ANN202
    job = jobs.start(sft_run, "azure-openai", {"model": "gpt-4o-mini-2024-07-18", "n_epochs": 1}, store=store)
    return jobs.follow(job.id, store=store, poll_s=0)


def test_deploy_follows_until_ready_smoke_tests_and_undeploys(fake_azure: FakeOpenAI, sft_run: Path, store,
                                                              capsys) -> None:  # noqa: ANN001
    job = _succeeded_job(sft_run, store)
    assert job.status == "succeeded"
    code = main(["jobs", "deploy", job.id, "--deployment-name", "curated-v1", "--poll", "0", "--subscription",
                 "sub-1", "--resource-group", "rg-1", "--account", "acct", "--db", str(store.path)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "costs per hour" in out.err and "curate jobs undeploy" in out.err
    assert "deployment curated-v1: Succeeded" in out.out and "smoke test" in out.out and "Hello there!" in out.out
    deployment = store.get(job.id).info["deployment"]
    assert deployment["provisioning_state"] == "Succeeded"
    assert deployment["smoke_test"]["answer"] == "Hello there!"
    gets = [r for r in fake_azure.requests if r["method"] == "GET" and r["path"].startswith("/subscriptions/")]
    assert len(gets) == 3  # Creating, Creating, Succeeded
    chats = [r for r in fake_azure.requests if r["path"].endswith("/chat/completions")]
    assert [r["path"] for r in chats] == ["/openai/deployments/curated-v1/chat/completions"]
    assert chats[0]["headers"]["api-key"] == AZURE_KEY
    # the deployment is a model reference for `curate eval` (AzureOpenAI client, key from the environment)
    (sft_run / "splits").mkdir(exist_ok=True)
    (sft_run / "splits" / "test.jsonl").write_text(json.dumps({"id": "t1", "messages": [
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there!"}]}) + "\n")
    assert main(["eval", str(sft_run), "--model", "azure:curated-v1;api_version=2024-10-21", "-q"]) == 0
    summary = json.loads((sft_run / "eval" / "azure-curated-v1" / "summary.json").read_text())
    assert summary["models"]["azure:curated-v1"]["metrics"]["exact"]["mean"] == 1.0
    capsys.readouterr()
    assert main(["jobs", "show", job.id, "--db", str(store.path)]) == 0
    assert "deployment: curated-v1 (Succeeded); costs per hour" in capsys.readouterr().out
    assert main(["jobs", "undeploy", job.id, "--db", str(store.path)]) == 0
    assert "deleted deployment curated-v1" in capsys.readouterr().out
    assert [r["method"] for r in fake_azure.requests if r["path"].startswith("/subscriptions/")][-1] == "DELETE"
    assert store.get(job.id).info["deployment"]["deleted"] is True
    assert main(["jobs", "undeploy", job.id, "--db", str(store.path)]) == 2  # nothing left to delete
    assert "has no deployment" in capsys.readouterr().err
    assert fake_azure.violations == []
    for row in store.list():
        assert MGMT_TOKEN not in row.model_dump_json() and AZURE_KEY not in row.model_dump_json()


def test_a_failed_deployment_is_an_error_with_a_fix(fake_azure: FakeOpenAI, sft_run: Path, store, monkeypatch,
                                                    capsys) -> None:  # noqa: ANN001
    from curation.trainers.azure_openai import AzureOpenAIBackend

    job = _succeeded_job(sft_run, store)
    job = jobs.deploy(job.id, store=store, subscription="s", resource_group="r", account="a", deployment_name="d")

    def failed(self, job):  # noqa: ANN001, ANN202
        job.info["deployment"]["provisioning_state"] = "Failed"
        return job

    monkeypatch.setattr(AzureOpenAIBackend, "deployment_state", failed)
    try:
        jobs.follow_deployment(job.id, store=store, poll_s=0)
    except Exception as exc:  # noqa: BLE001 - the message is what is checked
        assert "is Failed" in str(exc) and "fix:" in str(exc)
    else:
        raise AssertionError("a failed deployment must raise")
    assert store.get(job.id).info["deployment"]["provisioning_state"] == "Failed"
