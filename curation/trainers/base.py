"""The trainer-backend interface and the job record every backend reads and writes.

A backend is about four methods: ``prepare`` finds (or makes) the export it trains on, ``launch``
starts the job, ``status`` refreshes it, ``cancel`` stops it. Backends register under the entry-point
group ``curation.trainers`` (built-ins the same way) and are looked up through :mod:`curation.plugins`.
Jobs persist in the SQLite store (:mod:`curation.trainers.store`), so the CLI and the UI can exit and
come back to a job.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any, ClassVar, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError, CurationError, TrainerError
from ..plugins import TRAINER_GROUP, available, load

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "resumable"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "resumable"})
DataKind = Literal["sft", "dpo"]

# Param names that would carry a credential: refused so that no secret can reach the job store or a log.
_SECRET_WORDS = ("key", "token", "secret", "password")


class PreparedData(BaseModel):
    """What a backend will train on: the export kind and its files."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: DataKind
    format: str
    train: str
    validation: str | None = None
    n_train: int = 0
    n_validation: int = 0


class Job(BaseModel):
    """One training job, as persisted in the job store."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    id: str
    backend: str
    run_dir: str
    params: dict[str, Any] = Field(default_factory=dict)
    prepared: PreparedData | None = None
    provider_job_id: str | None = None
    status: JobStatus = "queued"
    metrics: dict[str, Any] = Field(default_factory=dict)
    events: list[dict[str, Any]] = Field(default_factory=list)
    output_model: str | None = None
    error: str | None = None
    created_at: float = Field(default_factory=time.time)
    updated_at: float = Field(default_factory=time.time)
    pid: int | None = None
    # Backend-specific state: uploaded file ids, the local job folder, checkpoints.
    info: dict[str, Any] = Field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @classmethod
    def new(cls, backend: str, run_dir: str | Path, params: dict[str, Any]) -> Job:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        return cls(id=f"{stamp}-{secrets.token_hex(3)}", backend=backend, run_dir=str(run_dir), params=params)


class TrainerBackend:
    """Base class of trainer backends; subclasses set ``name`` and ``Params`` and implement the methods."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # pydantic model of the params this backend accepts (extra="forbid": an unknown param is an error).
    Params: ClassVar[type[BaseModel]]

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Validate params against ``Params``; returns them with defaults filled in."""
        for key in params:
            if any(word in key.lower() for word in _SECRET_WORDS):
                raise ConfigError(
                    f"param {key!r} looks like a credential; credentials are never passed as params",
                    hint="set it in the environment (e.g. OPENAI_API_KEY) so it is never stored",
                )
        try:
            return self.Params(**params).model_dump(exclude_none=True)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'params'}: {e['msg']}" for e in exc.errors())
            allowed = ", ".join(self.Params.model_fields)
            raise ConfigError(
                f"invalid params for backend {self.name!r}: {problems}", hint=f"allowed: {allowed}"
            ) from None

    def prepare(self, run_dir: Path, params: dict[str, Any]) -> PreparedData:
        raise NotImplementedError

    def launch(self, job: Job) -> Job:
        raise NotImplementedError

    def status(self, job: Job) -> Job:
        raise NotImplementedError

    def cancel(self, job: Job) -> Job:
        raise NotImplementedError

    def resume(self, job: Job) -> Job:
        raise TrainerError(f"backend {self.name!r} cannot resume jobs", hint="start a new job with `curate train`")

    def logs(self, job: Job) -> list[str]:
        """Human-readable log lines; by default the job's events."""
        return [format_event(e) for e in job.events]


def format_event(event: dict[str, Any]) -> str:
    when = time.strftime("%H:%M:%S", time.localtime(event.get("created_at", 0)))
    level = event.get("level", "info")
    return f"{when} {level:5} {event.get('message', '')}"


def list_backends() -> list[str]:
    return available(TRAINER_GROUP)


def get_backend(name: str) -> TrainerBackend:
    cls = load(TRAINER_GROUP, name)
    backend = cls()
    if not isinstance(backend, TrainerBackend):
        raise CurationError(f"trainer backend {name!r} does not subclass TrainerBackend", hint="fix the plugin")
    return backend


def parse_params(pairs: list[str] | None) -> dict[str, Any]:
    """``["n_epochs=3", "lora=true"]`` -> ``{"n_epochs": 3, "lora": True}`` (values read as YAML scalars)."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"param {pair!r} is not KEY=VALUE", hint="write e.g. --param n_epochs=3")
        params[key.strip()] = _scalar(value.strip())
    return params


def _scalar(value: str) -> Any:
    if not value:
        return ""
    try:
        loaded = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    if isinstance(loaded, str):
        try:  # YAML 1.1 reads 5e-3 as a string
            return float(loaded)
        except ValueError:
            return loaded
    return loaded


def kind_export_dir(base: Path, kind: str | None) -> Path:
    """``exports/<format>/sft`` or ``exports/<format>/dpo``; with no kind chosen, the one the run has (both:
    an error asking for --method). A run exported before kinds were kept apart has ``exports/<format>``."""
    if (base / "train.jsonl").exists() or (base / "dataset_dict.json").exists():
        return base
    if kind:
        return base / kind
    found = [k for k in ("sft", "dpo") if (base / k).is_dir()]
    if len(found) > 1:
        raise TrainerError(f"{base} holds SFT and DPO exports", hint="choose one with --method sft|dpo")
    return base / (found[0] if found else "sft")


def read_first_json_line(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        for line in fh:
            line = line.strip().lstrip(b"\xef\xbb\xbf")  # Azure exports may carry a BOM
            if line:
                value = orjson.loads(line)
                return value if isinstance(value, dict) else {}
    return {}


def count_lines(path: Path | None) -> int:
    if path is None or not path.exists():
        return 0
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def redact(text: str, secrets_: list[str | None]) -> str:
    """Remove any secret value from a text that may be stored or printed (provider errors echo keys)."""
    for value in secrets_:
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


def env_secret(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value else None
