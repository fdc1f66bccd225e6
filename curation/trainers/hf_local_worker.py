"""The hf-local training process: ``python -m curation.trainers.hf_local_worker JOB_DIR``.

Reads JOB_DIR/config.json, trains with TRL, and reports through files in JOB_DIR: metrics.jsonl (one
line per log), heartbeat (touched every few seconds), status.json (running / succeeded / failed),
checkpoint-N/ and final/ (model + tokenizer, loadable with ``from_pretrained``).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from .hf_local import last_checkpoint
from .local_process import HEARTBEAT

HEARTBEAT_EVERY_S = 2.0


class WorkerError(Exception):
    """A failure with a message meant for the user (no traceback needed)."""


def _write_status(job_dir: Path, **fields: Any) -> None:
    tmp = job_dir / "status.json.tmp"
    tmp.write_text(json.dumps({**fields, "time": time.time()}))
    os.replace(tmp, job_dir / "status.json")  # atomic: a reader never sees half a file


def _heartbeat(job_dir: Path, stop: threading.Event) -> None:
    path = job_dir / HEARTBEAT
    while not stop.wait(HEARTBEAT_EVERY_S):
        path.touch()


def _load_model_and_tokenizer(name: str) -> tuple[Any, Any]:
    from huggingface_hub import constants
    from transformers import AutoModelForCausalLM, AutoTokenizer

    local = Path(name).expanduser()
    if not local.exists() and (name.startswith((".", "/", "~")) or name.count("/") > 1):
        raise WorkerError(f"model folder {name!r} does not exist")
    if local.exists():
        try:
            return AutoModelForCausalLM.from_pretrained(local), AutoTokenizer.from_pretrained(local)
        except OSError as exc:
            raise WorkerError(f"cannot load model from {local}: {exc}") from None
    # A hub name: the local cache first (no network), then the hub unless offline mode is on.
    attempts = [True] if constants.HF_HUB_OFFLINE else [True, False]
    error: Exception | None = None
    for local_only in attempts:
        try:
            tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=local_only)
            return AutoModelForCausalLM.from_pretrained(name, local_files_only=local_only), tokenizer
        except OSError as exc:
            error = exc
    first = (str(error).strip().splitlines() or [""])[0]
    raise WorkerError(
        f"cannot load {name!r} from the Hugging Face Hub (offline, or no such model): {first}. "
        "Download it on a connected machine (`huggingface-cli download NAME --local-dir DIR`) and pass --model DIR"
    )


def _chat_template(tokenizer: Any, params: dict[str, Any], log: Any) -> None:
    """Set the template to train with (checked by a probe render: see :mod:`curation.trainers.sft_data`)."""
    from ..errors import CurationError
    from .sft_data import check_template

    try:
        template = check_template(tokenizer, params, log)
    except CurationError as exc:
        raise WorkerError(str(exc)) from None
    if template is not None:
        tokenizer.chat_template = template
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token


def _sft_tokens(split: Any, tokenizer: Any, params: dict[str, Any], name: str, job_dir: Path, log: Any) -> Any:
    """Our token ids and labels (weights honoured), with truncation and fully-masked examples counted."""
    from datasets import Dataset

    from .sft_data import describe_stats, tokenize_sft

    max_length = params.get("max_length", 1024)
    columns, stats = tokenize_sft(split, tokenizer, max_length=max_length,
                                  assistant_only=params.get("assistant_only_loss", True))
    stats_path = job_dir / "data_stats.json"
    recorded = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    recorded[name] = {**stats, "max_length": max_length}
    stats_path.write_text(json.dumps(recorded, indent=2))
    log(f"{name} {describe_stats(stats, max_length)}")
    if not columns["input_ids"]:
        raise WorkerError(f"no {name} example has any token to learn from (all {stats['examples']} fully masked)")
    return Dataset.from_dict(columns)


def _make_callback(job_dir: Path) -> Any:
    from transformers import TrainerCallback

    metrics_path = job_dir / "metrics.jsonl"

    class ReportCallback(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
            row: dict[str, Any] = {"step": state.global_step, "time": round(time.time(), 3)}
            row.update({k: v for k, v in (logs or {}).items() if isinstance(v, int | float)})
            with metrics_path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            _write_status(job_dir, status="running", step=state.global_step, max_steps=state.max_steps)

    return ReportCallback()


def train(job_dir: Path) -> str:
    config = json.loads((job_dir / "config.json").read_text())
    params: dict[str, Any] = config["params"]
    prepared: dict[str, Any] = config["prepared"]

    def log(message: str) -> None:
        print(f"[curation] {message}", flush=True)

    import torch
    from datasets import load_from_disk
    from transformers import set_seed

    set_seed(params.get("seed", 42))
    device = params.get("device", "auto")
    use_cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        raise WorkerError("device=cuda but no CUDA GPU is visible")
    log(f"device: {'cuda' if use_cuda else 'cpu'}")

    data = load_from_disk(prepared["train"])
    kind = prepared["kind"]
    method = params.get("method") or kind
    wanted = ["messages", "tools"] if kind == "sft" else ["prompt", "chosen", "rejected", "tools"]
    keep = [c for c in wanted if c in data["train"].column_names]  # tools reach the chat template
    train_ds = data["train"].select_columns(keep)
    eval_ds = data["validation"].select_columns(keep) if "validation" in data and len(data["validation"]) else None

    model, tokenizer = _load_model_and_tokenizer(params["model"])
    _chat_template(tokenizer, params, log)
    if kind == "sft":
        train_ds = _sft_tokens(train_ds, tokenizer, params, "train", job_dir, log)
        if eval_ds is not None:
            eval_ds = _sft_tokens(eval_ds, tokenizer, params, "validation", job_dir, log)
    elif method == "kto":
        from trl.data_utils import maybe_unpair_preference_dataset

        train_ds = maybe_unpair_preference_dataset(train_ds)
        eval_ds = maybe_unpair_preference_dataset(eval_ds) if eval_ds is not None else None

    peft_config = None
    if params.get("lora"):
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=params.get("lora_r", 16),
            lora_alpha=params.get("lora_alpha", 32),
            lora_dropout=params.get("lora_dropout", 0.05),
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        )

    bf16 = bool(use_cuda and torch.cuda.is_bf16_supported())
    common: dict[str, Any] = {
        "output_dir": str(job_dir),
        "max_steps": params.get("max_steps", -1),
        "num_train_epochs": params.get("num_train_epochs", 1.0),
        "learning_rate": params.get("learning_rate", 2e-5),
        "lr_scheduler_type": params.get("lr_scheduler_type", "linear"),
        "warmup_steps": params.get("warmup_steps", 0),
        "per_device_train_batch_size": params.get("per_device_train_batch_size", 2),
        "per_device_eval_batch_size": params.get("per_device_train_batch_size", 2),
        "gradient_accumulation_steps": params.get("gradient_accumulation_steps", 1),
        "logging_steps": params.get("logging_steps", 1),
        "save_strategy": "steps",
        "save_steps": params.get("save_steps", 50),
        "save_total_limit": params.get("save_total_limit", 3),
        "eval_strategy": "steps" if eval_ds is not None else "no",
        "eval_steps": params.get("eval_steps") or params.get("save_steps", 50),
        "seed": params.get("seed", 42),
        "report_to": "none",
        "use_cpu": not use_cuda,
        "bf16": bf16,
        "max_length": params.get("max_length", 1024),
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
    }
    callbacks = [_make_callback(job_dir)]
    if kind == "sft":
        from trl import SFTConfig as Config
        from trl import SFTTrainer as Trainer

        # The labels are ours (assistant mask from the template, weight-0 turns out); TRL uses them as they are.
        args = Config(**common, assistant_only_loss=False)
    elif method == "kto":
        from trl import KTOConfig as Config
        from trl import KTOTrainer as Trainer

        args = Config(**common, beta=params.get("beta", 0.1))
    else:
        from trl import DPOConfig as Config
        from trl import DPOTrainer as Trainer

        args = Config(**common, beta=params.get("beta", 0.1))
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=callbacks,
    )

    resume_from = None
    if config.get("resume"):
        checkpoint = last_checkpoint(job_dir)
        if checkpoint is None:
            raise WorkerError("nothing to resume: no complete checkpoint in the job folder")
        resume_from = str(checkpoint)
        log(f"resuming from {checkpoint.name}")
    trainer.train(resume_from_checkpoint=resume_from)

    final = job_dir / "final"
    out_model = trainer.model
    if params.get("lora"):
        trainer.model.save_pretrained(job_dir / "adapter")
        if params.get("merge_lora", True):
            out_model = trainer.model.merge_and_unload()
    out_model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    log(f"saved the final model to {final}")
    return str(final)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m curation.trainers.hf_local_worker JOB_DIR", file=sys.stderr)
        return 2
    job_dir = Path(args[0]).resolve()
    stop = threading.Event()
    threading.Thread(target=_heartbeat, args=(job_dir, stop), daemon=True).start()
    _write_status(job_dir, status="running", step=0, pid=os.getpid())
    try:
        output = train(job_dir)
    except WorkerError as exc:
        print(f"[curation] error: {exc}", flush=True)
        _write_status(job_dir, status="failed", error=str(exc), resumable=False)
        return 1
    except BaseException as exc:
        traceback.print_exc()
        first = (str(exc).strip().splitlines() or [""])[0]
        _write_status(job_dir, status="failed", error=f"{type(exc).__name__}: {first}")
        return 1
    finally:
        stop.set()
    _write_status(job_dir, status="succeeded", output_model=output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
