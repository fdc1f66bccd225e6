"""AutoTrain Advanced: write an LLM fine-tuning config YAML for the curated data and run ``autotrain --config``.

AutoTrain is a separate install (``pip install autotrain-advanced``; its maintainers no longer develop
it). When the ``autotrain`` command is missing the job fails at once with what to install and the
exact command to run once it is.

The YAML follows AutoTrain's own parser (``autotrain/parser.py``, AutoTrainConfigParser, upstream commit
b5c98fbe of 2025-01-21): it reads ``hub.username``, ``hub.token`` and ``hub.push_to_hub`` whenever ``hub``
is present, so all three are written (null: nothing is pushed). Its DPO preprocessing ignores the prompt
column and rebuilds the prompt from ``chosen[:-1]`` (the completions are ``chosen[-1:]`` /
``rejected[-1:]``), so DPO rows carry whole conversations: ``chosen`` = prompt + chosen turn, ``rejected``
= prompt + rejected turn (a completion of several turns is cut to its last, which AutoTrain trains on).
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from ..errors import TrainerError
from . import local_process
from .base import Job, PreparedData
from .hf_local import HFLocalBackend

EXIT_CODE = "exit_code"


class AutoTrainParams(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    model: str = Field(..., description="base_model: hub name or local folder")
    chat_template: Literal["tokenizer", "chatml", "zephyr"] | None = "tokenizer"
    epochs: int = Field(1, ge=1)
    batch_size: int = Field(2, ge=1)
    lr: float = Field(2e-5, gt=0)
    block_size: int = Field(1024, ge=8)
    model_max_length: int = Field(2048, ge=8)
    gradient_accumulation: int = Field(1, ge=1)
    peft: bool = False
    quantization: Literal["int4", "int8"] | None = None
    target_modules: str = "all-linear"
    merge_adapter: bool = True
    mixed_precision: Literal["fp16", "bf16"] | None = None
    scheduler: str = "linear"
    optimizer: str = "adamw_torch"
    padding: Literal["left", "right"] = "right"
    seed: int = 42
    dpo_beta: float = Field(0.1, gt=0)


def _whole_conversations(row: dict[str, Any]) -> dict[str, Any]:
    """AutoTrain's DPO rows: the prompt turns, then the last turn of each completion (see the module doc)."""
    prompt = list(row["prompt"])
    return {"prompt": prompt, "chosen": prompt + list(row["chosen"])[-1:],
            "rejected": prompt + list(row["rejected"])[-1:]}


class AutoTrainBackend(local_process.LocalProcessBackend):
    name: ClassVar[str] = "autotrain"
    description: ClassVar[str] = (
        "AutoTrain Advanced (llm-sft / llm-dpo) config + `autotrain --config` (separate install)"
    )
    Params: ClassVar[type[BaseModel]] = AutoTrainParams

    def prepare(self, run_dir: Path, params: dict[str, Any]) -> PreparedData:
        return HFLocalBackend().prepare(run_dir, params)

    def write_config(self, job: Job) -> Path:
        """Write the job's data as JSONL and its AutoTrain config; returns the config path."""
        from datasets import load_from_disk

        assert job.prepared is not None
        job_dir = self.job_dir(job)
        data_dir = job_dir / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        dpo = job.prepared.kind == "dpo"
        columns = ["prompt", "chosen", "rejected"] if dpo else ["messages"]
        data = load_from_disk(job.prepared.train)
        for split in ("train", "validation"):
            if split in data and len(data[split]):
                rows = data[split].select_columns(columns)
                if dpo:
                    rows = rows.map(_whole_conversations)
                rows.to_json(str(data_dir / f"{split}.jsonl"), lines=True)
        p = job.params
        mapping = (
            {"prompt_text_column": "prompt", "text_column": "chosen", "rejected_text_column": "rejected"}
            if dpo
            else {"text_column": "messages"}
        )
        params: dict[str, Any] = {
            "block_size": p["block_size"],
            "model_max_length": p["model_max_length"],
            "epochs": p["epochs"],
            "batch_size": p["batch_size"],
            "lr": p["lr"],
            "peft": p["peft"],
            "quantization": p.get("quantization"),
            "target_modules": p["target_modules"],
            "padding": p["padding"],
            "optimizer": p["optimizer"],
            "scheduler": p["scheduler"],
            "gradient_accumulation": p["gradient_accumulation"],
            "mixed_precision": p.get("mixed_precision"),
            "merge_adapter": p["merge_adapter"],
            "seed": p["seed"],
        }
        if dpo:
            params["dpo_beta"] = p["dpo_beta"]
        config = {
            "task": "llm-dpo" if dpo else "llm-sft",
            "base_model": p["model"],
            "project_name": self.project_name(job),
            "log": "none",
            "backend": "local",
            "data": {
                "path": str(data_dir),
                "train_split": "train",
                "valid_split": "validation" if (data_dir / "validation.jsonl").exists() else None,
                "chat_template": p.get("chat_template"),
                "column_mapping": mapping,
            },
            "params": params,
            "hub": {"username": None, "token": None, "push_to_hub": False},
        }
        path = job_dir / "autotrain.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    @staticmethod
    def project_name(job: Job) -> str:
        return f"curation-{job.id}"

    def launch(self, job: Job) -> Job:
        config = self.write_config(job)
        job_dir = self.job_dir(job)
        command = f"cd {shlex.quote(str(job_dir))} && autotrain --config {shlex.quote(str(config))}"
        job.info.update({"job_dir": str(job_dir), "config": str(config), "command": command})
        executable = shutil.which("autotrain")
        if executable is None:
            job.status = "failed"
            job.error = (
                "the `autotrain` command is not installed: pip install autotrain-advanced "
                f"(in its own environment), then run: {command}"
            )
            return job
        (job_dir / EXIT_CODE).unlink(missing_ok=True)
        # A shell records autotrain's exit code, so a later CLI process (not its parent) can read it.
        job.pid = local_process.spawn(
            ["sh", "-c", f'"$1" --config "$2"; echo $? > {EXIT_CODE}', "sh", executable, str(config)], job_dir
        )
        job.status = "running"
        return job

    def status(self, job: Job) -> Job:
        if job.status in ("failed", "cancelled", "succeeded") or job.pid is None:
            return job
        job_dir = self.job_dir(job)
        code_file = job_dir / EXIT_CODE
        if code_file.exists() and code_file.read_text().strip():
            code = int(code_file.read_text().strip())
            if code == 0:
                job.status = "succeeded"
                job.output_model = str(job_dir / self.project_name(job))
            else:
                job.status = "failed"
                tail = [line for line in self.logs(job)[-5:] if line.strip()]
                job.error = f"autotrain exited with code {code}" + (f": {tail[-1]}" if tail else "")
            return job
        if local_process.process_alive(job.pid, str(job_dir)):
            job.status = "running"
        else:
            job.status = "failed"
            job.error = f"autotrain process {job.pid} ended without an exit code; see {job_dir / local_process.LOG}"
        return job

    def resume(self, job: Job) -> Job:
        raise TrainerError("autotrain jobs cannot be resumed from here", hint=f"run: {job.info.get('command')}")
