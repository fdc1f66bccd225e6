"""The run config: pydantic models with ``extra="forbid"``, loaded from YAML, overridable from the CLI.

Precedence is defaults < YAML < command-line flags. A bad key or value stops the run before any work
with the key's dotted path and a hint; the resolved config and its hash are saved with every run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .dedup.config import DecontaminationConfig, ExactDedupConfig, NearDedupConfig
from .errors import ConfigError
from .pipeline.stages.filters import FilterRule
from .pipeline.stages.labels import LabelConfig
from .pipeline.stages.language import LanguageConfig
from .pipeline.stages.length import LengthConfig, TurnsConfig
from .pipeline.stages.normalise import NormaliseConfig
from .pipeline.stages.quality import QualityConfig
from .pipeline.stages.redact import RedactConfig
from .readers import FieldMapping
from .readers.files import real_path
from .suggest import did_you_mean


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True, validate_assignment=True)


class InputConfig(_Strict):
    """One input: a file, a folder of files, or a Hugging Face ``save_to_disk`` folder."""

    path: str = Field(description="File or folder to read (JSONL, JSON, gzip/zstd, parquet, CSV, HF dataset).")
    format: str | None = Field(default=None, description="Force a format instead of recognising it by keys.")
    mapping: FieldMapping | None = Field(default=None, description="Field and role names for other layouts.")
    name: str | None = Field(default=None, description="Source name for stratification; default: the file name.")

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        # Checked here, so that a misspelt format stops the run before any work (it failed in the first worker,
        # after the output folder was made).
        from .readers.formats import FORMAT_NAMES

        if value is not None and value not in FORMAT_NAMES:
            raise ValueError(f"unknown input format {value!r}{did_you_mean(value, FORMAT_NAMES)}; use one of "
                             f"{', '.join(FORMAT_NAMES)}, or leave it out to recognise each record by its keys")
        return value


class ModelSpec(_Strict):
    """A model the user adds to (or overrides in) the built-in model table."""

    encoding: str = "o200k_base"
    max_tokens_per_example: int = Field(gt=0)
    training_price_per_1m: float | None = None
    provider: str = "openai"


class SplitConfig(_Strict):
    """Train/validation/test split: ratios or counts, seeded, stratified, cluster-aware."""

    train: float = Field(default=0.9, ge=0, description="Share (0..1) of records for training; ignored with counts.")
    validation: float = Field(default=0.1, ge=0)
    test: float = Field(default=0.0, ge=0)
    validation_count: int | None = Field(default=None, ge=0, description="Exact validation size instead of a ratio.")
    test_count: int | None = Field(default=None, ge=0, description="Exact test size instead of a ratio.")
    stratify_by: str | None = Field(
        default=None,
        description="Metadata field to stratify on: language, source, or any dotted metadata path (fields.status).",
    )
    max_per_stratum: int | None = Field(default=None, gt=0, description="Cap records per stratum (excess rejected).")
    min_per_stratum: int | None = Field(default=None, gt=0, description="Reject strata smaller than this.")
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1, description="Split seed; default: the run seed.")
    group_by: list[str] = Field(
        default_factory=lambda: ["tree", "passage", "first_user_turn", "near_cluster"],
        description="Records sharing any of these keys stay in one split: tree (a conversation tree id, e.g. "
        "OpenAssistant's message_tree_id), passage (questions asked of one passage, e.g. SQuAD's paragraphs), "
        "first_user_turn (the same opening prompt: branches of one tree, shared "
        "conversation prefixes, several answers to one prompt), near_cluster, or field:<dotted metadata path> "
        "(e.g. field:fields.session_id). [] splits record by record.",
    )
    shared_opening_max: int | None = Field(
        default=50, ge=1,
        description="first_user_turn groups larger than this do not keep records together: an opening many "
        "conversations share (a greeting such as 'Hello!', a fixed template) is not one prompt asked again, and "
        "one such group would put them all in train. Empty: no limit.",
    )
    min_train: int = Field(
        default=10, ge=0,
        description="Keep at least this many records in train when the data has them (OpenAI and Azure OpenAI "
        "refuse fewer than 10): validation and test shrink first. 0 turns it off.",
    )

    @field_validator("group_by")
    @classmethod
    def _known_groups(cls, value: list[str]) -> list[str]:
        known = ("tree", "passage", "first_user_turn", "near_cluster")
        for key in value:
            if key not in known and not (key.startswith("field:") and len(key) > len("field:")):
                raise ValueError(f"unknown split group {key!r}: use {', '.join(known)} or field:<metadata path>")
        return value

    @model_validator(mode="after")
    def _ratios(self) -> SplitConfig:
        if self.validation_count is None and self.test_count is None:
            total = self.train + self.validation + self.test
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"train + validation + test must add up to 1 (they add up to {total:g})")
        return self


class ExportConfig(_Strict):
    """Exports written into RUN_DIR/exports/<format>/ at the end of `curate run`."""

    formats: list[str] = Field(default_factory=lambda: ["openai", "hf"], description="Exporter names.")
    method: Literal["auto", "sft", "dpo", "kto"] = Field(
        default="auto", description="sft: conversations only; dpo: preference pairs only; kto: labelled "
        "conversations as prompt/completion/label (hf only); auto: what the run holds "
        "(a run holding both kinds must choose: one provider training file holds one kind).")
    azure_bom: bool = Field(default=False, description="Write Azure OpenAI files as UTF-8 with BOM.")
    strict: bool = Field(default=False, description="Fail the run when an export rule fails (default: report).")
    max_train_examples: dict[str, int] = Field(
        default_factory=dict, description="Per format, a deterministic sample of at most N training records, to "
        "meet a provider's file-size or count limit (e.g. {openai: 300000}); the rest go to skipped.jsonl.")


class RunnerConfig(_Strict):
    """How the pipeline runs (not what it does)."""

    executor: Literal["auto", "inprocess", "processes", "ray"] = "auto"
    workers: int | None = Field(default=None, ge=1, description="Worker processes (ray: actors); default: CPU count.")
    address: str | None = Field(default=None, description="executor ray: the cluster to join (ray://host:10001 or "
                                "host:6379); default: RAY_ADDRESS, else a local Ray started for the run.")
    batch_size: int | None = Field(
        default=None, ge=1,
        description="Records per batch sent to a worker; default: 2048 for inputs over 64 MB, else 512 (big "
        "batches keep each stage's tables in cache, small ones keep every worker busy on small inputs).")
    progress: bool = True
    shard_bytes: int | None = Field(
        default=None, ge=1,
        description="Phase-1 task size: a plain JSONL file is cut at newlines into byte ranges of about this size "
        "(each read and written by one worker); other files are one task each. Default: a 32nd of the input, "
        "between 2 MB and 32 MB, so that workers finish together on mid-size inputs too.")


class RunConfig(_Strict):
    """Everything `curate run` needs. Every field has a default except the inputs."""

    inputs: list[InputConfig] = Field(default_factory=list, description="Raw data files or folders.")
    out: str | None = Field(default=None, description="Run folder; default runs/<timestamp>.")
    model: str = Field(default="azure/gpt-4.1-mini", description="Target model: token limits, encoding and prices "
                       "(the default is open for fine-tuning; `curate models` lists the targets and their dates).")
    models: dict[str, ModelSpec] = Field(default_factory=dict, description="Extra or overridden model table rows.")
    targets: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of the fine-tuning target table (curation/targets/table.toml): "
        "the same shape ({providers: {...}, sources: {...}}) and/or {file: my-targets.toml}.")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Seed for every random choice (0 to 2**32-1).")
    normalise: NormaliseConfig = Field(default_factory=NormaliseConfig)
    labels: LabelConfig = Field(default_factory=LabelConfig)
    filters: list[FilterRule] = Field(
        default_factory=list,
        description="Keep only records whose metadata passes every rule, e.g. [{field: fields.status, equals: "
        "ok}]; operators: equals, not_equals, in, not_in, min, max (extra input keys are under fields.)",
    )
    redact: RedactConfig = Field(default_factory=RedactConfig)
    exact_dedup: ExactDedupConfig = Field(default_factory=ExactDedupConfig)
    near_dedup: NearDedupConfig = Field(default_factory=NearDedupConfig)
    decontaminate: DecontaminationConfig = Field(default_factory=DecontaminationConfig)
    length: LengthConfig = Field(default_factory=LengthConfig)
    turns: TurnsConfig = Field(default_factory=TurnsConfig)
    language: LanguageConfig = Field(default_factory=LanguageConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    flags: dict[str, Literal["drop", "flag", "off"]] = Field(
        default_factory=dict,
        description="What a flag does, per code: drop (reject the record with that code), flag (keep it, counted "
        "in the report; the default) or off (remove the flag). E.g. {truncated_reply: drop, ai_disclaimer: off}")
    split: SplitConfig = Field(default_factory=SplitConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)
    runner: RunnerConfig = Field(default_factory=RunnerConfig)
    apply_review: bool = Field(default=True, description="Apply review decisions found in the run folder.")

    @model_validator(mode="before")
    @classmethod
    def _one_target_model(cls, data: Any) -> Any:
        # The length stage can run on its own with its own model; inside a run the target model is the
        # top-level `model`, so a second one under `length` would be silently ignored: refuse it.
        length = data.get("length") if isinstance(data, dict) else None
        if isinstance(length, dict):
            for key in ("model", "models"):
                if key in length:
                    raise ValueError(f"set the target model with the top-level `{key}:` key, not `length.{key}`")
        return data

    @field_validator("targets")
    @classmethod
    def _targets_load(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value:
            from .targets import load_table

            try:
                load_table(value)
            except Exception as exc:  # noqa: BLE001 - reported as the config error it is
                raise ValueError(str(exc)) from None
        return value

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs_as_paths(cls, value: Any) -> Any:
        if isinstance(value, (str, Path)):
            value = [value]
        if isinstance(value, list):
            return [{"path": str(v)} if isinstance(v, (str, Path)) else v for v in value]
        return value

    def resolved(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def config_hash(self) -> str:
        """Hash of what the run does: ``out`` and runner settings do not change outputs, so they are left out."""
        body = self.resolved()
        body.pop("out", None)
        body.pop("runner", None)
        if not body.get("targets"):  # the target table only decides warnings and refusals, not the outputs
            body.pop("targets", None)
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()



def _with_registered_stages(base: type[RunConfig]) -> type[RunConfig]:
    """RunConfig plus one field per registered stage whose config the class above does not declare, so that a
    stage added to the registry (curation.pipeline.registry) brings its settings without editing this file."""
    from pydantic import create_model

    from .pipeline import registry

    fields: dict[str, Any] = {}
    for name, model_path in registry.registered_config_fields().items():
        if name not in base.model_fields:
            model = registry.resolve(model_path)
            fields[name] = (model, Field(default_factory=model, description=(model.__doc__ or "").strip()))
    if not fields:
        return base
    return create_model("RunConfig", __base__=base, __module__=__name__, __doc__=base.__doc__, **fields)


RunConfig = _with_registered_stages(RunConfig)  # type: ignore[misc]

def _keys_at(loc: tuple[Any, ...]) -> list[str]:
    """The valid keys of the config section at ``loc`` (for "did you mean")."""
    model: Any = RunConfig
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(getattr(model, "model_fields", {}))


def yaml_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML ``text`` where the key path ``loc`` is written, from the composed node tree
    (read again only when the config is refused). None when the path is not in the text (a --set or flag
    value), so no line is named that the user did not write."""
    import yaml

    try:
        node: Any = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line: int | None = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)),
                         None)
            if found is None:
                return None
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:  # pydantic's path goes on inside a scalar (a union's branch, a parsed value): the scalar's line
            break
    return line


def _format_validation_error(exc: ValidationError, source: str, text: str | None = None,
                             given: list[tuple[str, ...]] | None = None) -> ConfigError:
    lines = []
    for err in exc.errors()[:8]:
        loc = tuple(str(p) for p in err["loc"])
        path = ".".join(loc) or "(top level)"
        from_flag = any(loc[:len(key)] == key for key in given or [])
        line = yaml_line(text, err["loc"]) if text is not None and err["loc"] and not from_flag else None
        at = f"line {line}: " if line else ""
        if err["type"] == "extra_forbidden":
            parent = err["loc"][:-1]
            lines.append(f"{at}unknown key '{path}'"
                         + (f" in section '{'.'.join(map(str, parent))}'" if parent else "")
                         + did_you_mean(err["loc"][-1], _keys_at(parent)))
        else:
            lines.append(f"{at}'{path}': {err['msg'].removeprefix('Value error, ')}")
    return ConfigError(
        "invalid config: " + "; ".join(lines),
        where=source,
        hint="fix or remove the key; `curate init` writes a commented config with every valid key",
    )


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c=value`` in a nested dict, creating sections as needed."""
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[keys[-1]] = value


def parse_override(text: str) -> tuple[str, Any]:
    """``key.path=value`` with the value read as YAML (numbers, booleans, lists like [en, fr])."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not KEY=VALUE", hint="write e.g. --set near_dedup.threshold=0.8")
    key, raw = text.split("=", 1)
    import yaml  # here, not at the top: worker processes import this module and never read YAML

    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def _unique_keys_loader() -> Any:
    """PyYAML's safe loader, refusing a key given twice in one mapping. Plain YAML keeps the last one without a
    word, so a second ``split:`` further down silently undid the first."""
    import yaml

    class UniqueKeysLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the safe loader refuses it itself
                    continue
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} is given twice (first on line {first + 1}); YAML would keep "
                        "only the second, so merge them into one", key_node.start_mark)
                seen[key] = key_node.start_mark.line
            return super().construct_mapping(node, deep)

    return UniqueKeysLoader


def load_config(
    path: str | Path | None = None,
    *,
    overrides: list[str] | None = None,
    values: dict[str, Any] | None = None,
) -> RunConfig:
    """Load YAML (if any), apply ``values`` (dotted keys from CLI flags) and ``--set`` overrides, validate."""
    data: dict[str, Any] = {}
    source = str(path) if path else "command line"
    yaml_text: str | None = None
    if path is not None:
        import yaml

        p = Path(path)
        if p.is_dir():  # "not found" sent users looking for a path that is there
            raise ConfigError("the config is a folder, not a YAML file", where=str(p),
                              hint=f"give the YAML file inside it (e.g. {p / 'curation.yaml'}), or pass the folder "
                              "as --input to curate its files")
        if not p.is_file():
            raise ConfigError(f"config file {str(p)!r} not found",
                              hint="give the path of a YAML file, or run `curate init`")
        try:
            yaml_text = p.read_text(encoding="utf-8")
            loaded = yaml.load(yaml_text, Loader=_unique_keys_loader())  # noqa: S506
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{p}:{mark.line + 1}" if mark else str(p)
            problem = str(getattr(exc, "problem", exc))
            twice = problem.startswith("the key ")
            raise ConfigError(f"{'invalid config' if twice else 'not valid YAML'}: {problem}", where=where,
                              hint="keep one of the two (a key indented wrongly can also land in the section above)"
                              if twice else "check indentation and quoting on that line") from None
        except UnicodeDecodeError:
            raise ConfigError("config is not UTF-8 text", where=str(p), hint="save it as UTF-8") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError("config must be a mapping of keys to values", where=str(p),
                              hint="start from `curate init`")
        data = loaded
        # Relative input paths in a config file are relative to the file, not to the shell's folder.
        base = p.resolve().parent

        def rebase(q: Any) -> Any:
            return str(base / q) if isinstance(q, str) and not Path(q).is_absolute() else q

        inputs = data.get("inputs")
        if isinstance(inputs, (str, list)):
            data["inputs"] = [
                {**item, "path": rebase(item["path"])} if isinstance(item, dict) and "path" in item else rebase(item)
                for item in ([inputs] if isinstance(inputs, str) else inputs)
            ]
        dc = data.get("decontaminate")
        if isinstance(dc, dict) and isinstance(dc.get("paths"), list):
            dc["paths"] = [rebase(q) for q in dc["paths"]]
    given: list[tuple[str, ...]] = []  # keys a flag or --set gave: their errors name no line of the file
    for key, value in (values or {}).items():
        if value is not None:
            set_dotted(data, key, value)
            given.append(tuple(key.split(".")))
    for text in overrides or []:
        key, value = parse_override(text)
        set_dotted(data, key, value)
        given.append(tuple(key.split(".")))
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise _format_validation_error(exc, source, yaml_text, given) from None


def dump_config(config: RunConfig) -> str:
    """The config a run writes beside its outputs, loadable as it stands: `length.model(s)` are left out because
    a run takes its target model from the top level (RunConfig._one_target_model refuses a second one), and
    paths are absolute."""
    import yaml

    body = config.resolved()
    for key in ("model", "models"):
        body.get("length", {}).pop(key, None)
    # Reloading rebases relative paths on the file's folder (the run folder), so write them absolute.
    for item in body.get("inputs", []):
        item["path"] = str(real_path(Path(item["path"])))
    dc = body.get("decontaminate") or {}
    if isinstance(dc.get("paths"), list):
        dc["paths"] = [str(real_path(Path(q))) for q in dc["paths"]]
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def commented_default_config() -> str:
    """The YAML `curate init` writes: every section with its defaults and each field's description."""
    lines = [
        "# curation run config. Every key is optional except inputs; unknown keys are an error.",
        "# Run it with: curate run THIS_FILE   (override any key: --set near_dedup.threshold=0.8)",
        "",
    ]
    import yaml

    defaults = RunConfig(inputs=[InputConfig(path="samples/raw")])

    def emit(model: BaseModel, indent: int) -> None:
        pad = "  " * indent
        for name, field in type(model).model_fields.items():
            if indent and name in ("model", "models"):
                continue  # the run's target model is the top-level one (see RunConfig._one_target_model)
            value = getattr(model, name)
            if field.description:
                lines.append(f"{pad}# {field.description}")
            if isinstance(value, BaseModel):
                lines.append(f"{pad}{name}:")
                emit(value, indent + 1)
            elif indent == 0 and name in _EXAMPLES:
                lines.extend(_EXAMPLES[name])
            else:
                dumped = value
                text = yaml.safe_dump(_jsonable(dumped), allow_unicode=True, default_flow_style=True, width=1000)
                text = text.strip().removesuffix("...").strip()
                lines.append(f"{pad}{name}: {text}")

    emit(defaults, 0)
    return "\n".join(lines) + "\n"


# Top-level keys `curate init` writes as a commented example rather than as their default value.
_EXAMPLES: dict[str, list[str]] = {
    "inputs": [
        "inputs:",
        "  - path: samples/raw",
        "    # format: sharegpt          # force a format (default: recognised by keys); `mapped` with a mapping:",
        "    # mapping:                  # for other layouts (`curate inspect FILE --suggest-mapping` prints this)",
        "    #   messages: conversation  # the field that holds the turns",
        "    #   role: role              # a turn's role key",
        "    #   content: content        # a turn's text key",
        "    #   roles: {UTILISATEUR: user, ASSISTANT: assistant}",
        "    # name: my-source           # source name for split.stratify_by: source",
    ],
    "filters": [
        "filters: []",
        "# e.g. filters: [{field: fields.status, equals: ok}, {field: fields.rating, min: 4}]",
    ],
}


def _jsonable(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value, default=lambda v: v.model_dump(mode="json")))
