"""`curate serve` (transformers' own server) answers the official `openai` client on 127.0.0.1, `curate eval`
and `curate chat` use it as a model reference, and a LoRA adapter folder is served too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from curation import serving
from curation.cli import main
from curation.serving import free_port


def _wait_for_reference(process: subprocess.Popen, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("model reference: "):
            return line.split(": ", 1)[1].strip()
        if not line and process.poll() is not None:
            raise AssertionError(f"curate serve exited {process.returncode}")
    raise AssertionError("curate serve did not start")


def test_curate_serve_answers_the_openai_client_and_serves_eval(trained_model: Path, samples_run: Path,
                                                                 tmp_path: Path, capsys) -> None:  # noqa: ANN001
    import openai

    port = free_port()
    env = {**os.environ, "CURATION_HOME": str(tmp_path / "home")}
    process = subprocess.Popen([sys.executable, "-m", "curation.cli", "serve", str(trained_model), "--port",
                                str(port), "--device", "cpu"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        reference = _wait_for_reference(process)
        base_url, model = reference.split("#")
        assert base_url == f"http://127.0.0.1:{port}/v1" and model == str(trained_model)
        client = openai.OpenAI(base_url=base_url, api_key="unused")
        answer = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Bonjour"}],
                                                max_tokens=6, temperature=0, seed=0)
        assert answer.choices[0].message.role == "assistant" and isinstance(answer.choices[0].message.content, str)
        assert answer.usage.completion_tokens > 0
        assert main(["chat", f"{reference};max_tokens=5", "--once", "Bonjour"]) == 0
        assert main(["eval", str(samples_run), "--model", f"{reference};label=served;max_tokens=6", "--baseline",
                     f"{trained_model};max_tokens=6", "--limit", "3", "-q", "--name", "served"]) == 0
    finally:
        process.send_signal(signal.SIGTERM)  # `kill PID`: the server child goes with it
        code = process.wait(timeout=30)
    assert code == 0
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
    summary = json.loads((samples_run / "eval" / "served" / "summary.json").read_text())
    served = summary["models"]["served"]
    assert served["errors"] == 0 and served["reference"]["kind"] == "endpoint" and served["tokens"]["completion"] > 0
    rows = [json.loads(line) for line in (samples_run / "eval" / "served" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 3


def test_a_lora_adapter_is_served_merged(base_model: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import openai
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("CURATION_HOME", str(tmp_path / "home"))
    adapter = tmp_path / "adapter"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base_model),
                           LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM"))
    model.save_pretrained(adapter)
    assert (adapter / "adapter_config.json").exists() and not (adapter / "config.json").exists()
    with serving.start(adapter, device="cpu") as server:
        assert Path(server.model).parent == tmp_path / "home" / "served"  # merged once, outside the adapter
        client = openai.OpenAI(base_url=server.base_url, api_key="unused")
        answer = client.chat.completions.create(model=server.model, max_tokens=4, temperature=0,
                                                messages=[{"role": "user", "content": "Bonjour"}])
        assert answer.choices[0].finish_reason in ("stop", "length")
    assert server.process.poll() is not None
    import curation.models_ref

    def no_second_merge(*args: object, **kwargs: object) -> None:
        raise AssertionError("the adapter was merged again")

    monkeypatch.setattr(curation.models_ref, "load_local_model", no_second_merge)
    assert serving.servable_folder(adapter) == Path(server.model)  # reused, not merged again
