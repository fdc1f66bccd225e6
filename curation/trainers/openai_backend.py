"""OpenAI fine-tuning: upload the OpenAI export, create the job, follow its status, events and checkpoints.

The API key comes from ``OPENAI_API_KEY`` only and lives in the client object; it is never put in
params, the job store or a log, and provider messages that echo it are redacted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import MissingExtraError, TrainerError
from .base import (
    Job,
    PreparedData,
    TrainerBackend,
    count_lines,
    env_secret,
    kind_export_dir,
    read_first_json_line,
    redact,
)

Auto = Literal["auto"]

# Provider status -> our status. validating_files is queued from the user's point of view.
_STATUS = {
    "validating_files": "queued",
    "queued": "queued",
    "running": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
    "paused": "queued",
}

_HINTS = {
    400: "the provider rejected the request or file; fix what its message names and export again",
    401: "check the API key in the environment (OPENAI_API_KEY / AZURE_OPENAI_API_KEY)",
    403: "this key's organisation/project may not fine-tune this model",
    404: "check the model name, the endpoint and (Azure) the api_version",
    429: "quota or rate limit reached: check billing and limits, then retry later",
}


class OpenAIParams(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    model: str = Field("gpt-4o-mini-2024-07-18", description="base model to fine-tune")
    method: Literal["auto", "supervised", "dpo"] = Field("auto", description="auto: from the export kind")
    n_epochs: int | Auto | None = Field(None, ge=1, le=50)
    batch_size: int | Auto | None = Field(None, ge=1, le=256)
    learning_rate_multiplier: float | Auto | None = Field(None, gt=0)
    beta: float | Auto | None = Field(None, gt=0, le=2, description="DPO only")
    suffix: str | None = Field(None, min_length=1, max_length=64)
    seed: int | None = Field(None, ge=0, le=2147483647)
    validation: bool = Field(True, description="upload the validation split as validation_file")
    base_url: str | None = None
    max_retries: int = Field(2, ge=0)
    timeout: float = Field(120.0, gt=0)
    events_limit: int = Field(50, ge=1, le=1000)


def provider_error(exc: Exception, provider: str, secrets: list[str | None]) -> TrainerError:
    """One clear line from an openai exception, with the provider's own message."""
    import openai

    if isinstance(exc, openai.APIStatusError):
        body: Any = exc.body
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            body = body["error"]
        message = body.get("message") if isinstance(body, dict) else None
        code = body.get("code") if isinstance(body, dict) else None
        if str(code) == str(exc.status_code):  # Azure repeats the status as the code
            code = None
        text = (
            f"{provider} API error {exc.status_code}" + (f" ({code})" if code else "") + f": {message or exc.message}"
        )
        return TrainerError(redact(text, secrets), hint=_HINTS.get(exc.status_code))
    if isinstance(exc, openai.APIConnectionError):
        return TrainerError(
            redact(f"cannot reach the {provider} API: {exc}", secrets),
            hint="check the network and base_url / endpoint",
        )
    return TrainerError(redact(f"{provider}: {exc}", secrets))


class OpenAIBackend(TrainerBackend):
    name: ClassVar[str] = "openai"
    description: ClassVar[str] = "OpenAI fine-tuning API (supervised or DPO) on exports/openai"
    Params: ClassVar[type[BaseModel]] = OpenAIParams
    provider: ClassVar[str] = "OpenAI"
    export_format: ClassVar[str] = "openai"

    # -- client -------------------------------------------------------------------------------------------
    def _secrets(self) -> list[str | None]:
        return [env_secret("OPENAI_API_KEY")]

    def client(self, params: dict[str, Any]) -> Any:
        try:
            import openai
        except ImportError:
            raise MissingExtraError("openai", "train") from None
        key = env_secret("OPENAI_API_KEY")
        if not key:
            raise TrainerError("OPENAI_API_KEY is not set", hint="export OPENAI_API_KEY=... in the environment")
        return openai.OpenAI(
            api_key=key,
            base_url=params.get("base_url") or os.environ.get("OPENAI_BASE_URL") or None,
            max_retries=params.get("max_retries", 2),
            timeout=params.get("timeout", 120.0),
        )

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TrainerError:
            raise
        except Exception as exc:
            import openai

            if isinstance(exc, openai.OpenAIError):
                raise provider_error(exc, self.provider, self._secrets()) from None
            raise

    # -- interface ----------------------------------------------------------------------------------------
    def prepare(self, run_dir: Path, params: dict[str, Any]) -> PreparedData:
        kind = {"supervised": "sft", "dpo": "dpo"}.get(params.get("method", "auto"))
        export_dir = kind_export_dir(Path(run_dir) / "exports" / self.export_format, kind)
        train = export_dir / "train.jsonl"
        if not train.exists():
            from ..exporters import ExportOptions, export_run  # only needed when the export is missing

            export_run(Path(run_dir), [self.export_format], ExportOptions(method=kind or "auto"))
            export_dir = kind_export_dir(Path(run_dir) / "exports" / self.export_format, kind)
            train = export_dir / "train.jsonl"
        if not train.exists():
            raise TrainerError(f"no {train}", hint=f"run `curate export {run_dir} --to {self.export_format}`")
        from ..run_folder import refuse_changed_export

        refuse_changed_export(Path(run_dir), export_dir, "training")  # before anything is uploaded
        first = read_first_json_line(train)
        kind = "dpo" if "preferred_output" in first else "sft"
        if "messages" not in first and kind == "sft":
            raise TrainerError(f"{train} is neither chat (messages) nor DPO (input/preferred_output) JSONL")
        validation = export_dir / "validation.jsonl"
        has_validation = validation.exists() and count_lines(validation) > 0
        return PreparedData(
            kind=kind,
            format=self.export_format,
            train=str(train),
            validation=str(validation) if has_validation else None,
            n_train=count_lines(train),
            n_validation=count_lines(validation) if has_validation else 0,
        )

    def _method(self, job: Job) -> dict[str, Any]:
        assert job.prepared is not None
        p = job.params
        method = p.get("method", "auto")
        if method == "auto":
            method = "dpo" if job.prepared.kind == "dpo" else "supervised"
        if method == "dpo" and job.prepared.kind != "dpo" or method == "supervised" and job.prepared.kind == "dpo":
            raise TrainerError(
                f"method {method!r} does not match the export kind {job.prepared.kind!r}",
                hint="leave method=auto, or export the matching data kind",
            )
        keys = ["n_epochs", "batch_size", "learning_rate_multiplier"] + (["beta"] if method == "dpo" else [])
        hyper = {k: p[k] for k in keys if p.get(k) is not None}
        if method == "supervised" and p.get("beta") is not None:
            raise TrainerError("beta only applies to DPO jobs", hint="drop --param beta=…")
        return {"type": method, method: {"hyperparameters": hyper}} if hyper else {"type": method}

    def _upload(self, client: Any, path: str) -> str:
        with open(path, "rb") as fh:
            uploaded = self._call(client.files.create, file=(Path(path).name, fh), purpose="fine-tune")
        return str(uploaded.id)

    def launch(self, job: Job) -> Job:
        assert job.prepared is not None
        client = self.client(job.params)
        method = self._method(job)
        training_file = self._upload(client, job.prepared.train)
        job.info["training_file"] = training_file
        validation_file = None
        if job.prepared.validation and job.params.get("validation", True):
            validation_file = self._upload(client, job.prepared.validation)
            job.info["validation_file"] = validation_file
        kwargs: dict[str, Any] = {"model": job.params["model"], "training_file": training_file, "method": method}
        if validation_file:
            kwargs["validation_file"] = validation_file
        for key in ("suffix", "seed"):
            if job.params.get(key) is not None:
                kwargs[key] = job.params[key]
        created = self._call(client.fine_tuning.jobs.create, **kwargs)
        job.provider_job_id = created.id
        return self._apply(job, created)

    def _apply(self, job: Job, remote: Any) -> Job:
        job.status = _STATUS.get(remote.status, "running")  # type: ignore[assignment]
        job.info["provider_status"] = remote.status
        if remote.fine_tuned_model:
            job.output_model = remote.fine_tuned_model
        if remote.trained_tokens is not None:
            job.metrics["trained_tokens"] = remote.trained_tokens
        if remote.error is not None and getattr(remote.error, "message", None):
            code = getattr(remote.error, "code", None)
            job.error = redact((f"{code}: " if code else "") + remote.error.message, self._secrets())
        if getattr(remote, "result_files", None):
            job.info["result_files"] = list(remote.result_files)
        return job

    def status(self, job: Job) -> Job:
        if not job.provider_job_id:
            return job
        client = self.client(job.params)
        remote = self._call(client.fine_tuning.jobs.retrieve, job.provider_job_id)
        self._apply(job, remote)
        limit = job.params.get("events_limit", 50)
        page = self._call(client.fine_tuning.jobs.list_events, job.provider_job_id, limit=limit)
        events = [
            {
                "id": e.id,
                "created_at": e.created_at,
                "level": e.level,
                "message": redact(e.message, self._secrets()),
                "type": getattr(e, "type", None) or "message",
                "data": dict(e.data) if isinstance(getattr(e, "data", None), dict) else None,
            }
            for e in page.data
        ]
        events.sort(key=lambda e: (e["created_at"], e["id"]))  # the API lists newest first
        job.events = events
        for event in reversed(events):
            if event["type"] == "metrics" and event["data"]:
                job.metrics.update({k: v for k, v in event["data"].items() if isinstance(v, int | float)})
                break
        checkpoints = self._call(client.fine_tuning.jobs.checkpoints.list, job.provider_job_id)
        job.info["checkpoints"] = [
            {"id": c.id, "step": c.step_number, "model": c.fine_tuned_model_checkpoint, "metrics": c.metrics.to_dict()}
            for c in sorted(checkpoints.data, key=lambda c: c.step_number)
        ]
        return job

    def cancel(self, job: Job) -> Job:
        if not job.provider_job_id:
            job.status = "cancelled"
            return job
        client = self.client(job.params)
        return self._apply(job, self._call(client.fine_tuning.jobs.cancel, job.provider_job_id))
