"""A provider whose training file is JSONL, one converted record per line: the shared machinery.

Subclasses say which record kinds they take (SFT conversations, DPO pairs), how a record converts
(``convert``, which also names the rule each record breaks), and the provider's limits (``target``).
The check pass and the write pass run the same ``convert``, so what is checked is what is written.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import orjson

from .base import (
    Exporter,
    ExportOptions,
    IssueCollector,
    RecordChecker,
    export_kind,
    iter_records,
    record_kind,
    split_paths,
    write_jsonl,
    write_manifest,
)
from .chat import ChatRules, conversation, encode_line, preference
from .issues import note

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Target:
    """The limits an export is checked against, for one provider and model."""

    model: str
    encoding: str = "o200k_base"
    max_tokens_per_example: int | None = None
    min_train_examples: int = 0
    min_severity: str = "error"  # how sure we are of the documented minimum
    max_train_examples: int | None = None
    max_validation_examples: int | None = None
    max_file_bytes: int | None = None
    supports_dpo: bool = False
    tokens_exact: bool = True  # False: counted with a tiktoken encoding as an estimate of another tokenizer
    source: str = ""  # where the limits come from, for messages
    counts_reasoning: bool = True  # False: the files leave reasoning out, so it is no part of an example's tokens


def tokens_of(record: dict[str, Any], target: Target, options: ExportOptions) -> int:
    """Chat tokens of a record for the target: the run's count when it used the same encoding, else counted."""
    meta = record.get("metadata")
    from .. import tokens

    if options.run_model and isinstance(meta, dict):
        cached = meta.get("tokens")
        # the run counted reasoning as its own model does: a record with none counts the same for every target
        if type(cached) is int and _same_encoding(options.run_model, target.encoding) and not _has_reasoning(record):
            return cached
    return tokens.chat_token_counts(record, tokens.get_encoding(target.encoding), reasoning=target.counts_reasoning)[0]


def _has_reasoning(record: dict[str, Any]) -> bool:
    return any(isinstance(m, dict) and m.get("reasoning") for key in ("messages", "prompt", "chosen", "rejected")
               for m in (record.get(key) or ()))


_encoding_cache: dict[str, str | None] = {}


def _same_encoding(run_model: str, encoding: str) -> bool:
    known = _encoding_cache.get(run_model, False)
    if known is not False:
        return known == encoding
    if run_model not in _encoding_cache:
        from .. import tokens
        from ..errors import CurationError

        try:
            _encoding_cache[run_model] = tokens.resolve_model(run_model).encoding
        except CurationError:
            _encoding_cache[run_model] = None
    return _encoding_cache[run_model] == encoding


def train_share(options: ExportOptions, name: str) -> float | None:
    """The share of training records to keep under ``max_train_examples[name]``, or None for all."""
    cap = options.max_train_examples.get(name)
    n_train = options.train_records or 0
    if cap is None or not n_train or n_train <= cap:
        return None
    return cap / n_train


def sampled(record_id: Any, share: float) -> bool:
    """A deterministic, uniform choice by id: the same records on every export of the run."""
    digest = hashlib.blake2b(str(record_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < share * 2**64


SKIPPED = "skipped"  # exports/<format>/<kind>/skipped.jsonl: {id, split, rules} per record left out


class JsonlChecker(RecordChecker):
    def __init__(self, exporter: JsonlExporter, options: ExportOptions) -> None:
        self.exporter = exporter
        self.options = options
        self.target = exporter.target(options)
        self.issues = IssueCollector(exporter.name)
        self.kinds_seen: dict[str, int] = {"sft": 0, "dpo": 0, "kto": 0}
        self.kto_labels: dict[str, int] = {"desirable": 0, "undesirable": 0}  # of the KTO records exported
        self.exported: dict[str, int] = {}
        self.bytes: dict[str, int] = {}
        self.method = options.method
        self.stage_dir: Path | None = None  # set by export_run: converted lines are staged while checking
        self.part: int | None = None  # set in parallel workers: which piece of a split this checker writes
        self._staged: dict[str, Any] = {}
        self._first_kind: str | None = None
        self._flags: set[str] = set()  # reused: a set per record costs more than the checks it collects
        self._convert = exporter.convert_record
        self._limit = self.target.max_tokens_per_example
        self._keep_share = train_share(options, exporter.name)  # None: no cap, every train record is exported
        self.capped = 0
        self.left_out: Counter[str] = Counter()  # rule -> records --skip-invalid left out under it

    def stage(self, folder: Path) -> None:
        """Write each converted line into ``folder/<split>.jsonl`` during the check pass (one pass, not two)."""
        self.stage_dir = Path(folder)
        self.stage_dir.mkdir(parents=True, exist_ok=True)

    def _stage_write(self, split: str, line: bytes) -> None:
        fh = self._staged.get(split)
        if fh is None:
            assert self.stage_dir is not None
            if self.part is None:
                fh = open(self.stage_dir / f"{split}.jsonl", "wb", buffering=1 << 20)  # noqa: SIM115
                if self.exporter.bom(self.options) and split != SKIPPED:
                    fh.write(b"\xef\xbb\xbf")
            else:  # a parallel worker's piece; the BOM goes on once when the pieces are joined
                fh = open(self.stage_dir / f".{split}.jsonl.part{self.part:06d}", "wb", buffering=1 << 20)  # noqa: SIM115
            self._staged[split] = fh
        fh.write(line)

    # Parallel checking: workers check byte ranges of the splits and send back their counts to merge.
    def state(self) -> dict[str, Any]:
        for fh in self._staged.values():
            fh.close()
        self._staged.clear()
        return {
            "kinds_seen": self.kinds_seen,
            "kto_labels": self.kto_labels,
            "exported": self.exported,
            "bytes": self.bytes,
            "first_kind": self._first_kind,
            "capped": self.capped,
            "issues": self.issues.state(),
        }

    def merge(self, state: dict[str, Any]) -> None:
        for key in ("kinds_seen", "kto_labels", "exported", "bytes"):
            mine = getattr(self, key)
            for k, v in state[key].items():
                mine[k] = mine.get(k, 0) + v
        if self._first_kind is None:
            self._first_kind = state["first_kind"]
        self.capped += state.get("capped", 0)
        self.issues.merge(state["issues"])

    def join_parts(self, splits: list[str]) -> None:
        """Concatenate the workers' pieces per split, in order, into the staged ``<split>.jsonl``."""
        assert self.stage_dir is not None
        for split in [*splits, SKIPPED]:
            parts = sorted(self.stage_dir.glob(f".{split}.jsonl.part*"))
            if not parts:
                continue
            fh = open(self.stage_dir / f"{split}.jsonl", "wb")  # noqa: SIM115 - closed by close_staged
            if self.exporter.bom(self.options) and split != SKIPPED:
                fh.write(b"\xef\xbb\xbf")
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, fh, 1 << 22)
                part.unlink()
            self._staged[split] = fh

    def close_staged(self) -> list[Path]:
        """Flush and fsync the staged files, write export.json; returns the written paths (export_run renames
        the folder into place only after every format's checks passed)."""
        written = []
        for fh in self._staged.values():
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            written.append(Path(fh.name))
        self._staged.clear()
        if self.stage_dir is not None:
            manifest = {
                "format": self.exporter.name,
                "method": self.method if self.method != "auto" else (self._first_kind or "sft"),
                "model": self.target.model,
                "records": {p.stem: self.exported.get(p.stem, 0) for p in written if p.stem != SKIPPED},
                "files": {p.stem: p.name for p in written if p.stem != SKIPPED},
                "bom": self.exporter.bom(self.options),
            }
            written.append(write_manifest(self.stage_dir, manifest))
        return written

    def abort_staged(self) -> None:
        for fh in self._staged.values():
            fh.close()
        self._staged.clear()

    def add(self, split: str, record: dict[str, Any], raw: bytes | None = None) -> None:
        kind = export_kind(record, self.method)
        if kind is None:
            note(self.issues, "undesirable_skipped", record.get("id", "?"))
            return
        self.kinds_seen[kind] += 1
        if self._first_kind is None:
            self._first_kind = kind
        if self.method != "auto" and kind != self.method:
            note(self.issues, "method_skipped", record.get("id", "?"))
            return
        if kind == "kto":
            meta = record.get("metadata")
            undesirable = isinstance(meta, dict) and meta.get("label") is False
            self.kto_labels["undesirable" if undesirable else "desirable"] += 1
        if split == "train" and self._keep_share is not None and not sampled(record.get("id"), self._keep_share):
            self.capped += 1
            if self.stage_dir is not None:
                self._stage_write(SKIPPED, orjson.dumps({"id": record.get("id", "?"), "split": split,
                                                         "rules": ["max_train_examples"]}) + b"\n")
            return
        flags = self._flags
        out = self._convert(record, kind, self.options, flags)
        if flags:
            rid = record.get("id", "?")
            for code in flags:
                note(self.issues, code, rid, skipped=self.options.skip_invalid)
            if out is None and self.options.skip_invalid:
                self.left_out.update(flags)
            if out is None and self.stage_dir is not None and self.options.skip_invalid:
                # What --skip-invalid left out, and under which rule, is written beside the export.
                self._stage_write(SKIPPED, orjson.dumps({"id": rid, "split": split, "rules": sorted(flags)}) + b"\n")
            flags.clear()
        if out is None:
            return
        limit = self._limit
        if limit is not None and tokens_of(record, self.target, self.options) > limit:
            note(self.issues, "over_token_limit", record.get("id", "?"))
        exported = self.exported
        exported[split] = exported.get(split, 0) + 1
        self.bytes[split] = self.bytes.get(split, 0) + len(out)
        if self.stage_dir is not None:
            fh = self._staged.get(split)
            if fh is None:
                self._stage_write(split, out)
            else:
                fh.write(out)

    def finish(self) -> list[Any]:
        target, issues = self.target, self.issues
        sft, dpo = self.kinds_seen["sft"], self.kinds_seen["dpo"]
        if self.method == "auto" and sft and dpo:
            issues.global_issue(
                "error",
                "method_mismatch",
                f"the run mixes {sft} SFT conversations and {dpo} preference pairs; one training file holds one kind",
                "export one kind at a time: --method sft or --method dpo",
                count=min(sft, dpo),
            )
        elif self.method != "auto" and not self.kinds_seen[self.method] and (sft or dpo):
            other = "preference pairs" if self.method == "sft" else "SFT conversations"
            issues.global_issue(
                "error",
                "method_mismatch",
                f"--method {self.method} but the run holds only {other}",
                f"use --method {'dpo' if self.method == 'sft' else 'sft'} (or auto)",
                count=sft + dpo,
            )
        n_train = self.exported.get("train", 0)
        if self.kinds_seen["kto"] and not all(self.kto_labels.values()):
            missing = "undesirable" if not self.kto_labels["undesirable"] else "desirable"
            hint = ("keep them with labels.keep_undesirable: true (the run rejects undesirable answers from SFT "
                    "splits by default)" if missing == "undesirable" else "add desirable examples")
            issues.global_issue(
                "warning", "kto_one_label",
                f"the KTO export holds no {missing} example ({self.kto_labels['desirable']} desirable, "
                f"{self.kto_labels['undesirable']} undesirable): KTO learns from both", hint)
        if self.capped:
            issues.global_issue(
                "warning", "train_sampled",
                f"{self.capped} training record(s) left out to keep at most "
                f"{self.options.max_train_examples[self.exporter.name]} (export.max_train_examples); "
                f"{n_train} exported, listed in skipped.jsonl",
                "raise or remove the cap", count=self.capped)
        if target.min_train_examples and n_train < target.min_train_examples:
            issues.global_issue(
                target.min_severity,  # type: ignore[arg-type]
                "too_few_examples",
                f"the training split has {n_train} example(s), but {self.exporter.title} "
                + ("requires at least" if target.min_severity == "error" else "documents a minimum of")
                + f" {target.min_train_examples}{target.source and f' ({target.source})'}"
                + ("" if target.min_severity == "error" else
                   "; the files are written, but the job may be refused"),
                "add data or loosen the run's filters; hundreds to thousands of examples are advised",
                count=n_train,
            )
        if target.max_train_examples and n_train > target.max_train_examples:
            issues.global_issue(
                "warning",
                "too_many_examples",
                f"the training split has {n_train} examples; {self.exporter.title} documents at most "
                f"{target.max_train_examples}",
                "sample the training split down (split.max_per_stratum) or split the job",
                count=n_train,
            )
        n_val = self.exported.get("validation", 0)
        if target.max_validation_examples and n_val > target.max_validation_examples:
            issues.global_issue(
                "warning",
                "validation_too_large",
                f"the validation split has {n_val} examples; {self.exporter.title} documents at most "
                f"{target.max_validation_examples}",
                "use split.validation_count to cap it",
                count=n_val,
            )
        if target.max_file_bytes:
            for split, size in self.bytes.items():
                if size > target.max_file_bytes:
                    issues.global_issue(
                        "error",
                        f"file_too_large:{split}",
                        f"{split}.jsonl would be {size / MB:,.0f} MB; {self.exporter.title} accepts at most "
                        f"{target.max_file_bytes / MB:,.0f} MB per file",
                        "shrink the split (split ratios or max_per_stratum) or upload in parts",
                        count=self.exported.get(split, 0),
                    )
        if not any(self.exported.values()) and not (self.method == "auto" and sft and dpo):
            why = ""
            if self.left_out:  # say what --skip-invalid took out: its skipped.jsonl goes with the refused export
                rules = ", ".join(f"{code} {n}" for code, n in sorted(self.left_out.items()))
                why = f": --skip-invalid left every record out ({rules})"
            issues.global_issue(
                "error", "nothing_to_export", f"no record can be exported{why}",
                "check the run's splits" if not why else "fix the records under those rules, or export to a "
                "target that takes them", count=0,
            )
        return issues.issues()


class JsonlExporter(Exporter):
    """Writes ``<split>.jsonl`` per split, one converted record a line, plus ``export.json``."""

    title: ClassVar[str] = "the provider"
    kinds: ClassVar[frozenset[str]] = frozenset({"sft"})
    check_reserved: ClassVar[bool] = False
    # OpenAI-shaped chat providers only declare their rules; others (Bedrock, Vertex) override convert.
    rules: ClassVar[ChatRules | None] = None

    def target(self, options: ExportOptions) -> Target:
        raise NotImplementedError

    def convert(self, record: dict[str, Any], kind: str, options: ExportOptions, flags: set[str]) -> bytes | None:
        """The provider's JSONL line for ``record`` (None: not exportable; ``flags`` says why). Only called
        with a kind listed in ``kinds``. The default writes OpenAI-shaped chat lines under ``rules``."""
        if self.rules is None:
            raise NotImplementedError(f"{type(self).__name__} must set `rules` or override convert()")
        if kind == "dpo":
            out = preference(record, self.rules, flags)
        else:
            out = conversation(record, self.rules, flags)
        return encode_line(out, flags, self.check_reserved)

    def convert_record(
        self, record: dict[str, Any], kind: str, options: ExportOptions, flags: set[str]
    ) -> bytes | None:
        """``convert``, after refusing the kinds this provider does not take (declared once, in ``kinds``)."""
        if kind not in self.kinds:
            flags.add("dpo_unsupported" if kind == "dpo" else "method_mismatch")
            return None
        return self.convert(record, kind, options, flags)

    def bom(self, options: ExportOptions) -> bool:
        return False

    def checker(self, options: ExportOptions) -> RecordChecker:
        return JsonlChecker(self, options)

    def export(self, run_dir: Path, out_dir: Path, options: ExportOptions) -> list[Path]:
        target = self.target(options)
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        counts: dict[str, int] = {}
        method = self._method(run_dir, options)
        convert = self.convert_record
        for split, path in split_paths(run_dir).items():

            def lines(path: Path = path) -> Any:
                scratch: set[str] = set()
                for record in iter_records(path):
                    if export_kind(record, method) != method:
                        continue
                    line = convert(record, method, options, scratch)
                    if line is not None:
                        yield line

            dest = out_dir / f"{split}.jsonl"
            n = write_jsonl(dest, lines(), bom=self.bom(options))
            if n == 0:
                dest.unlink()
                continue
            counts[split] = n
            written.append(dest)
        manifest = {
            "format": self.name,
            "method": method,
            "model": target.model,
            "records": counts,
            "files": {p.stem: p.name for p in written},
            "bom": self.bom(options),
        }
        written.append(write_manifest(out_dir, manifest))
        return written

    def _method(self, run_dir: Path, options: ExportOptions) -> str:
        if options.method != "auto":
            return options.method
        # auto: the kind of the first record (the check pass refuses runs that mix kinds)
        for path in split_paths(run_dir).values():
            for record in iter_records(path):
                return record_kind(record)
        return "sft"
