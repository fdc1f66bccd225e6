"""The fine-tuning target table: what each provider and model takes, and until when, with a source per fact.

The table ships as data (``table.toml`` beside this file). Every fact is ``{v = VALUE, src = SOURCE}``, and a
source names the page and the date it was read, so a date or a limit can always be traced and re-checked.
A run config overrides it (``targets:`` with the same shape, and/or ``file: PATH``), and so does a file named
by ``CURATION_TARGETS``. Status is read against *today* (``CURATION_TODAY=YYYY-MM-DD`` pins it, for tests):
a target whose ``new_jobs_until`` or ``shutdown`` has passed is closed whatever the table says.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError, CurationError

TABLE_PATH = Path(__file__).with_name("table.toml")
Status = Literal["active", "closing", "closed"]
Method = Literal["sft", "dpo", "rft", "kto"]
T = TypeVar("T")

# The facts a provider or a model may carry; a model's fact wins over its provider's.
FACTS: tuple[str, ...] = (
    "status", "new_jobs_until", "shutdown", "methods", "max_tokens_per_example", "max_file_bytes",
    "min_train_examples", "max_train_examples", "max_validation_examples", "content", "max_images_per_example",
    "max_image_examples", "train_usd_per_1m_tokens", "notes",
)


class TargetClosedError(CurationError):
    """A job was asked of a target whose fine-tuning is closed (found before anything is uploaded)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)


class Source(_Strict):
    url: str = Field(min_length=8)
    title: str = ""
    as_of: dt.date


class Fact(_Strict, Generic[T]):
    """One fact, where it was read and when."""

    value: T
    source: str = Field(min_length=8, description="URL of the page the fact was read from")
    as_of: dt.date


class Content(_Strict):
    tools: bool = False
    images: bool = False
    reasoning: bool = False


class _Facts(_Strict):
    status: Fact[Status] | None = None
    new_jobs_until: Fact[dt.date] | None = None
    shutdown: Fact[dt.date] | None = None
    methods: Fact[list[Method]] | None = None
    max_tokens_per_example: Fact[int] | None = None
    max_file_bytes: Fact[int] | None = None
    min_train_examples: Fact[int] | None = None
    max_train_examples: Fact[int] | None = None
    max_validation_examples: Fact[int] | None = None
    content: Fact[Content] | None = None
    max_images_per_example: Fact[int] | None = None
    max_image_examples: Fact[int] | None = None
    train_usd_per_1m_tokens: Fact[float] | None = None
    notes: Fact[str] | None = None


class ModelTarget(_Facts):
    id: str
    aliases: list[str] = Field(default_factory=list)
    tokenizer: str | None = Field(None, description="tiktoken encoding exact for this model (over the provider's)")


class ProviderTarget(_Facts):
    name: str
    title: str
    exporter: str | None = Field(None, description="exporter that writes this provider's files")
    trainer: str | None = Field(None, description="trainer backend that launches jobs on it")
    tokenizer: str | None = Field(None, description="tiktoken encoding that is exact for this provider")
    any_model: bool = Field(False, description="models are named at job creation and not tabulated")
    local_format: bool = Field(False, description="the export is still usable locally after the platform closed")
    status: Fact[Status]
    methods: Fact[list[Method]]
    models: dict[str, ModelTarget] = Field(default_factory=dict)


class Table(_Strict):
    as_of: dt.date
    providers: dict[str, ProviderTarget]


# -- loading --------------------------------------------------------------------------------------------------
def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _resolve(node: Any, sources: dict[str, Source], where: str) -> Any:
    """``{v, src}`` -> ``{value, source, as_of}``; a fact without a known source is an error."""
    if isinstance(node, dict):
        if "v" in node or "src" in node:
            src = node.get("src")
            if set(node) != {"v", "src"} or not isinstance(src, str):
                raise ConfigError(f"target table fact {where} needs exactly v and src",
                                  hint="write {v = ..., src = ID}")
            if src not in sources:
                raise ConfigError(f"target table fact {where} names unknown source {src!r}",
                                  hint=f"add [sources.{src}] with url and as_of")
            source = sources[src]
            return {"value": node["v"], "source": source.url, "as_of": source.as_of}
        return {k: _resolve(v, sources, f"{where}.{k}") for k, v in node.items()}
    return node


def _fact_fields(model: type[BaseModel]) -> set[str]:
    return set(FACTS) & set(model.model_fields)


def parse_table(raw: dict[str, Any]) -> Table:
    """Validate a raw table (TOML/JSON shape): every fact must be ``{v, src}`` with a known source."""
    try:
        sources = {k: Source.model_validate(v) for k, v in (raw.get("sources") or {}).items()}
    except ValidationError as exc:
        raise ConfigError(f"target table sources: {_first(exc)}", hint="each source needs url and as_of") from None
    providers: dict[str, Any] = {}
    for name, spec in (raw.get("providers") or {}).items():
        if not isinstance(spec, dict):
            raise ConfigError(f"target table provider {name!r} is not a table", hint="see curation/targets/table.toml")
        spec = dict(spec)
        models = {}
        for key, model in (spec.pop("models", None) or {}).items():
            model = dict(model)
            _require_facts(model, f"providers.{name}.models.{key}", ModelTarget)
            models[key] = {"id": key, **_resolve(model, sources, f"providers.{name}.models.{key}")}
        _require_facts(spec, f"providers.{name}", ProviderTarget)
        providers[name] = {"name": name, **_resolve(spec, sources, f"providers.{name}"), "models": models}
    try:
        return Table.model_validate({"as_of": raw.get("as_of"), "providers": providers})
    except ValidationError as exc:
        raise ConfigError(f"target table: {_first(exc)}",
                          hint="see curation/targets/table.toml for the shape") from None


def _require_facts(spec: dict[str, Any], where: str, model: type[BaseModel]) -> None:
    for key in _fact_fields(model):
        value = spec.get(key)
        if value is not None and not (isinstance(value, dict) and "v" in value):
            raise ConfigError(f"target table fact {where}.{key} has no source",
                              hint=f"write {key} = {{v = ..., src = SOURCE-ID}}")


def _first(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(map(str, err['loc']))}: {err['msg']}"


ENV_TABLE = "CURATION_TARGETS"


def _read_file(path: str | Path, key: str = "targets.file") -> dict[str, Any]:
    """A target table file; ``key`` names where the path came from (the config key or the environment
    variable), so the error says what to change."""
    shown = f"{key}={str(path)!r}"
    fix = f"point {key} at a .toml (or .json) target table" + (", or unset it" if key == ENV_TABLE else "")
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{shown} is a folder, not a target table file", hint=fix)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read the target table: {exc.strerror}", hint=fix) from None
    try:
        if path.suffix == ".json":
            import json

            return json.loads(text)
        return tomllib.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: the target table is not valid {path.suffix.lstrip('.') or 'TOML'}: "
                          f"{' '.join(str(exc).split())}", hint=f"fix the file, or {fix}") from None


def check_env_table() -> None:
    """Refuse a ``CURATION_TARGETS`` that names no readable table before any work (a typo was found only by
    the commands that read the table, and named the config key instead of the variable)."""
    env_file = os.environ.get(ENV_TABLE)
    if env_file:
        _read_file(env_file, ENV_TABLE)


@lru_cache(maxsize=1)
def _builtin_raw() -> dict[str, Any]:
    return tomllib.loads(TABLE_PATH.read_text(encoding="utf-8"))


def load_table(overrides: dict[str, Any] | None = None) -> Table:
    """The shipped table, then ``CURATION_TARGETS`` (a file), then ``overrides`` (``file:`` and/or the table
    shape, as under ``targets:`` in a run config)."""
    raw = _builtin_raw()
    env_file = os.environ.get(ENV_TABLE)
    if env_file:
        raw = _merge(raw, _read_file(env_file, ENV_TABLE))
    if overrides:
        overrides = dict(overrides)
        file = overrides.pop("file", None)
        if file:
            raw = _merge(raw, _read_file(file))
        raw = _merge(raw, overrides)
    if raw is _builtin_raw():
        return _builtin_table()
    return parse_table(raw)


@lru_cache(maxsize=1)
def _builtin_table() -> Table:
    return parse_table(_builtin_raw())


def table_for_run(run_dir: Path | str) -> Table:
    """The table as the run's saved config overrides it (``targets:`` in RUN/config.yaml)."""
    config = Path(run_dir) / "config.yaml"
    overrides = None
    if config.is_file():
        import yaml

        try:
            data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            data = {}
        overrides = data.get("targets") if isinstance(data, dict) else None
    return load_table(overrides or None)


def today() -> dt.date:
    """Today in UTC, or ``CURATION_TODAY`` (YYYY-MM-DD) when set."""
    pinned = os.environ.get("CURATION_TODAY")
    if pinned:
        try:
            return dt.date.fromisoformat(pinned)
        except ValueError:
            raise ConfigError(f"CURATION_TODAY={pinned!r} is not a date", hint="write YYYY-MM-DD") from None
    return dt.datetime.now(dt.UTC).date()


# -- one target -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A provider, and optionally one of its models, with the model's facts over the provider's."""

    provider: ProviderTarget
    model: ModelTarget | None = None
    model_name: str | None = None  # what the user named (an untabulated model of an any_model provider)

    def fact(self, name: str) -> Fact[Any] | None:
        if self.model is not None and getattr(self.model, name, None) is not None:
            return getattr(self.model, name)
        return getattr(self.provider, name, None)

    def value(self, name: str, default: Any = None) -> Any:
        found = self.fact(name)
        return default if found is None else found.value

    @property
    def label(self) -> str:
        return f"{self.provider.name}:{self.model_id}" if self.model_id else self.provider.name

    @property
    def tokenizer(self) -> str | None:
        """The tiktoken encoding that counts exactly for this target, or None (an estimate is used)."""
        return (self.model.tokenizer if self.model else None) or self.provider.tokenizer

    @property
    def model_id(self) -> str | None:
        return self.model.id if self.model else self.model_name

    def status_on(self, day: dt.date) -> Status:
        status: Status = self.value("status")
        if self.provider.status.value == "closed":
            return "closed"
        until, shutdown = self.value("new_jobs_until"), self.value("shutdown")
        if (until and day > until) or (shutdown and day >= shutdown):
            return "closed"
        if status == "active" and ((until and day <= until) or (shutdown and day < shutdown)):
            return "closing"
        return status

    def methods(self) -> list[str]:
        return list(self.value("methods") or [])

    def content(self) -> Content:
        return self.value("content") or Content()

    def facts(self) -> dict[str, Fact[Any]]:
        return {name: f for name in FACTS if (f := self.fact(name)) is not None}


def split_target(spec: str) -> tuple[str, str | None]:
    """``"azure-openai:gpt-4.1-mini"`` -> ``("azure-openai", "gpt-4.1-mini")``; a local path may hold colons."""
    provider, sep, model = spec.partition(":")
    return provider.strip(), (model.strip() or None) if sep else None


def find_model(provider: ProviderTarget, name: str) -> ModelTarget | None:
    for model in provider.models.values():
        if name == model.id or name in model.aliases:
            return model
    return None


def get_target(spec: str, table: Table | None = None) -> Target:
    """``PROVIDER[:MODEL]`` -> a :class:`Target`; unknown names are errors that list what exists."""
    table = table or load_table()
    name, model_name = split_target(spec)
    provider = table.providers.get(name)
    if provider is None:
        from ..suggest import did_you_mean

        raise ConfigError(f"unknown target {name!r}{did_you_mean(name, list(table.providers))}",
                          hint=f"use one of: {', '.join(table.providers)} (see `curate models`)")
    if model_name is None:
        return Target(provider)
    model = find_model(provider, model_name)
    if model is None and not provider.any_model:
        known = sorted(m.id for m in provider.models.values())
        raise ConfigError(f"{name} has no fine-tunable model {model_name!r} in the target table",
                          hint=f"use one of: {', '.join(known) or '(none)'}; or add it under targets: in the config")
    return Target(provider, model, None if model else model_name)


def target_for_model(model_name: str, table: Table | None = None) -> Target | None:
    """The target a run's ``model:`` (a token-table name such as ``gpt-4o-mini`` or ``azure/gpt-4.1-mini``)
    points at, or None when the table does not know it (a user-defined model)."""
    table = table or load_table()
    if ":" in model_name and model_name.split(":", 1)[0] in table.providers:
        try:
            return get_target(model_name, table)
        except CurationError:
            return None
    provider_name = "openai"
    name = model_name
    try:
        from ..tokens import resolve_model

        info = resolve_model(model_name)
        provider_name = {"azure": "azure-openai"}.get(info.provider, info.provider)
        name = info.name.removesuffix("@azure")
    except CurationError:
        pass
    provider = table.providers.get(provider_name)
    if provider is not None:
        model = find_model(provider, name) or find_model(provider, model_name)
        if model is not None:
            return Target(provider, model)
    for provider in table.providers.values():  # gemini-2.5-flash, amazon.nova-lite-v1:0, ...
        model = find_model(provider, model_name)
        if model is not None:
            return Target(provider, model)
    return None


def target_for_backend(backend: str, model_name: str | None, table: Table | None = None) -> Target | None:
    """The target a trainer backend launches on (``curate train --backend B --model M``)."""
    table = table or load_table()
    for provider in table.providers.values():
        if provider.trainer == backend:
            model = find_model(provider, model_name) if model_name else None
            return Target(provider, model, None if model or not provider.any_model else model_name)
    return None


# -- lifecycle messages ---------------------------------------------------------------------------------------
def _days(day: dt.date, until: dt.date) -> str:
    n = (until - day).days
    return f"{n} day{'s' if n != 1 else ''}" if n >= 0 else f"{-n} day{'s' if n != -1 else ''} ago"


def open_targets(table: Table, day: dt.date, *, needs: Iterable[str] = (),
                 exporters: Iterable[str] | None = None, exclude: str | None = None) -> list[str]:
    """Providers still open on ``day`` that take data needing ``needs`` (method names: sft, dpo, ...; content:
    tools, images, reasoning); one per exporter (AutoTrain reads what hf-local reads)."""
    needs = set(needs)
    known = set(exporters) if exporters is not None else None
    out: list[str] = []
    seen_exporters: set[str] = set()
    for provider in table.providers.values():
        target = Target(provider)
        if provider.name == exclude or target.status_on(day) != "active" or provider.local_format:
            continue
        if provider.exporter is None or (known is not None and provider.exporter not in known):
            continue
        if provider.exporter in seen_exporters:
            continue
        methods = set(target.methods())
        content = target.content()
        if any(n in ("sft", "dpo", "rft", "kto") and n not in methods for n in needs):
            continue
        if any(n in ("tools", "images") and not getattr(content, n) for n in needs):
            continue
        seen_exporters.add(provider.exporter)
        out.append(provider.name)
    return out


def _installed_exporters() -> list[str] | None:
    try:
        from ..exporters import available_exporters

        return available_exporters()
    except Exception:  # noqa: BLE001 - a warning must never stop the command it decorates
        return None


def lifecycle_message(target: Target, day: dt.date | None = None, *, needs: Iterable[str] = (),
                      table: Table | None = None) -> str | None:
    """One line naming the dates and the open alternatives, or None when the target is open."""
    day = day or today()
    status = target.status_on(day)
    if status == "active":
        return None
    table = table or load_table()
    title = target.provider.title.split(" (")[0]
    until, shutdown = target.value("new_jobs_until"), target.value("shutdown")
    model = target.model.aliases[0] if target.model and target.model.aliases else target.model_id
    parts = []
    if status == "closing":
        if until:
            parts.append(f"{title} stops new fine-tuning jobs on {until} ({_days(day, until)})")
        if shutdown:
            who = f"{model} and its fine-tunes shut" if model else "its fine-tuned models shut"
            parts.append(f"{who} down on {shutdown}" + ("" if until else f" ({_days(day, shutdown)})"))
    else:
        what = f"{title} fine-tuning of {model}" if model and target.model else f"{title} fine-tuning"
        what = f"{title}'s platform fine-tuning" if target.provider.local_format else what
        when = f" (no new jobs after {until})" if until and day > until else ""
        when = f" (shut down {shutdown})" if shutdown and day >= shutdown else when
        parts.append(f"{what} is closed{when}")
        if target.provider.local_format:
            parts.append(f"its files are still written, for local training ({target.provider.exporter} format)")
    others = open_targets(table, day, needs=needs, exporters=_installed_exporters(), exclude=target.provider.name)
    text = "; ".join(parts) + "."
    if others:
        text += f" Open targets for this data: {', '.join(others)}"
    return text


def refuse_if_closed(target: Target | None, day: dt.date | None = None, *, needs: Iterable[str] = ()) -> None:
    """Raise :class:`TargetClosedError` (one line, exit 2) when ``target`` takes no new jobs on ``day``."""
    if target is None:
        return
    day = day or today()
    if target.status_on(day) != "closed":
        return
    message = lifecycle_message(target, day, needs=needs) or f"{target.label} is closed"
    raise TargetClosedError(f"refused to launch a job on {target.label}: {message}",
                            hint="retarget the run: curate retarget RUN --to PROVIDER[:MODEL] (see `curate models`)")


def warn_model(model_name: str | None, *, needs: Iterable[str] = (), table: Table | None = None) -> str | None:
    """The lifecycle line for a run's target model (None when open or unknown); never raises."""
    if not model_name:
        return None
    try:
        table = table or load_table()
        target = target_for_model(model_name, table)
        return lifecycle_message(target, needs=needs, table=table) if target else None
    except CurationError:
        return None


def warn_provider(name: str, model_name: str | None = None, *, needs: Iterable[str] = (),
                  table: Table | None = None) -> str | None:
    """The lifecycle line for an export format (its provider in the table), never raising."""
    try:
        table = table or load_table()
        for provider in table.providers.values():
            if provider.name == name or provider.exporter == name and not provider.any_model:
                model = find_model(provider, model_name) if model_name else None
                return lifecycle_message(Target(provider, model), needs=needs, table=table)
    except CurationError:
        return None
    return None


# What a run targets when the config names no model: Azure OpenAI's gpt-4.1-mini. Its fine-tuning is open
# (SFT and DPO), it reads the same files as OpenAI's, and its tokenizer (o200k_base) ships with us, so token
# counts stay exact; OpenAI's own gpt-4o-mini takes no new jobs after 2027-01-06.
DEFAULT_TARGET_MODEL = "azure/gpt-4.1-mini"


def lifecycle_lines(*, model: str | None = None, formats: Iterable[str] = (), format_model: str | None = None,
                    needs: Iterable[str] = (), table: Table | None = None) -> list[str]:
    """The lifecycle lines a command prints before work: the run's target model, then each export format
    whose provider the model's line did not already name. Never raises."""
    try:
        table = table or load_table()
    except CurationError as exc:
        return [f"target table: {exc}"]
    lines: list[str] = []
    seen: set[str] = set()
    target = target_for_model(model, table) if model else None
    if target is not None:
        seen.add(target.provider.name)
        line = lifecycle_message(target, needs=needs, table=table)
        if line:
            lines.append(line)
    for name in formats:
        for provider in table.providers.values():
            if provider.name in seen or not (provider.name == name or provider.exporter == name
                                             and not provider.any_model):
                continue
            seen.add(provider.name)
            line = warn_provider(provider.name, format_model, needs=needs, table=table)
            if line:
                lines.append(line)
    return lines
