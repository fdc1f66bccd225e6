"""Move a curated run to another target: re-check it against that target's rules and limits, then export.

``retarget(run_dir, "vertex-gemini:gemini-2.5-flash")`` reads the run's splits once and checks every record
against the target table (methods per model, per-example token limit, tools, images, reasoning) and the
split sizes against its counts and file limits. Tokens are counted with the target's own tokenizer when one
can be had offline (o200k_base for OpenAI and Azure; a local model folder's tokenizer for hf-local); else
with o200k_base as a documented estimate (:mod:`curation.targets.estimate`: near-limit records are warned).
Then the target's exporter writes ``RUN/exports/<format>/<kind>/`` through :func:`curation.exporters.export_run`
(its own rules apply too). Records the table refuses stop that target unless ``skip_invalid``: then they are
left out (listed in ``retarget-skipped.jsonl`` beside the export). The full report, every refused id
included, is written to ``RUN/retarget/<provider>.json``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, CurationError
from ..reasoning import has_reasoning
from . import Target, get_target, lifecycle_message, table_for_run, today
from .estimate import ESTIMATE_MARGIN

Severity = str  # "error" (the record would be refused) or "warning"

_MESSAGES: dict[str, tuple[Severity, str]] = {
    "method_unsupported": ("error", "{n} {kind} record(s): {target} does not train {kind_upper}"),
    "over_token_limit": ("error", "{n} record(s) over {target}'s {limit:,} tokens per example ({how})"),
    "near_token_limit": ("warning", "{n} record(s) within the estimate's error of the {limit:,}-token limit "
                                    "(o200k_base x {factor:g} > limit; the target's tokenizer may count more)"),
    "tools_unsupported": ("error", "{n} record(s) use tools or tool calls, which {target} does not train on"),
    "images_unsupported": ("error", "{n} record(s) hold images, which {target} does not train on"),
    "too_many_images": ("error", "{n} record(s) hold more than {max_images} images ({target}'s limit)"),
    "reasoning_dropped": ("warning", "{n} record(s) carry assistant reasoning, which {target} does not take: it "
                                     "will be dropped"),
    "validation_over_cap": ("warning", "{n} validation record(s) past {target}'s cap of {cap:,}"),
}


@dataclass
class Finding:
    code: str
    severity: Severity
    message: str
    ids: list[str] = field(default_factory=list)
    count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message, "count": self.count,
                "ids": self.ids}


@dataclass
class RetargetResult:
    target: str
    status: str
    exporter: str | None
    tokenizer: str
    records: int = 0
    findings: list[Finding] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why nothing (or a kind) was written
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0
    export_issues: list[dict[str, Any]] = field(default_factory=list)  # what the exporter itself refused
    report_path: str | None = None
    changed_exports: list[str] = field(default_factory=list)  # this target's exports deleted or edited since

    @property
    def refused_ids(self) -> set[str]:
        return {i for f in self.findings if f.severity == "error" for i in f.ids}

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "status": self.status, "exporter": self.exporter,
                "tokenizer": self.tokenizer, "records": self.records, "skipped": self.skipped,
                "findings": [f.to_dict() for f in self.findings], "written": self.written,
                "refused": self.refused, "warnings": self.warnings, "export_issues": self.export_issues,
                "changed_exports": self.changed_exports}


# -- what a record holds --------------------------------------------------------------------------------------
def _messages(record: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for key in ("messages", "prompt", "chosen", "rejected"):
        out += [m for m in record.get(key) or [] if isinstance(m, dict)]
    return out


def uses_tools(record: dict[str, Any]) -> bool:
    if record.get("tools") or record.get("functions"):
        return True
    return any(m.get("tool_calls") or m.get("function_call") or m.get("role") in ("tool", "function")
               for m in _messages(record))


def image_count(record: dict[str, Any]) -> int:
    n = 0
    for message in _messages(record):
        content = message.get("content")
        if isinstance(content, list):
            n += sum(1 for p in content if isinstance(p, dict) and p.get("type") in ("image_url", "image",
                                                                                      "input_image"))
    return n


def record_kind(record: dict[str, Any]) -> str:
    from ..records import is_preference

    return "dpo" if is_preference(record) else "sft"


# -- token counting -------------------------------------------------------------------------------------------
def _local_tokenizer(path: str) -> tuple[Callable[[dict[str, Any]], int], int | None] | None:
    """A local model folder's tokenizer (chat template when it has one) and its context length."""
    folder = Path(path)
    if not (folder / "tokenizer_config.json").is_file() and not (folder / "tokenizer.json").is_file():
        return None
    try:
        from transformers import AutoConfig, AutoTokenizer
    except ImportError:
        return None
    tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    context = None
    try:
        context = getattr(AutoConfig.from_pretrained(str(folder), local_files_only=True),
                          "max_position_embeddings", None)
    except (OSError, ValueError):
        context = None

    def plain(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
        from ..records import message_text

        return [{"role": str(m.get("role")), "content": message_text(m)} for m in messages]

    def count(record: dict[str, Any]) -> int:
        if "chosen" in record:
            prompt = plain(record.get("prompt") or [])
            return max(_count_chat(tok, prompt + plain(record.get(k) or [])) for k in ("chosen", "rejected"))
        return _count_chat(tok, plain(record.get("messages") or []))

    return count, context


def _count_chat(tok: Any, messages: list[dict[str, str]]) -> int:
    if getattr(tok, "chat_template", None):
        try:
            ids = tok.apply_chat_template(messages, tokenize=True)
            if not isinstance(ids, list):  # transformers 5 answers a BatchEncoding
                ids = ids["input_ids"]
            return len(ids)
        except Exception:  # noqa: BLE001 - a template that rejects these roles: count the texts
            pass
    return sum(len(tok.encode(m["content"], add_special_tokens=False)) for m in messages)


def _counter(target: Target, run_model: str | None) -> tuple[Callable[[dict[str, Any]], int], str, bool, int | None]:
    """(count, description, exact, context length from the tokenizer's model or None)."""
    from .. import tokens

    if target.provider.name == "hf-local" and target.model_name:
        local = _local_tokenizer(target.model_name)
        if local is not None:
            return local[0], f"{target.model_name}'s own tokenizer", True, local[1]
    encoding_name = target.tokenizer or "o200k_base"
    encoding = tokens.get_encoding(encoding_name)
    reuse = False
    if run_model:
        try:
            reuse = tokens.resolve_model(run_model).encoding == encoding_name
        except CurationError:
            reuse = False

    def count(record: dict[str, Any]) -> int:
        cached = (record.get("metadata") or {}).get("tokens")
        if reuse and type(cached) is int:
            return cached
        return tokens.chat_tokens(record, encoding)

    exact = target.tokenizer is not None
    how = f"{encoding_name} (exact)" if exact else f"{encoding_name} (estimate; margin {ESTIMATE_MARGIN:g})"
    return count, how, exact, None


# -- the check ------------------------------------------------------------------------------------------------
class _Collector:
    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = {}

    def add(self, code: str, rid: str) -> None:
        self.ids.setdefault(code, []).append(rid)


def check(run_dir: Path, target: Target, *, method: str = "auto") -> tuple[RetargetResult, set[str]]:
    """Every record of the run against ``target``'s table entry; returns the result and the kinds checked."""
    from ..exporters.base import iter_lines, read_json, split_paths

    run_model = read_json(run_dir / "report.json").get("model")
    count, how, exact, context = _counter(target, run_model if isinstance(run_model, str) else None)
    limit = target.value("max_tokens_per_example") or context
    methods = set(target.methods())
    content = target.content()
    max_images = target.value("max_images_per_example")
    cap = target.value("max_validation_examples")
    result = RetargetResult(target.label, target.status_on(today()), target.provider.exporter, how)
    found = _Collector()
    kinds_seen: set[str] = set()
    n_split: dict[str, dict[str, int]] = {}
    size: dict[str, dict[str, int]] = {}
    for split, path in split_paths(run_dir).items():
        for raw, record in iter_lines(path):
            kind = record_kind(record)
            if method != "auto" and kind != method:
                continue
            if (record.get("metadata") or {}).get("label") is False:
                continue  # undesirable KTO examples reach no SFT or DPO export
            kinds_seen.add(kind)
            result.records += 1
            rid = str(record.get("id", "?"))
            per = n_split.setdefault(kind, {})
            per[split] = per.get(split, 0) + 1
            size.setdefault(kind, {})[split] = size.get(kind, {}).get(split, 0) + len(raw)
            if kind not in methods:
                found.add(f"method_unsupported:{kind}", rid)
            if uses_tools(record) and not content.tools:
                found.add("tools_unsupported", rid)
            images = image_count(record)
            if images and not content.images:
                found.add("images_unsupported", rid)
            elif max_images and images > max_images:
                found.add("too_many_images", rid)
            if not content.reasoning and has_reasoning(record):
                found.add("reasoning_dropped", rid)
            if limit:
                n = count(record)
                if n > limit:
                    found.add("over_token_limit", rid)
                elif not exact and n * (1 + ESTIMATE_MARGIN) > limit:
                    found.add("near_token_limit", rid)
            if split == "validation" and cap and per[split] > cap:
                found.add("validation_over_cap", rid)
    values = {"target": target.label, "limit": limit or 0, "how": how, "factor": 1 + ESTIMATE_MARGIN,
              "max_images": max_images or 0, "cap": cap or 0}
    for code, ids in found.ids.items():
        base, _, kind = code.partition(":")
        severity, text = _MESSAGES[base]
        message = text.format(n=len(ids), kind=kind, kind_upper=kind.upper(), **values)
        result.findings.append(Finding(base, severity, message, ids, len(ids)))
    for kind, per in n_split.items():
        if kind not in methods:
            continue
        n_train = per.get("train", 0)
        minimum, maximum = target.value("min_train_examples"), target.value("max_train_examples")
        if minimum and n_train < minimum:
            result.findings.append(Finding("too_few_examples", "error", f"{kind.upper()} train split has "
                                           f"{n_train} example(s); {target.label} needs at least {minimum}"))
        if maximum and n_train > maximum:
            result.findings.append(Finding("too_many_examples", "error", f"{kind.upper()} train split has "
                                           f"{n_train:,} examples; {target.label} takes at most {maximum:,}"))
        max_bytes = target.value("max_file_bytes")
        for split, nbytes in size.get(kind, {}).items():
            if max_bytes and nbytes > max_bytes:
                result.findings.append(Finding("file_too_large", "error", f"{kind.upper()} {split} file would be "
                                               f"about {nbytes / 2**20:,.0f} MB; {target.label} takes at most "
                                               f"{max_bytes / 2**20:,.0f} MB"))
    result.findings.sort(key=lambda f: (f.severity != "error", -f.count, f.code))
    return result, kinds_seen


# -- export ---------------------------------------------------------------------------------------------------
def _exporter_model(target: Target) -> str | None:
    return target.model_id


def _filtered_copy(run_dir: Path, leave_out: set[str], folder: Path) -> int:
    """A sealed copy of the run without ``leave_out`` (what the exporter reads); returns how many were left."""
    from .. import run_folder
    from ..exporters.base import iter_lines, split_paths

    (folder / "splits").mkdir(parents=True)
    left = 0
    for path in split_paths(run_dir).values():
        with (folder / "splits" / path.name).open("wb") as out:
            for raw, record in iter_lines(path):
                if str(record.get("id", "?")) in leave_out:
                    left += 1
                    continue
                out.write(raw if raw.endswith(b"\n") else raw + b"\n")
    for name in ("report.json", "config.yaml"):
        if (run_dir / name).is_file():
            shutil.copyfile(run_dir / name, folder / name)
    run_folder.write_manifest(folder, {"tool": "curation", "retarget_of": str(run_dir)})
    return left


def retarget(run_dir: Path | str, spec: str, *, method: str = "auto", skip_invalid: bool = False,
             strict: bool = False, write: bool = True) -> RetargetResult:
    """Check the run against ``spec`` (``PROVIDER[:MODEL]``) and write its export (see the module docstring)."""
    from .. import run_folder

    run_dir = Path(run_dir)
    if not run_dir.is_dir():  # (reading it says what is wrong)
        return _retarget(run_dir, spec, method=method, skip_invalid=skip_invalid, strict=strict, write=write)
    # A `curate run` replacing the splits meanwhile would be checked and exported half-written.
    with run_folder.locked(run_dir, "curate retarget"):
        return _retarget(run_dir, spec, method=method, skip_invalid=skip_invalid, strict=strict, write=write)


def _retarget(run_dir: Path, spec: str, *, method: str, skip_invalid: bool, strict: bool,
              write: bool) -> RetargetResult:
    from ..exporters import ExportOptions, available_exporters, export_run
    from ..exporters.outcome import outcome_lines

    run_dir = Path(run_dir)
    if method not in ("auto", "sft", "dpo"):
        raise ConfigError(f"unknown --method {method!r}", hint="use auto, sft or dpo")
    table = table_for_run(run_dir)
    target = get_target(spec, table)
    result, kinds = check(run_dir, target, method=method)
    export_method = method
    supported = kinds & set(target.methods())
    if method == "auto" and supported and supported != kinds:
        # auto: the kind the model does not train is not exported (said once), the other kind is
        export_method = next(iter(supported))
        for f in result.findings:
            if f.code == "method_unsupported":
                f.severity = "warning"
                f.message += "; not exported (the run's other records are)"
    line = lifecycle_message(target, needs=kinds, table=table)
    if result.status == "closed" and not target.provider.local_format:
        result.refused.append(f"{target.label}: refused, target closed: {line}")
        return _save(run_dir, target, result)
    if line:
        result.warnings.append(line)
    exporter = target.provider.exporter
    if exporter is None or exporter not in available_exporters():
        result.refused.append(f"{target.label}: refused, no exporter {exporter!r} is installed"
                              + (" (bedrock-conversation-2024 files are not written by this version)"
                                 if target.provider.name == "bedrock-nova" else ""))
        return _save(run_dir, target, result)
    record_errors = [f for f in result.findings if f.severity == "error" and f.ids]
    global_errors = [f for f in result.findings if f.severity == "error" and not f.ids]
    if global_errors or (record_errors and not skip_invalid):
        first = (global_errors or record_errors)[0]
        fix = "" if global_errors else " (fix: --skip-invalid leaves those records out)"
        result.refused.append(f"{target.label}: refused, {first.code}: {first.message}{fix}")
        return _save(run_dir, target, result)
    if strict and any(f.severity == "warning" for f in result.findings):
        first = next(f for f in result.findings if f.severity == "warning")
        result.refused.append(f"{target.label}: refused under --strict, {first.code}: {first.message}")
        return _save(run_dir, target, result)
    if not write:
        return _save(run_dir, target, result)
    options = ExportOptions(model=_exporter_model(target), method=export_method, skip_invalid=skip_invalid,  # type: ignore[arg-type]
                            allow_warnings=not strict)
    leave_out = result.refused_ids if skip_invalid else set()
    source = run_dir
    staging = run_dir / "exports" / f".retarget-{target.provider.name}.tmp-{os.getpid()}"
    try:
        if leave_out:
            shutil.rmtree(staging, ignore_errors=True)
            result.skipped = _filtered_copy(run_dir, leave_out, staging)
            source = staging
        exported = export_run(source, [exporter], options, each=True)
        # (the other kind's records are exported in their own pass, or left out on purpose with --method)
        result.warnings += [str(i) for i in exported.warnings if i.code != "method_skipped"]
        result.export_issues += [i.to_dict() for issues in exported.refused.values() for i in issues]
        for ok, text in outcome_lines(exported, not strict):
            (result.written if ok else result.refused).append(text.replace(str(source), str(run_dir)))
        if leave_out:
            _move_exports(staging, run_dir, exporter, result, leave_out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _save(run_dir, target, result)


def _move_exports(staging: Path, run_dir: Path, exporter: str, result: RetargetResult, leave_out: set[str]) -> None:
    made = staging / "exports" / exporter
    if not made.is_dir():
        return
    for folder in sorted(p for p in made.iterdir() if p.is_dir() and not p.name.startswith(".")):
        final = run_dir / "exports" / exporter / folder.name
        final.parent.mkdir(parents=True, exist_ok=True)
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        if final.exists():
            os.replace(final, old)
        os.replace(folder, final)
        shutil.rmtree(old, ignore_errors=True)
        codes = {i: sorted(f.code for f in result.findings if f.severity == "error" and i in f.ids)
                 for i in leave_out}
        with (final / "retarget-skipped.jsonl").open("w", encoding="utf-8") as fh:
            for rid in sorted(leave_out):
                fh.write(json.dumps({"id": rid, "rules": codes[rid]}) + "\n")
        from .. import run_folder

        run_folder.seal_export(run_dir, f"{exporter}/{folder.name}")  # (the staging copy's seal went with it)


def _save(run_dir: Path, target: Target, result: RetargetResult) -> RetargetResult:
    from ..run_folder import export_changes

    # This target's export on disk, deleted or edited since it was written (after a write: what the write left)
    if target.provider.exporter:
        result.changed_exports = [str(c) for c in export_changes(run_dir, [target.provider.exporter]).values()]
    folder = run_dir / "retarget"
    folder.mkdir(exist_ok=True)
    path = folder / f"{target.provider.name}.json"
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    result.report_path = str(path)
    return result
