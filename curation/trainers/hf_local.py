"""Local training with TRL (SFTTrainer, or DPOTrainer for preference data) on the HF export.

Training runs in a separate process (``python -m curation.trainers.hf_local_worker JOB_DIR``) so the
CLI and UI stay responsive. Everything of a job lives in ``RUN_DIR/train/<job-id>/``: config.json,
worker.log, metrics.jsonl (one line per logged step), status.json, checkpoint-N/ and final/.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, ClassVar, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from ..errors import TrainerError
from . import local_process
from .base import Job, PreparedData, kind_export_dir

STALE_HEARTBEAT_S = 120.0


class HFLocalParams(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    model: str = Field(..., description="local folder or hub name of a causal LM")
    lora: bool = False
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    merge_lora: bool = Field(True, description="save final/ as a merged standalone model")
    max_steps: int = Field(-1, description="-1: train for num_train_epochs")
    num_train_epochs: float = Field(1.0, gt=0)
    learning_rate: float = Field(2e-5, gt=0)
    lr_scheduler_type: str = "linear"
    warmup_steps: int = Field(0, ge=0)
    per_device_train_batch_size: int = Field(2, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    max_length: int = Field(1024, ge=8)
    logging_steps: int = Field(1, ge=1)
    save_steps: int = Field(50, ge=1)
    save_total_limit: int | None = Field(3, ge=1)
    eval_steps: int | None = Field(None, ge=1, description="default: save_steps; needs a validation split")
    assistant_only_loss: bool = True
    chat_template: str | None = Field(None, description="a Jinja template string or a path to a file holding one")
    chatml_fallback: bool = Field(False, description="train with ChatML when the model's template cannot mark "
                                  "assistant tokens (otherwise that is an error before the job starts)")
    method: Literal["sft", "dpo", "kto"] | None = Field(
        None, description="what to train on: sft (conversations), dpo or kto (preference pairs); default: "
        "what the run holds")
    beta: float = Field(0.1, gt=0, description="DPO only")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    seed: int = 42


class HFLocalBackend(local_process.LocalProcessBackend):
    name: ClassVar[str] = "hf-local"
    description: ClassVar[str] = "TRL SFT/DPO on this machine (full or LoRA), CPU or GPU, on exports/hf"
    Params: ClassVar[type[BaseModel]] = HFLocalParams

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Also checks the model before any work: it exists, and its config, tokenizer and template load."""
        checked = super().check_params(params)
        checked["model"] = check_model(checked["model"], checked)
        return checked

    def prepare(self, run_dir: Path, params: dict[str, Any]) -> PreparedData:
        export = hf_export_dir(Path(run_dir), params.get("method"))
        if not (export / "dataset_dict.json").exists():
            from ..exporters import ExportOptions, export_run  # only needed when the export is missing

            method = {"kto": "dpo"}.get(params.get("method") or "", params.get("method") or "auto")
            export_run(Path(run_dir), ["hf"], ExportOptions(method=method))  # type: ignore[arg-type]
            export = hf_export_dir(Path(run_dir), params.get("method"))
        info_path = export / "dataset_dict.json"
        if not info_path.exists():
            wanted = {"kto": "dpo"}.get(params.get("method") or "", params.get("method") or "auto")
            raise TrainerError(f"no HF export in {export}",
                               hint=f"run `curate export {run_dir} --to hf --method {wanted}`")
        from ..run_folder import refuse_changed_export

        refuse_changed_export(Path(run_dir), export, "training")
        splits = json.loads(info_path.read_text())["splits"]
        if "train" not in splits:
            raise TrainerError(f"{export} has no train split (splits: {', '.join(splits)})")
        columns, rows = _split_info(export / "train")
        if {"prompt", "chosen", "rejected"} <= columns:
            kind = "dpo"
        elif "messages" in columns:
            kind = "sft"
        else:
            raise TrainerError(
                f"{export} has columns {sorted(columns)}; expected messages or prompt/chosen/rejected",
                hint=f"export again with `curate export {run_dir} --to hf`",
            )
        method = params.get("method")
        if method and {"sft": "sft", "dpo": "dpo", "kto": "dpo"}[method] != kind:
            raise TrainerError(f"--method {method} needs {'conversations' if method == 'sft' else 'preference pairs'}"
                               f" but {export} holds {'pairs' if kind == 'dpo' else 'conversations'}",
                               hint=f"export them with `curate export {run_dir} --to hf --method "
                               f"{'sft' if method == 'sft' else 'dpo'}`")
        n_val = _split_info(export / "validation")[1] if "validation" in splits else 0
        return PreparedData(
            kind=kind,
            format="hf",
            train=str(export),
            validation=str(export) if n_val else None,
            n_train=rows,
            n_validation=n_val,
        )

    def _spawn(self, job: Job, *, resume: bool) -> Job:
        assert job.prepared is not None
        job_dir = self.job_dir(job)
        job_dir.mkdir(parents=True, exist_ok=True)
        config = {"params": job.params, "prepared": job.prepared.model_dump(), "resume": resume, "job_id": job.id}
        (job_dir / "config.json").write_text(json.dumps(config, indent=2))
        (job_dir / "status.json").unlink(missing_ok=True)
        (job_dir / local_process.HEARTBEAT).touch()
        job.pid = local_process.spawn(
            [sys.executable, "-m", "curation.trainers.hf_local_worker", str(job_dir)], job_dir
        )
        job.info["job_dir"] = str(job_dir)
        job.status = "running"
        job.error = None
        return job

    def launch(self, job: Job) -> Job:
        return self._spawn(job, resume=False)

    def resume(self, job: Job) -> Job:
        if job.status in ("running", "queued"):
            raise TrainerError(f"job {job.id} is still {job.status}", hint="cancel it first or wait")
        if not last_checkpoint(self.job_dir(job)):
            raise TrainerError(f"job {job.id} has no checkpoint to resume from", hint="start a new job")
        return self._spawn(job, resume=True)

    def status(self, job: Job) -> Job:
        job_dir = self.job_dir(job)
        metrics = read_metrics(job_dir)
        if metrics:
            losses = [m["loss"] for m in metrics if "loss" in m]
            evals = [m["eval_loss"] for m in metrics if "eval_loss" in m]
            job.metrics.update({"step": max(m.get("step", 0) for m in metrics)})
            if losses:
                job.metrics.update({"first_loss": losses[0], "loss": losses[-1]})
            if evals:
                job.metrics["eval_loss"] = evals[-1]
        checkpoint = last_checkpoint(job_dir)
        job.info["checkpoints"] = [p.name for p in checkpoints(job_dir)]
        data_stats = _read_json(job_dir / "data_stats.json")
        if data_stats:
            job.info["data"] = data_stats  # truncated and fully-masked counts, per split
        job.events = [
            {"created_at": m.get("time", 0), "level": "info", "type": "metrics", "message": _metric_line(m), "data": m}
            for m in metrics[-50:]
        ]
        if job.status == "cancelled":
            return job
        reported = _read_json(job_dir / "status.json")
        if reported.get("status") in ("succeeded", "failed"):
            job.status = reported["status"]
            job.error = reported.get("error")
            job.output_model = reported.get("output_model") or job.output_model
            if job.status == "failed" and checkpoint is not None and reported.get("resumable", True):
                job.status = "resumable"
            return job
        if job.status in ("succeeded", "failed", "resumable"):
            return job
        alive = local_process.process_alive(job.pid, str(job_dir))
        age = local_process.heartbeat_age(job_dir)
        if alive and (age is None or age < STALE_HEARTBEAT_S):
            job.status = "running"
            return job
        step = job.metrics.get("step", 0)
        why = f"worker process {job.pid} ended without a report" if not alive else f"no heartbeat for {age:.0f} s"
        if alive:
            local_process.terminate(job.pid)
        if checkpoint is not None:
            job.status = "resumable"
            job.error = f"{why} at step {step}; resume from {checkpoint.name} with `curate train --resume {job.id}`"
        else:
            job.status = "failed"
            job.error = f"{why} at step {step} before any checkpoint; see {job_dir / local_process.LOG}"
        return job



def hf_export_dir(run_dir: Path, method: str | None) -> Path:
    """The HF export of one kind: ``exports/hf/sft`` or ``exports/hf/dpo`` (KTO trains on the pairs)."""
    return kind_export_dir(run_dir / "exports" / "hf", {"kto": "dpo"}.get(method or "", method))


def resolve_model_path(name: str, cwd: Path | None = None) -> str:
    """A local folder as an absolute path (resolved where the user typed it, not in the worker's folder);
    a hub name as it is."""
    local = Path(name).expanduser()
    if not local.is_absolute():
        local = (cwd or Path.cwd()) / local
    if local.exists() or name.startswith((".", "/", "~")) or name.count("/") > 1:
        return str(local.resolve())
    return name


def check_model(name: str, params: dict[str, Any]) -> str:
    """The model as the worker will load it; raises before any work when it cannot train here."""
    from ..errors import MissingExtraError

    resolved = resolve_model_path(name)
    local = Path(resolved)
    if local.is_absolute() and not local.exists():
        raise TrainerError(f"model folder {name!r} does not exist (looked in {local})",
                           hint="pass a folder holding config.json and a tokenizer; `curate model tiny DIR` "
                           "builds a small one")
    try:
        from transformers import AutoConfig, AutoTokenizer
    except ImportError:
        raise MissingExtraError("transformers", "train") from None
    # Local files only: a hub name must already be in the local cache (nothing downloads at run time).
    try:
        AutoConfig.from_pretrained(resolved, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(resolved, local_files_only=True)
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        where = f"from {resolved}" if local.is_absolute() else "from the local Hugging Face cache"
        raise TrainerError(
            f"cannot load a model config and tokenizer {where}: {first}",
            hint="download it on a connected machine (`huggingface-cli download NAME --local-dir DIR`) and pass "
            "--model DIR, or build a small local one with `curate model tiny DIR`") from None
    from .sft_data import check_template

    check_template(tokenizer, params)  # a template that cannot mask assistant turns fails now, not in the job
    return resolved


def _split_info(split_dir: Path) -> tuple[set[str], int]:
    """Column names and row count of a save_to_disk split, read from its metadata (no Arrow load)."""
    info = _read_json(split_dir / "dataset_info.json")
    state = _read_json(split_dir / "state.json")
    columns = set((info.get("features") or {}).keys())
    rows = 0
    for data_file in state.get("_data_files", []):
        try:
            import pyarrow as pa

            with pa.memory_map(str(split_dir / data_file["filename"])) as source:
                rows += pa.ipc.open_stream(source).read_all().num_rows
        except Exception:  # the count is informative only
            rows = 0
    return columns, rows


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _metric_line(m: dict[str, Any]) -> str:
    shown = {k: v for k, v in m.items() if k not in ("time",)}
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items())


def read_metrics(job_dir: Path) -> list[dict[str, Any]]:
    path = job_dir / "metrics.jsonl"
    if not path.exists():
        return []
    rows = []
    for line in path.read_bytes().splitlines():
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue  # a line cut short by a kill
    return rows


def checkpoints(job_dir: Path) -> list[Path]:
    """Complete checkpoints (trainer_state.json is written last), oldest first."""
    found = [p for p in job_dir.glob("checkpoint-*") if (p / "trainer_state.json").exists()]
    return sorted(found, key=lambda p: int(p.name.rsplit("-", 1)[1]) if p.name.rsplit("-", 1)[1].isdigit() else -1)


def last_checkpoint(job_dir: Path) -> Path | None:
    found = checkpoints(job_dir)
    return found[-1] if found else None
