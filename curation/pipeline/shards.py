"""Phase 1 over shards: each task reads its own input shard and writes its own outputs.

A shard is a byte range of a plain JSONL file (cut at a newline every ``runner.shard_bytes``), or a whole
file (compressed files, JSON arrays, parquet, CSV, datasets folders, OASST rows that assemble into trees,
small files). The main process only cuts the ranges: it reads each plain JSONL file once, counting lines
and records as it goes, so every shard knows the line number and record index it starts at and rejects'
``source.line`` and ``source.index`` stay those of the whole file.

A worker writes, under ``.work/shards/<n>/``: ``kept.jsonl`` (the kept records, serialised), ``rejects.jsonl``
(its reject lines), ``sig.u32`` (MinHash rows of the kept records), ``summary.pkl`` (counts, seconds, ids,
compact keys) and, last, ``done`` (so a shard is complete exactly when ``done`` exists; see :func:`is_done`).
It returns the summary. The main process then gives ids their run-wide unique form in shard order and
concatenates the shards' outputs in shard order (copying bytes, rewriting only a line whose id changed), so
the outputs are the same whatever the number of workers and the shard size.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from .. import readers as readers_mod
from ..readers.containers import MAX_RECORD_BYTES, BrokenPayload, _too_large
from ..readers.files import UTF8_BOM, compression_of, utf16_of
from ..readers.formats import ASSEMBLERS
from ..records import user_snippet

DEFAULT_SHARD_BYTES = 32_000_000
_RAW_KEEP = 2000
DONE = "done"


@dataclass(frozen=True)
class Shard:
    """One task of phase 1: a whole input file, or the byte range [start, end) of a plain JSONL file."""

    number: int
    file_no: int
    path: str
    fmt: str | None
    mapping: Any
    container: Any  # the container name, or the FileProblem that makes the whole file unreadable
    start: int | None = None
    end: int | None = None
    first_line: int = 1  # 1-based line number of the range's first line
    first_index: int = 0  # records (non-blank lines) before the range


def _can_cut(path: Path, fmt: str | None, container: Any, shard_bytes: int) -> bool:
    if container != "jsonl" or fmt in ASSEMBLERS or not path.is_file():
        return False
    try:
        if path.stat().st_size <= shard_bytes:
            return False
        with open(path, "rb") as fh:  # the raw bytes: read_head would decompress (and decode UTF-16)
            head = fh.read(1024)
        return compression_of(head[:8]) is None and utf16_of(head) is None
    except OSError:
        return False


def plan_shards(files: list[tuple[Path, str | None, Any, Any]], shard_bytes: int) -> list[Shard]:
    """The shards of the inputs, in reading order (numbered from 0)."""
    shards: list[Shard] = []
    for file_no, (path, fmt, mapping, container) in enumerate(files):
        if _can_cut(path, fmt, container, shard_bytes):
            for start, end, line, index in _cut_jsonl(path, shard_bytes):
                shards.append(Shard(len(shards), file_no, str(path), fmt, mapping, container, start, end, line, index))
        else:
            shards.append(Shard(len(shards), file_no, str(path), fmt, mapping, container))
    return shards


def _lines(fh: Any) -> Iterator[tuple[int, bool]]:
    """(bytes, is a record) per line, as ``readers.containers._iter_jsonl`` counts them: a line over the
    record limit is one record whatever its length; blank lines are not records."""
    limit = MAX_RECORD_BYTES
    first = True
    for line in iter(lambda: fh.readline(limit), b""):
        size = len(line)
        if size >= limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = fh.readline(limit)
                size += len(line)
            first = False
            yield size, True
            continue
        if first and line.startswith(UTF8_BOM):
            line = line[len(UTF8_BOM):]
        first = False
        yield size, bool(line) and not line.isspace()


def _cut_jsonl(path: Path, shard_bytes: int) -> Iterator[tuple[int, int, int, int]]:
    """(start, end, first line, first record index) of each range: ~``shard_bytes`` each, cut after a newline."""
    start = pos = 0
    line = index = 0  # lines and records before ``pos``
    first_line, first_index = 1, 0
    with open(path, "rb") as fh:
        for size, is_record in _lines(fh):
            pos += size
            line += 1
            index += is_record
            if pos - start >= shard_bytes:
                yield start, pos, first_line, first_index
                start, first_line, first_index = pos, line + 1, index
    if pos > start or start == 0:
        yield start, pos, first_line, first_index


def iter_shard(shard: Shard) -> Iterator[tuple[int | None, int, Any]]:
    """The shard's payloads ``(line, index, payload)``; a file that breaks part-way ends in one FileProblem."""
    if isinstance(shard.container, readers_mod.FileProblem):
        yield None, 0, shard.container
        return
    if shard.start is None:
        yield from readers_mod.iter_payloads_or_problem(shard.path, shard.container, shard.fmt, shard.mapping)
        return
    index = shard.first_index
    try:
        yield from _iter_range(shard)
    except Exception as exc:  # noqa: BLE001 - a bad file never stops the run
        yield None, index, readers_mod.FileProblem.from_error(shard.path, exc)


def _iter_range(shard: Shard) -> Iterator[tuple[int | None, int, Any]]:
    """Like ``readers.containers._iter_jsonl`` over [start, end), numbered as in the whole file."""
    assert shard.start is not None and shard.end is not None
    limit = MAX_RECORD_BYTES
    index, number, pos = shard.first_index, shard.first_line - 1, shard.start
    with open(shard.path, "rb") as fh:
        fh.seek(shard.start)
        while pos < shard.end:
            line = fh.readline(limit)
            if not line:
                break
            pos += len(line)
            number += 1
            if len(line) >= limit and not line.endswith(b"\n"):
                head, size = line[:_RAW_KEEP], len(line)
                while line and not line.endswith(b"\n"):
                    line = fh.readline(limit)
                    size += len(line)
                    pos += len(line)
                yield number, index, BrokenPayload("record_too_large", _too_large(f"line {number}", size), head)
                index += 1
                continue
            if number == 1 and line.startswith(UTF8_BOM):
                line = line[len(UTF8_BOM):]
            if line.isspace() or not line:
                continue
            yield number, index, line
            index += 1


def iter_batches(shard: Shard, batch_size: int, bad_files: list[dict[str, str]]) -> Iterator[tuple[Any, ...]]:
    """The shard's payloads in batches for ``runner.process_batch``; file problems are listed in ``bad_files``."""
    items: list[tuple[int | None, int, Any]] = []
    for line, index, payload in iter_shard(shard):
        if isinstance(payload, readers_mod.FileProblem):
            bad_files.append(payload.to_dict())
        items.append((line, index, payload))
        if len(items) >= batch_size:
            yield shard.file_no, shard.path, shard.fmt, shard.mapping, items
            items = []
    if items:
        yield shard.file_no, shard.path, shard.fmt, shard.mapping, items


# --------------------------------------------------------------------------------------------- a shard's output


def fallback_id(source: dict[str, Any]) -> str:
    """An id for a record that has none of its own (an unparseable line): file name and line."""
    return f"{os.path.basename(source['path'])}:{source['line'] or source['index']}"


def with_id(record_bytes: bytes, rid: str) -> bytes:
    record = orjson.loads(record_bytes)
    record["id"] = rid
    return orjson.dumps(record)


def reject_line(rid: str, stage: str, reason: str, detail: str, source: dict[str, Any] | None,
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


def renamed_reject(line: bytes, uid: str) -> bytes:
    """A reject line with the run-wide unique id (in the entry and in its record)."""
    entry = orjson.loads(line)
    entry["id"] = uid
    if isinstance(entry.get("record"), dict):
        entry["record"]["id"] = uid
    return orjson.dumps(entry) + b"\n"


@dataclass
class ShardSummary:
    """What a worker returns for one shard (and keeps in ``summary.pkl``): small, a few bytes per record."""

    number: int
    file_no: int
    records_in: int = 0
    bases: list[str] = field(default_factory=list)  # every record's id before run-wide de-duplication
    kept: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # per record: kept?
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="S16"))
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    quality: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    tokens: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    lang: tuple[np.ndarray, list[str]] = (np.zeros(0, dtype=np.uint16), [])  # codes and names
    strata: tuple[np.ndarray, list[str]] = (np.zeros(0, dtype=np.uint16), [])
    groups: list[tuple[int, ...]] = field(default_factory=list)
    dropped: dict[str, Counter[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    examples: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)  # reason -> (pos, ex)
    bad_files: list[dict[str, str]] = field(default_factory=list)
    stage_keys: dict[str, Any] = field(default_factory=dict)
    signatures: int = 0  # rows in sig.u32


def _codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    names: dict[str, int] = {}
    codes = np.fromiter((names.setdefault(v, len(names)) for v in values), dtype=np.uint16, count=len(values))
    return codes, list(names)


class ShardWriter:
    """Turns ``process_batch`` results into a shard's files and summary (runs in the worker)."""

    def __init__(self, shard: Shard, out_dir: Path) -> None:
        self.shard, self.dir = shard, out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / DONE).unlink(missing_ok=True)
        self._kept = (out_dir / "kept.jsonl").open("wb")
        self._rejects = (out_dir / "rejects.jsonl").open("wb")
        self._sig = (out_dir / "sig.u32").open("wb")
        self.summary = ShardSummary(shard.number, shard.file_no)
        self._kept_flags: list[bool] = []
        self._cols: dict[str, list[Any]] = defaultdict(list)
        self._stage_keys: dict[str, list[Any]] = defaultdict(list)
        self._dropped: dict[str, Counter[str]] = defaultdict(Counter)
        self._seconds: Counter[str] = Counter()
        self._cpu: Counter[str] = Counter()
        self._examples: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)

    def add(self, result: dict[str, Any]) -> None:
        s = self.summary
        self._seconds.update(result["seconds"])
        self._cpu.update(result.get("cpu_seconds", {}))
        for outcome in result["outcomes"]:
            pos = len(s.bases)
            if outcome[0] == "R":
                self._reject(outcome, pos)
            else:
                self._keep(outcome)
        signatures = result["signatures"]
        if len(signatures):
            self._sig.write(np.ascontiguousarray(signatures, dtype=np.uint32).tobytes())
            s.signatures += len(signatures)
        for name, keys in result.get("stage_keys", {}).items():
            self._stage_keys[name].append(keys)

    def _reject(self, outcome: tuple[Any, ...], pos: int) -> None:
        _, stage, reason, detail, rid, source, rec_bytes, raw, dup_of, sim = outcome
        base = rid or fallback_id(source)
        if rec_bytes is not None and base != rid:
            rec_bytes = with_id(rec_bytes, base)
        self.summary.bases.append(base)
        self._kept_flags.append(False)
        self._dropped[stage][reason] += 1
        self._rejects.write(reject_line(base, stage, reason, detail, source, rec_bytes, raw, dup_of, sim))
        if len(self._examples[reason]) < 3:
            self._examples[reason].append((pos, {
                "id": base, "stage": stage, "detail": detail[:300], "source": source,
                "snippet": (raw or "")[:160] if rec_bytes is None else user_snippet(orjson.loads(rec_bytes))}))

    def _keep(self, outcome: tuple[Any, ...]) -> None:
        _, rid, rec_bytes, key, length, quality, lang, tokens, stratum, source, groups = outcome
        base = rid or fallback_id(source)
        if base != rid:
            rec_bytes = with_id(rec_bytes, base)
        self.summary.bases.append(base)
        self._kept_flags.append(True)
        self._kept.write(rec_bytes + b"\n")
        cols = self._cols
        cols["keys"].append(key)
        cols["lengths"].append(length)
        cols["quality"].append(quality)
        cols["lang"].append(lang)
        cols["tokens"].append(tokens)
        cols["strata"].append(stratum)
        self.summary.groups.append(groups)

    def finish(self, bad_files: list[dict[str, str]]) -> ShardSummary:
        """Close the files, write ``summary.pkl`` and then the ``done`` marker; return the summary."""
        for fh in (self._kept, self._rejects, self._sig):
            fh.close()
        s, cols = self.summary, self._cols
        s.records_in = len(s.bases)
        s.kept = np.asarray(self._kept_flags, dtype=bool)
        s.keys = np.asarray(cols["keys"], dtype="S16")
        s.lengths = np.asarray(cols["lengths"], dtype=np.int32)
        s.quality = np.asarray(cols["quality"], dtype=np.float32)
        s.tokens = np.asarray(cols["tokens"], dtype=np.int32)
        s.lang, s.strata = _codes(cols["lang"]), _codes(cols["strata"])
        s.dropped, s.seconds, s.cpu_seconds = dict(self._dropped), dict(self._seconds), dict(self._cpu)
        s.examples, s.bad_files = dict(self._examples), bad_files
        s.stage_keys = {name: _concat(chunks) for name, chunks in self._stage_keys.items()}
        tmp = self.dir / "summary.pkl.tmp"
        with tmp.open("wb") as fh:
            pickle.dump(s, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.dir / "summary.pkl")
        _write_marker(self.dir / DONE)  # last: the shard is complete exactly when this exists
        return s


def _concat(chunks: list[Any]) -> Any:
    arrays = [c for c in chunks if c is not None and len(c)]
    return np.concatenate(arrays) if arrays else (chunks[0] if chunks else None)


def _write_marker(path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(b"ok\n")
    os.replace(tmp, path)


def is_done(out_dir: Path) -> bool:
    return (out_dir / DONE).is_file()


def load_summary(out_dir: Path) -> ShardSummary:
    with (out_dir / "summary.pkl").open("rb") as fh:
        summary = pickle.load(fh)  # noqa: S301 - our own file, written by this run's workers
    assert isinstance(summary, ShardSummary)
    return summary


# ------------------------------------------------------------------------------------------------------ resume

PLAN = "plan.json"


def content_sha256(path: Path) -> str | None:
    """The sha256 of a file's bytes, or of a folder's files (relative names and bytes, in name order); None for
    what has no end to hash (a FIFO, /dev/zero) or cannot be read (reported as a file-level reject)."""
    if not (path.is_file() or path.is_dir()):
        return None
    try:
        h = hashlib.sha256()
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):  # is_file: FIFOs and devices left out
                h.update(str(child.relative_to(path)).encode())
                _hash_into(h, child)
        else:
            _hash_into(h, path)
        return h.hexdigest()
    except OSError:
        return None


def _hash_into(h: Any, path: Path) -> None:
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)


def _input_entry(path: Path, sha256: str | None) -> dict[str, Any]:
    try:
        st = path.stat()
    except OSError:
        return {"path": str(readers_mod.real_path(path)), "missing": True}
    # Size and mtime alone miss a file rewritten with the same size and its old mtime (cp -p, rsync -t): the
    # content hash is what keys it (the manifest reuses the same hash, so each input is hashed once per run).
    entry: dict[str, Any] = {"path": str(readers_mod.real_path(path)), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                             "sha256": sha256}
    if path.is_dir():
        # A folder's own mtime does not change when a file inside is rewritten in place (a datasets folder
        # saved again): key every file in it.
        entry["files"] = [[str(f.relative_to(path)), fs.st_size, fs.st_mtime_ns]
                          for f in sorted(path.rglob("*")) if f.is_file() for fs in (f.stat(),)]
    return entry


def plan_key(config_hash: str, files: list[tuple[Path, str | None, Any, Any]], shards: list[Shard],
             version: str, eval_paths: list[Path] | None = None,
             hashes: list[str | None] | None = None) -> dict[str, Any]:
    """What must not change for a re-run to reuse finished shards: the config, every input (resolved path,
    size, mtime_ns and content sha256), the evaluation files decontamination reads (their content is not in
    the config hash), the shard ranges and the curation version. ``hashes`` are the inputs' content hashes
    when the caller has them already (one per file); otherwise they are computed here."""
    evals = [f for p in eval_paths or [] for f in ([p] if not p.is_dir() else sorted(p.rglob("*")))]
    if hashes is None:
        hashes = [content_sha256(Path(p)) for p, *_ in files]
    return {
        "config_hash": config_hash,
        "version": version,
        "inputs": [_input_entry(Path(p), h) for (p, *_), h in zip(files, hashes, strict=True)],
        "eval_inputs": [_input_entry(p, content_sha256(p)) for p in evals],
        "shards": [[s.number, s.file_no, s.path, s.start, s.end, s.first_line, s.first_index,
                    s.container if isinstance(s.container, str) else repr(s.container)] for s in shards],
    }


def what_changed(old: Any, new: dict[str, Any]) -> str:
    """Why a previous run's shards cannot be reused, in a few words (the first difference found)."""
    if not isinstance(old, dict):
        return "the previous run's plan is unreadable"
    if old.get("version") != new["version"]:
        return f"curation's version changed ({old.get('version')} -> {new['version']})"
    if old.get("config_hash") != new["config_hash"]:
        return "the config changed"
    for kind, label in (("inputs", "input"), ("eval_inputs", "evaluation file")):
        before = {e.get("path"): e for e in old.get(kind) or [] if isinstance(e, dict)}
        after = {e["path"]: e for e in new[kind]}
        for path, entry in after.items():
            was = before.get(path)
            if was is None:
                return f"{label} {path} is new"
            if was.get("sha256") != entry.get("sha256"):
                same_stat = (was.get("size"), was.get("mtime_ns")) == (entry.get("size"), entry.get("mtime_ns"))
                return f"{label} {path} changed" + (" (same size and mtime, different content)" if same_stat else "")
            if was != entry:
                return f"{label} {path} changed"
        if gone := sorted(set(before) - set(after), key=str):
            return f"{label} {gone[0]} is no longer read"
    return "the shard plan changed"


def reuse_shards(shards_dir: Path, key: dict[str, Any], resume: bool) -> tuple[str, str]:
    """Prepare ``shards_dir`` for this run and write its ``plan.json``.

    Returns (how, why): how is "resume" when the previous run's key matches (its done shards can be reused),
    "fresh" when there was nothing to reuse, or "changed" when old shards were discarded because the config or
    inputs changed; why says what changed (empty unless "changed")."""
    how, why = "fresh", ""
    if shards_dir.is_dir():
        old: Any = None
        try:
            old = orjson.loads((shards_dir / PLAN).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            pass
        # A round trip through JSON, so tuples and lists compare equal.
        if resume and old == orjson.loads(orjson.dumps(key)):
            how = "resume"
        else:
            how = "changed" if resume and old is not None else "fresh"
            why = what_changed(old, key) if how == "changed" else ""
            shutil.rmtree(shards_dir, ignore_errors=True)
    shards_dir.mkdir(parents=True, exist_ok=True)
    if how != "resume":
        tmp = shards_dir / (PLAN + ".tmp")
        tmp.write_bytes(orjson.dumps(key, option=orjson.OPT_INDENT_2))
        os.replace(tmp, shards_dir / PLAN)
    return how, why


def copy_rejects(src: Path, out: Any, renamed: dict[int, str]) -> None:
    """Append a shard's reject lines to ``out``; the lines at positions in ``renamed`` get their new id."""
    with src.open("rb") as fh:
        if not renamed:
            while chunk := fh.read(1 << 20):
                out.write(chunk)
            return
        for i, line in enumerate(fh):
            out.write(renamed_reject(line, renamed[i]) if i in renamed else line)


__all__ = ["DEFAULT_SHARD_BYTES", "Shard", "ShardSummary", "ShardWriter", "content_sha256", "copy_rejects",
           "fallback_id",
           "is_done", "iter_batches", "iter_shard", "load_summary", "plan_key", "plan_shards", "reject_line",
           "renamed_reject", "reuse_shards", "what_changed", "with_id"]
