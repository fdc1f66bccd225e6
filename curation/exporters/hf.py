"""A Hugging Face dataset: ``save_to_disk`` folder, one parquet file per split, and a dataset card.

Layout of ``exports/hf/``::

    dataset_dict.json, train/, validation/, test/      DatasetDict.save_to_disk (datasets.load_from_disk)
    data/<split>-00000-of-00001.parquet                the same rows (load_dataset("parquet", ...))
    README.md                                          card: YAML configs + dataset_info + curation summary

Conversations become TRL's conversational format (a ``messages`` column); preference pairs become
``prompt``/``chosen``/``rejected`` message columns (TRL's conversational preference format); with
``--method kto`` conversations become ``prompt``/``completion``/``label`` (TRL's KTOTrainer format: the last,
assistant turn is the completion, ``metadata.label`` the label). Messages
share one Arrow struct: ``role``, ``content`` (text parts joined into one string), and only the optional
fields some record uses (``name``, ``tool_calls`` with arguments as JSON strings, ``tool_call_id``,
``weight``, and ``reasoning_content``: the assistant's reasoning, under the name thinking-aware chat templates
read); absent ones are null. ``tools`` and ``metadata`` are JSON *strings*: each record's tool
schemas (and metadata) differ in shape, and an Arrow column must have one type. Decode them with
``json.loads`` before handing tools to ``apply_chat_template(..., tools=...)``.

Pushing to the Hub happens only when asked (``--push-to-hub REPO`` with ``HF_TOKEN`` set), after the
folder is complete.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import shutil
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ..errors import CurationError, MissingExtraError
from ..records import arguments_string, has_image, message_text
from .base import ExportIssue, ExportOptions, atomic_writer, export_kind, iter_records, read_json, split_paths
from .jsonl import JsonlChecker, JsonlExporter, Target

OPTIONAL_MESSAGE_FIELDS: tuple[str, ...] = ("name", "tool_calls", "tool_call_id", "weight", "reasoning")
# The canonical ``reasoning`` is written as ``reasoning_content``: the field thinking-aware chat templates
# (Qwen3, DeepSeek-R1 distills, transformers' own) read from an assistant message.
REASONING_COLUMN = "reasoning_content"
BATCH = 8192


def _schema(kind: str, optional: set[str], with_tools: bool) -> Any:
    import pyarrow as pa

    fields = [pa.field("role", pa.string()), pa.field("content", pa.string())]
    if "name" in optional:
        fields.append(pa.field("name", pa.string()))
    if "tool_calls" in optional:
        function = pa.struct([pa.field("name", pa.string()), pa.field("arguments", pa.string())])
        call = pa.struct([pa.field("id", pa.string()), pa.field("type", pa.string()), pa.field("function", function)])
        fields.append(pa.field("tool_calls", pa.list_(call)))
    if "tool_call_id" in optional:
        fields.append(pa.field("tool_call_id", pa.string()))
    if "weight" in optional:
        fields.append(pa.field("weight", pa.int64()))
    if "reasoning" in optional:
        fields.append(pa.field(REASONING_COLUMN, pa.string()))
    message = pa.list_(pa.struct(fields))
    columns = [pa.field("id", pa.string())]
    if kind == "dpo":
        columns += [pa.field("prompt", message), pa.field("chosen", message), pa.field("rejected", message)]
    elif kind == "kto":  # TRL KTOTrainer's conversational unpaired preference format
        columns += [pa.field("prompt", message), pa.field("completion", message), pa.field("label", pa.bool_())]
    else:
        columns.append(pa.field("messages", message))
    if with_tools:
        columns.append(pa.field("tools", pa.string()))
    columns.append(pa.field("metadata", pa.string()))
    return pa.schema(columns)


def _message_row(message: dict[str, Any], optional: set[str]) -> dict[str, Any]:
    content = message.get("content")
    row: dict[str, Any] = {"role": message.get("role"), "content": None if content is None else message_text(message)}
    for key in optional:
        value = message.get(key)
        if key == "tool_calls" and value:
            value = [
                {
                    "id": c.get("id"),
                    "type": c.get("type", "function"),
                    "function": {
                        "name": (c.get("function") or {}).get("name"),
                        "arguments": arguments_string((c.get("function") or {}).get("arguments")),
                    },
                }
                for c in value
            ]
        elif key == "weight" and value is not None:
            value = int(value)
        elif key == "reasoning":
            row[REASONING_COLUMN] = value if isinstance(value, str) and value else None
            continue
        row[key] = value
    return row


def _tools_json(record: dict[str, Any]) -> str | None:
    tools = record.get("tools")
    if tools is None or tools == []:
        return None
    return tools if isinstance(tools, str) else orjson.dumps(tools).decode()


def kto_parts(record: dict[str, Any]) -> tuple[list[Any], list[Any], bool]:
    """A conversation as KTO ``prompt`` (every turn before the last), ``completion`` (the last, assistant
    turn) and ``label`` (``metadata.label``; a conversation without one is a desirable example)."""
    messages = [m for m in record.get("messages") or () if isinstance(m, dict)]
    label = (record.get("metadata") or {}).get("label")
    return messages[:-1], messages[-1:], label is not False


def hf_row(record: dict[str, Any], kind: str, optional: set[str], with_tools: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"id": str(record.get("id", ""))}
    if kind == "kto":
        prompt, completion, label = kto_parts(record)
        row["prompt"] = [_message_row(m, optional) for m in prompt]
        row["completion"] = [_message_row(m, optional) for m in completion]
        row["label"] = label
    keys = ("prompt", "chosen", "rejected") if kind == "dpo" else ("messages",) if kind == "sft" else ()
    for key in keys:
        row[key] = [_message_row(m, optional) for m in record.get(key) or () if isinstance(m, dict)]
    if with_tools:
        row["tools"] = _tools_json(record)
    row["metadata"] = orjson.dumps(_published_metadata(record.get("metadata") or {}),
                                   option=orjson.OPT_SORT_KEYS).decode()
    return row


def _published_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The metadata a dataset on the Hub carries: the source file named as the run was given it when relative,
    else by its name alone. An absolute path (/home/alice/exports/...) names the machine and the person it came
    from, and would be published with the dataset."""
    source = metadata.get("source")
    path = source.get("path") if isinstance(source, dict) else None
    if not (isinstance(path, str) and os.path.isabs(path)):
        return metadata
    return {**metadata, "source": {**source, "path": os.path.basename(path)}}


def _scan(paths: list[Path]) -> tuple[set[str], bool]:
    """Which optional message fields and whether ``tools`` occur, by a byte search (no JSON parsing).

    A key inside metadata may match too; that only adds an all-null column, never loses data.
    """
    optional: set[str] = set()
    tools = False
    for path in paths:
        if path.stat().st_size == 0:
            continue
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            for key in OPTIONAL_MESSAGE_FIELDS:
                if key not in optional and data.find(b'"' + key.encode() + b'":') != -1:
                    optional.add(key)
            tools = tools or data.find(b'"tools":') != -1
    return optional, tools


def _with_content_fingerprint(dataset: Any, arrow_path: Path) -> Any:
    """``dataset`` with a fingerprint derived from its Arrow data, which ``save_to_disk`` writes to state.json.
    ``datasets`` would hash the scratch file's path (it holds the pid), so two identical runs differed byte-wise;
    the fingerprint only keys ``datasets``' cache, so the data's own digest is a faithful one."""
    import datasets

    digest = hashlib.sha256()
    with open(arrow_path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    # 16 hex digits, the length of the fingerprints `datasets` makes itself
    return datasets.Dataset(dataset.data, info=dataset.info, split=dataset.split, fingerprint=digest.hexdigest()[:16])


def size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M" if n < 10_000_000 else "n>10M"


class HFChecker(JsonlChecker):
    def finish(self) -> list[ExportIssue]:
        issues = super().finish()
        if self.options.push_to_hub and not os.environ.get("HF_TOKEN"):
            issues.insert(
                0,
                ExportIssue(
                    self.exporter.name,
                    "error",
                    "hub_token_missing",
                    f"--push-to-hub {self.options.push_to_hub} needs a Hugging Face token",
                    "export HF_TOKEN=hf_... (a token with write access), or leave out --push-to-hub",
                ),
            )
        return issues


class HFExporter(JsonlExporter):
    name: ClassVar[str] = "hf"
    title: ClassVar[str] = "Hugging Face datasets"
    description: ClassVar[str] = "Hugging Face DatasetDict (save_to_disk + parquet + dataset card), TRL-ready"
    kinds: ClassVar[frozenset[str]] = frozenset({"sft", "dpo", "kto"})

    def target(self, options: ExportOptions) -> Target:
        return Target(model=options.model or "any")

    def checker(self, options: ExportOptions) -> HFChecker:
        return HFChecker(self, options)

    def convert(self, record: dict[str, Any], kind: str, options: ExportOptions, flags: set[str]) -> bytes | None:
        keys = ("prompt", "chosen", "rejected") if kind == "dpo" else ("messages",)
        if kind == "kto":
            messages = record.get("messages")
            last = messages[-1] if isinstance(messages, list) and messages else None
            if not isinstance(last, dict) or last.get("role") != "assistant" or len(messages) < 2:
                flags.add("kto_missing_completion")
                return None
        for key in keys:
            messages = record.get(key)
            if not isinstance(messages, list) or not messages:
                flags.add("dpo_missing_output" if kind == "dpo" else "missing_messages")
                return None
            for message in messages:
                if not isinstance(message, dict):
                    flags.add("missing_content")
                    return None
                if has_image(message):
                    flags.add("image_unsupported")  # one string column cannot hold image parts
                    return None
                weight = message.get("weight")
                if weight is not None and (weight not in (0, 1) or isinstance(weight, bool)):
                    flags.add("invalid_weight")
                    return None
        return b""  # rows are built by export(); the check only needs the verdict

    def export(self, run_dir: Path, out_dir: Path, options: ExportOptions) -> list[Path]:
        try:
            import datasets
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover - datasets is a core dependency
            raise MissingExtraError(exc.name or "datasets", "hf") from None
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = split_paths(run_dir)
        kind = self._method(run_dir, options)
        optional, with_tools = _scan(list(paths.values()))
        schema = _schema(kind, optional, with_tools)
        scratch = out_dir / ".arrow-scratch"
        scratch.mkdir(exist_ok=True)
        data_dir = out_dir / "data"
        data_dir.mkdir(exist_ok=True)
        counts: dict[str, int] = {}
        parquet_files: dict[str, Path] = {}
        arrow_files: dict[str, Path] = {}
        skipped: list[bytes] = []  # what the checks refused and --skip-invalid leaves out, as the JSONL exports say
        for split, path in paths.items():
            parquet_path = data_dir / f"{split}-00000-of-00001.parquet"
            tmp_parquet = parquet_path.with_name(f".{parquet_path.name}.tmp-{os.getpid()}")
            arrow_path = scratch / f"{split}.arrow"
            n = 0
            with (
                pq.ParquetWriter(tmp_parquet, schema, compression="zstd") as pw,
                pa.OSFile(str(arrow_path), "wb") as sink,
                pa.ipc.new_stream(sink, schema) as aw,
            ):
                rows: list[dict[str, Any]] = []
                for record in iter_records(path):
                    if export_kind(record, kind) != kind:
                        continue
                    flags: set[str] = set()
                    if self.convert(record, kind, options, flags) is None:
                        # e.g. image parts, which one string column cannot hold: left out, not written stripped
                        skipped.append(orjson.dumps({"id": record.get("id", "?"), "split": split,
                                                     "rules": sorted(flags)}) + b"\n")
                        continue
                    rows.append(hf_row(record, kind, optional, with_tools))
                    if len(rows) >= BATCH:
                        batch = pa.RecordBatch.from_pylist(rows, schema=schema)
                        pw.write_batch(batch)
                        aw.write_batch(batch)
                        n += len(rows)
                        rows = []
                if rows:
                    batch = pa.RecordBatch.from_pylist(rows, schema=schema)
                    pw.write_batch(batch)
                    aw.write_batch(batch)
                    n += len(rows)
            if n == 0:
                tmp_parquet.unlink()
                continue
            with open(tmp_parquet, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp_parquet, parquet_path)
            counts[split] = n
            parquet_files[split] = parquet_path
            arrow_files[split] = arrow_path
        dataset = datasets.DatasetDict({s: _with_content_fingerprint(datasets.Dataset.from_file(str(p)), p)
                                        for s, p in arrow_files.items()})
        bars_were_off = datasets.utils.are_progress_bars_disabled()
        datasets.utils.disable_progress_bars()  # a library call must not draw progress bars on the user's terminal
        try:
            dataset.save_to_disk(str(out_dir))
        finally:
            if not bars_were_off:
                datasets.utils.enable_progress_bars()
        del dataset
        shutil.rmtree(scratch, ignore_errors=True)
        card = out_dir / "README.md"
        text = dataset_card(run_dir, kind, counts, parquet_files, with_tools, optional)
        with atomic_writer(card) as fh:
            fh.write(text.encode("utf-8"))
        written = [card, out_dir / "dataset_dict.json", *parquet_files.values()]
        written += [out_dir / s for s in counts]
        if skipped:
            with atomic_writer(out_dir / "skipped.jsonl") as fh:
                fh.write(b"".join(skipped))
            written.append(out_dir / "skipped.jsonl")
        return written

    def after_export(self, final_dir: Path, options: ExportOptions) -> None:
        if options.push_to_hub:
            push_to_hub(final_dir, options.push_to_hub, private=options.hub_private)


def push_to_hub(folder: Path, repo_id: str, *, private: bool = True) -> str:
    """Upload the card and parquet files (not the save_to_disk copy) to a Hub dataset repo."""
    token = os.environ.get("HF_TOKEN")
    if not token:
        raise CurationError("pushing to the Hub needs HF_TOKEN", hint="export HF_TOKEN=hf_... with write access")
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise MissingExtraError("huggingface_hub", "hf") from None
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(
        repo_id=repo_id,
        repo_type="dataset",
        folder_path=str(folder),
        allow_patterns=["README.md", "data/*.parquet"],
        commit_message="Upload curated dataset (curation)",
    )
    return f"https://huggingface.co/datasets/{repo_id}"


def dataset_card(
    run_dir: Path,
    kind: str,
    counts: dict[str, int],
    parquet_files: dict[str, Path],
    with_tools: bool,
    optional: set[str],
) -> str:
    """README.md with YAML front matter the Hub reads (configs, dataset_info, language, license, ...)."""
    report = read_json(Path(run_dir) / "report.json")
    languages = report.get("languages") or {}
    langs = [code for code, _ in sorted(languages.items(), key=lambda kv: -kv[1]) if code and code != "unknown"]
    total = sum(counts.values())
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split, path in parquet_files.items():
        lines += [f"  - split: {split}", f"    path: data/{path.name}"]
    lines += ["dataset_info:", "  config_name: default", "  splits:"]
    for split, n in counts.items():
        lines += [
            f"  - name: {split}",
            f"    num_examples: {n}",
            f"    num_bytes: {parquet_files[split].stat().st_size}",
        ]
    if langs:
        lines.append("language:")
        lines += [f"- {code}" for code in langs[:20]]
    lines += [
        "license: other",
        "task_categories:",
        "- text-generation",
        "size_categories:",
        f"- {size_category(total)}",
        "tags:",
        "- curation",
        f"- {kind}",
        "- conversational",
        "---",
        "",
    ]
    name = Path(run_dir).resolve().name
    body = [f"# {name}", ""]
    what = {"dpo": "preference (DPO)", "kto": "KTO (unpaired preference: prompt, completion, label)"}
    body.append(
        f"A {what.get(kind, 'supervised fine-tuning (chat)')} dataset of "
        f"{total:,} records curated with `curate` (deduplicated, validated and split)."
    )
    body.append("")
    body.append("**License:** set by the owner of the source data (placeholder `other`); check every input's licence.")
    body += ["", "## Splits", "", "| split | records |", "| --- | ---: |"]
    body += [f"| {s} | {n:,} |" for s, n in counts.items()]
    if report:
        body += ["", "## Curation summary", ""]
        rin, rout = report.get("records_in"), report.get("records_out")
        if isinstance(rin, int) and isinstance(rout, int):
            body.append(f"- records read: {rin:,}; kept: {rout:,}; rejected: {report.get('rejected', rin - rout):,}")
        if report.get("model"):
            body.append(f"- target model for token checks: `{report['model']}`")
        tokens = report.get("tokens")
        total_tokens = tokens.get("total") if isinstance(tokens, dict) else tokens
        if isinstance(total_tokens, int | float):
            body.append(f"- tokens in kept records: {int(total_tokens):,}")
        reasons = report.get("reasons") or {}
        if reasons:
            top = sorted(reasons.items(), key=lambda kv: -kv[1])[:8]
            body.append("- rejected by reason: " + ", ".join(f"`{code}` {n:,}" for code, n in top))
        if languages:
            top = sorted(languages.items(), key=lambda kv: -kv[1])[:8]
            body.append("- languages: " + ", ".join(f"{code} {n:,}" for code, n in top))
        funnel = report.get("funnel") or []
        if funnel:
            body += ["", "| stage | in | out | dropped |", "| --- | ---: | ---: | ---: |"]
            for step in funnel:
                cells = (step.get("in", 0), step.get("out", 0), step.get("dropped", 0))
                body.append(f"| {step.get('stage')} | " + " | ".join(f"{c:,}" for c in cells) + " |")
    columns = {"dpo": "`prompt`, `chosen`, `rejected`", "kto": "`prompt`, `completion`, `label`"}.get(
        kind, "`messages`")
    body += [
        "",
        "## Format",
        "",
        f"Columns: `id`, {columns}{', `tools`' if with_tools else ''}, `metadata`. Each message has `role` and "
        f"`content`{''.join(f', `{k}`' for k in sorted(optional))} (null where a message has none).",
    ]
    if with_tools:
        body.append(
            "`tools` holds each record's tool schemas as a JSON string (Arrow columns need one type, tool schemas "
            "differ): pass `json.loads(row['tools'])` as `tools=` to `apply_chat_template`."
        )
    body.append("`metadata` is a JSON string: source file and line, language, token count, flags.")
    body += [
        "",
        "## Load",
        "",
        "```python",
        "from datasets import load_dataset, load_from_disk",
        "",
        "ds = load_from_disk('exports/hf')  # or:",
        "ds = load_dataset('parquet', data_files={"
        + ", ".join(f"'{s}': 'exports/hf/data/{p.name}'" for s, p in parquet_files.items())
        + "})",
        "```",
        "",
    ]
    return "\n".join(lines + body)
