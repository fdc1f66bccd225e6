"""hf-local for real: a tiny Llama trained with TRL in a worker process, killed, resumed, loaded back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curation.cli import main
from curation.trainers import jobs
from curation.trainers.hf_local import HFLocalBackend, last_checkpoint, read_metrics

FAST = {"learning_rate": 5e-3, "per_device_train_batch_size": 4, "max_length": 128, "logging_steps": 1}


def _wait(job_id: str, store, timeout: float = 120.0):  # noqa: ANN001, ANN202
    return jobs.follow(job_id, store=store, poll_s=0.3, timeout_s=timeout)


def _generate(model_dir: Path) -> str:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Bonjour"}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=5, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]
    return tokenizer.decode(out[0])


def test_sft_and_dpo_train_in_worker_processes(sft_run: Path, dpo_run: Path, tiny_model: Path, store) -> None:  # noqa: ANN001
    # Both start at once so their process start-ups overlap (2 cores here).
    sft = jobs.start(
        sft_run, "hf-local", {"model": str(tiny_model), "max_steps": 24, "save_steps": 8, **FAST}, store=store
    )
    dpo = jobs.start(
        dpo_run,
        "hf-local",
        {"model": str(tiny_model), "max_steps": 4, "save_steps": 2, "lora": True, **FAST},
        store=store,
    )
    assert sft.status == dpo.status == "running" and sft.pid != dpo.pid
    assert (sft.prepared.kind, dpo.prepared.kind) == ("sft", "dpo")

    sft = _wait(sft.id, store)
    assert sft.status == "succeeded", sft.error
    job_dir = HFLocalBackend.job_dir(sft)
    losses = [m["loss"] for m in read_metrics(job_dir) if "loss" in m]
    assert len(losses) == 24
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4 - 0.3, losses
    assert sft.metrics["loss"] == losses[-1] and sft.metrics["first_loss"] == losses[0]
    assert "eval_loss" in sft.metrics  # the validation split was evaluated
    assert sft.info["checkpoints"] == ["checkpoint-8", "checkpoint-16", "checkpoint-24"]
    assert sft.output_model == str(job_dir / "final")
    assert _generate(Path(sft.output_model)).startswith("<|im_start|>user\nBonjour<|im_end|>")

    dpo = _wait(dpo.id, store)
    assert dpo.status == "succeeded", dpo.error
    dpo_dir = HFLocalBackend.job_dir(dpo)
    rows = read_metrics(dpo_dir)
    assert any("rewards/margins" in m for m in rows)
    assert (dpo_dir / "adapter" / "adapter_config.json").exists()  # LoRA adapter, plus a merged final model
    _generate(Path(dpo.output_model))


def test_killed_worker_is_resumable_and_resumes(sft_run: Path, tiny_model: Path, store, capsys) -> None:  # noqa: ANN001
    job = jobs.start(
        sft_run, "hf-local", {"model": str(tiny_model), "max_steps": 2000, "save_steps": 3, **FAST}, store=store
    )
    job_dir = HFLocalBackend.job_dir(job)
    deadline = time.monotonic() + 90
    while last_checkpoint(job_dir) is None:
        assert time.monotonic() < deadline, (job_dir / "worker.log").read_text()
        assert jobs.refresh(job.id, store=store).status == "running"
        time.sleep(0.2)
    os.kill(job.pid, signal.SIGKILL)
    time.sleep(0.3)

    job = jobs.refresh(job.id, store=store)
    assert job.status == "resumable"
    assert f"curate train --resume {job.id}" in job.error and "ended without a report" in job.error
    step = int(last_checkpoint(job_dir).name.split("-")[1])

    code = main(
        ["train", "--resume", job.id, "--param", f"max_steps={step + 3}", "--poll", "0.3", "--db", str(store.path)]
    )
    out = capsys.readouterr()
    assert code == 0, out.err + (job_dir / "worker.log").read_text()[-2000:]
    assert f"resumed job {job.id}" in out.out and "status: succeeded" in out.out
    job = store.get(job.id)
    assert job.status == "succeeded" and job.params["max_steps"] == step + 3
    assert "resuming from checkpoint-" in (job_dir / "worker.log").read_text()
    assert max(m["step"] for m in read_metrics(job_dir)) == step + 3
    assert (Path(job.output_model) / "config.json").exists()


def test_dead_worker_without_checkpoint_is_failed_not_running(sft_run: Path, tiny_model: Path, store) -> None:  # noqa: ANN001
    backend = HFLocalBackend()
    params = backend.check_params({"model": str(tiny_model)})
    from curation.trainers.base import Job

    job = Job.new("hf-local", sft_run, params)
    job.prepared = backend.prepare(sft_run, params)
    job_dir = backend.job_dir(job)
    job_dir.mkdir(parents=True)
    # A pid that is alive but is not this job's worker (pid reuse) counts as dead.
    job.pid, job.status = os.getpid(), "running"
    store.save(job)
    job = jobs.refresh(job.id, store=store)
    assert job.status == "failed" and "before any checkpoint" in job.error
    # A pid that has exited, started by another process (not reaped here).
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    job.pid, job.status, job.error = int(gone.stdout), "running", None
    store.save(job)
    assert jobs.refresh(job.id, store=store).status == "failed"
    with pytest.raises(Exception, match="no checkpoint to resume from"):
        jobs.resume(job.id, store=store)


def test_hub_model_offline_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    from curation.trainers.hf_local_worker import WorkerError, _load_model_and_tokenizer

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # read at import, so patch the constant
    with pytest.raises(
        WorkerError, match="cannot load 'some-org/no-such-model' from the Hugging Face Hub .*--model DIR"
    ):
        _load_model_and_tokenizer("some-org/no-such-model")
    with pytest.raises(WorkerError, match="does not exist"):
        _load_model_and_tokenizer("/nowhere/model")


def test_chatml_only_when_allowed(tiny_model: Path) -> None:
    from transformers import AutoTokenizer

    from curation.trainers.hf_local_worker import WorkerError, _chat_template
    from curation.trainers.tiny import CHATML_TEMPLATE

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    notes: list[str] = []
    tokenizer.chat_template = None
    with pytest.raises(WorkerError, match="no chat template .*chatml_fallback=true"):
        _chat_template(tokenizer, {}, notes.append)
    _chat_template(tokenizer, {"chatml_fallback": True}, notes.append)
    assert tokenizer.chat_template == CHATML_TEMPLATE and "chatml_fallback is on" in notes[0]
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    _chat_template(tokenizer, {"assistant_only_loss": True, "chatml_fallback": True}, notes.append)
    assert tokenizer.chat_template == CHATML_TEMPLATE and "no {% generation %} markers" in notes[1]
    mask = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Salut"}, {"role": "assistant", "content": "Bonjour"}],
        return_dict=True,
        return_assistant_tokens_mask=True,
    )["assistant_masks"]
    assert 0 < sum(mask) < len(mask)  # loss on the assistant turn only
    _chat_template(
        tokenizer, {"chat_template": "{{ messages[0]['content'] }}", "assistant_only_loss": False}, notes.append
    )
    assert tokenizer.chat_template == "{{ messages[0]['content'] }}"


def test_an_hf_export_with_a_file_deleted_since_it_was_written_is_not_trained_on(sft_run: Path) -> None:
    from curation.run_folder import RunFolderError, seal_export

    seal_export(sft_run, "hf")  # as export_run seals what it writes
    gone = next((sft_run / "exports" / "hf" / "validation").glob("*.arrow"))
    gone.unlink()  # trained without its validation split, it would look like the curated run
    with pytest.raises(RunFolderError) as err:
        HFLocalBackend().prepare(sft_run, {})
    assert str(err.value).startswith(f"{gone}: deleted after the export was written")
    assert "training refused" in str(err.value) and f"curate export {sft_run} --to hf" in str(err.value)
