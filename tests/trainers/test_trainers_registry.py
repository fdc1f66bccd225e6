"""The backend registry, the job store and the CLI over a mock backend."""

from __future__ import annotations

import sqlite3
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from curation import plugins
from curation.cli import main
from curation.errors import ConfigError, CurationError
from curation.trainers import jobs
from curation.trainers.base import Job, PreparedData, TrainerBackend, get_backend, list_backends, parse_params
from curation.trainers.store import JobStore, default_db_path

BUILTINS = {"openai", "azure-openai", "hf-local", "autotrain"}


class MockParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = "mock-model"
    steps: int = 2


class MockBackend(TrainerBackend):
    """Succeeds after ``steps`` refreshes; records every call."""

    name: ClassVar[str] = "mock"
    description: ClassVar[str] = "a test double"
    Params: ClassVar[type[BaseModel]] = MockParams
    calls: ClassVar[list[str]] = []

    def prepare(self, run_dir: Path, params: dict[str, Any]) -> PreparedData:
        self.calls.append("prepare")
        return PreparedData(kind="sft", format="mock", train=str(run_dir / "train.jsonl"), n_train=3)

    def launch(self, job: Job) -> Job:
        self.calls.append("launch")
        job.provider_job_id, job.status = "mock-1", "running"
        return job

    def status(self, job: Job) -> Job:
        self.calls.append("status")
        seen = job.metrics.get("step", 0) + 1
        job.metrics["step"] = seen
        job.events.append({"id": f"e{seen}", "created_at": 0, "level": "info", "message": f"step {seen}"})
        if seen >= job.params["steps"]:
            job.status, job.output_model = "succeeded", "mock-model-ft"
        return job

    def cancel(self, job: Job) -> Job:
        self.calls.append("cancel")
        job.status = "cancelled"
        return job


@pytest.fixture
def mock_backend() -> type[MockBackend]:
    MockBackend.calls = []
    plugins.register(plugins.TRAINER_GROUP, "mock", MockBackend)
    return MockBackend


def test_installed_entry_points_list_the_builtins() -> None:
    installed = {ep.name: ep.value for ep in entry_points(group="curation.trainers")}
    assert BUILTINS <= set(installed)
    assert installed["hf-local"] == "curation.trainers.hf_local:HFLocalBackend"
    for name in BUILTINS:
        assert get_backend(name).name == name
    with pytest.raises(CurationError, match="unknown trainer backend 'nope'"):
        get_backend("nope")


def test_mock_backend_is_listed_and_usable(mock_backend, tmp_path: Path, store, capsys) -> None:  # noqa: ANN001
    assert "mock" in list_backends() and BUILTINS <= set(list_backends())
    run = tmp_path / "run"
    run.mkdir()
    db = ["--db", str(store.path)]
    assert main(["train", str(run), "--backend", "mock", "--param", "steps=3", "--poll", "0", *db]) == 0
    out = capsys.readouterr().out
    assert "step 1" in out and "step 3" in out and "status: succeeded" in out and "mock-model-ft" in out
    assert mock_backend.calls == ["prepare", "launch", "status", "status", "status"]
    [job] = store.list()
    assert job.params == {"model": "mock-model", "steps": 3} and job.prepared.format == "mock"

    assert main(["train", str(run), "-b", "mock", "-m", "other", "--detach", *db]) == 0
    assert "follow with: curate jobs show" in capsys.readouterr().out
    assert store.list()[0].params["model"] == "other"
    assert main(["jobs", "list", "--no-refresh", *db]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split()[2] == "STATUS"  # the header line
    assert [line.split()[2] for line in listing[1:]] == ["running", "succeeded"]
    assert main(["jobs", "cancel", store.list()[0].id, *db]) == 0
    assert store.list()[0].status == "cancelled"
    assert main(["jobs", "backends"]) == 0
    assert "mock" in capsys.readouterr().out
    assert main(["train", str(run), "--backend", "mock", "--param", "colour=red", *db]) == 2
    assert "invalid params for backend 'mock'" in capsys.readouterr().err


def test_store_survives_reopen_and_uses_wal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATION_HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / "curation.sqlite"
    first = JobStore()
    job = Job.new("mock", tmp_path, {"a": 1})
    job.metrics = {"loss": 1.5}
    first.save(job)
    again = JobStore()  # a new CLI process
    loaded = again.get(job.id[:12])
    assert loaded.id == job.id and loaded.metrics == {"loss": 1.5} and loaded.status == "queued"
    assert again.get(job.id[-6:]).id == job.id
    with pytest.raises(CurationError, match="no job matching 'zzz'"):
        again.get("zzz")
    conn = sqlite3.connect(again.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    again.delete(job.id)
    assert again.list() == []


def test_parse_params_reads_yaml_scalars() -> None:
    assert parse_params(["n_epochs=3", "lora=true", "lr=5e-3", "suffix=v1", "empty="]) == {
        "n_epochs": 3,
        "lora": True,
        "lr": 5e-3,
        "suffix": "v1",
        "empty": "",
    }
    with pytest.raises(ConfigError, match="not KEY=VALUE"):
        parse_params(["n_epochs"])


def test_start_refuses_a_missing_run_folder(mock_backend, tmp_path: Path, store) -> None:  # noqa: ANN001
    with pytest.raises(CurationError, match="does not exist"):
        jobs.start(tmp_path / "nope", "mock", {}, store=store)
