"""Fixtures for the eval, serve and record tests: the bundled samples curated once, a tiny base model, the
same model trained a few steps by hf-local (shared by the whole session: CI stays fast), and a run holding
hand-made tool-call prompts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curation.cli import main  # noqa: E402

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
                   "required": ["city"]}}}]


@pytest.fixture(scope="session")
def samples_run(tmp_path_factory: pytest.TempPathFactory, repo_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("samples") / "run"
    assert main(["run", str(repo_dir / "samples" / "curation.yaml"), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def eval_store(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from curation.trainers.store import JobStore

    return JobStore(tmp_path_factory.mktemp("home") / "curation.sqlite")


@pytest.fixture(scope="session")
def base_model(tmp_path_factory: pytest.TempPathFactory, samples_run: Path) -> Path:
    from curation.commands.model import _DEFAULT_TEXTS, _texts_from
    from curation.trainers.tiny import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "base", _DEFAULT_TEXTS + _texts_from(samples_run))


@pytest.fixture(scope="session")
def trained_job(samples_run: Path, base_model: Path, eval_store):  # noqa: ANN001, ANN201
    """`curate train --backend hf-local --eval` on the samples run: 12 steps of a 2-layer model (seconds), then
    the tuned model against its base (8 tokens per answer)."""
    params = {"max_steps": 12, "save_steps": 12, "learning_rate": 5e-3, "per_device_train_batch_size": 4,
              "max_length": 128, "logging_steps": 4}
    argv = ["train", str(samples_run), "--backend", "hf-local", "--model", str(base_model), "--poll", "0.3",
            "--eval", "--eval-max-tokens", "8", "--db", str(eval_store.path)]
    for key, value in params.items():
        argv += ["--param", f"{key}={value}"]
    assert main(argv) == 0
    [job] = eval_store.list()
    assert job.status == "succeeded", job.error
    return job


@pytest.fixture(scope="session")
def trained_model(trained_job) -> Path:  # noqa: ANN001
    return Path(trained_job.output_model)


def tool_records() -> list[dict]:
    """Three hand-made held-out prompts: one wants a call, one wants other arguments, one wants no call."""
    ask = [{"role": "system", "content": "You can call tools."}]
    return [
        {"id": "call-paris", "tools": TOOLS, "messages": [*ask, {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
                "name": "get_weather", "arguments": '{"city": "Paris", "unit": "C"}'}}]}]},
        {"id": "call-lyon", "tools": TOOLS, "messages": [*ask, {"role": "user", "content": "Weather in Lyon?"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c2", "type": "function", "function": {
                "name": "get_weather", "arguments": '{"city": "Lyon"}'}}]}]},
        {"id": "no-call", "tools": TOOLS, "messages": [*ask, {"role": "user", "content": "Say thanks."},
            {"role": "assistant", "content": "Thank you!"}]},
    ]


@pytest.fixture
def tool_run(tmp_path: Path) -> Path:
    run = tmp_path / "tools_run"
    (run / "splits").mkdir(parents=True)
    (run / "splits" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in tool_records()))
    return run
