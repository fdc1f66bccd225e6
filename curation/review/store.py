"""The review-decision store: one SQLite file per run (``RUN_DIR/review.sqlite``).

Two kinds of rows live here. ``records`` is a read-only index of what the pipeline produced (id, split or
rejected, reject reason, language, flags, cluster, the record itself), imported from ``splits/*.jsonl`` and
``rejects.jsonl`` the first time the store opens, so the review queue can filter 100k+ records by index
instead of re-reading JSONL. ``decisions`` is append-only: every click of every reviewer is one row, so
concurrent reviewers never overwrite each other. ``latest`` is derived from ``decisions`` (the merged state
per record: verdict, edited messages, labels, note) and kept up to date in the same transaction as each
insert; :meth:`ReviewStore.rebuild_latest` recomputes it from scratch.

Concurrency: WAL mode, ``busy_timeout``, and every write is one short ``BEGIN IMMEDIATE`` transaction, so
several processes (two UI instances, the CLI) can write at once; inside one process a lock serialises
threads that share the connection.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..errors import CurationError
from ..exporters.base import SPLIT_ORDER
from ..records import message_text, record_messages

DB_NAME = "review.sqlite"
SCHEMA_VERSION = 2  # 2: record_extra (message text, scores), leases, undo/batch columns
ACTIONS: frozenset[str] = frozenset({"accept", "reject", "edit", "label", "note", "reset", "undo"})
VERDICTS = ("accept", "reject")
ANY_VALUE = "*"  # QueueFilter.flag / .reason: any flag, any reject reason
RESOLVE_PREFIX = "resolve-"  # batch of an admin's conflict resolution (not counted as a reviewer's verdict)
SORTS = ("quality", "language_score", "similarity", "tokens")
LEASE_SECONDS = 120.0
# Columns of the decision log and of the merged ``latest`` state, in the order queries return them.
_LOG_COLS = ("n", "uid", "record_id", "action", "reviewer", "reason", "duplicate_of", "messages", "labels", "note",
             "ts", "batch", "undoes")  # fmt: skip
_LATEST_COLS = "record_id, verdict, reason, duplicate_of, messages, labels, note, reviewer, ts, count"

# Queue indexes: dropped during a bulk import and built once afterwards (several times faster than
# maintaining them row by row).
_RECORD_INDEXES = {
    "records_split": "records(split, seq)",
    "records_reason": "records(reason, seq)",
    "records_language": "records(language, seq)",
    "records_cluster": "records(cluster, seq)",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    split TEXT NOT NULL,            -- train / validation / test / rejected
    orig_split TEXT NOT NULL,       -- the split a rejected record returns to when a human accepts it
    stage TEXT, reason TEXT, detail TEXT, duplicate_of TEXT,
    language TEXT, cluster TEXT, flags TEXT, labels TEXT,
    kind TEXT NOT NULL,             -- conversation / preference / raw
    body BLOB NOT NULL              -- the JSONL line as the pipeline wrote it (record, or reject row)
);
CREATE TABLE IF NOT EXISTS record_flags (flag TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (flag, seq))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS decisions (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    record_id TEXT NOT NULL,
    action TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    reason TEXT, duplicate_of TEXT, messages TEXT, labels TEXT, note TEXT,
    ts REAL NOT NULL,
    batch TEXT,                     -- one bulk action (or conflict resolution): every row it wrote
    undoes TEXT                     -- action "undo": the uid of the decision row it withdraws
);
CREATE INDEX IF NOT EXISTS decisions_record ON decisions(record_id, n);
CREATE TABLE IF NOT EXISTS latest (
    record_id TEXT PRIMARY KEY,
    verdict TEXT,                   -- accept / reject / NULL (no verdict, or reset)
    reason TEXT, duplicate_of TEXT, messages TEXT, labels TEXT, note TEXT,
    reviewer TEXT NOT NULL, ts REAL NOT NULL, n INTEGER NOT NULL, count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS latest_verdict ON latest(verdict);
CREATE TABLE IF NOT EXISTS record_extra (
    seq INTEGER PRIMARY KEY,
    text TEXT NOT NULL,             -- the messages' text (roles as "\x1erole\x1f" markers), what search reads
    quality REAL, language_score REAL, similarity REAL, tokens REAL
);
CREATE TABLE IF NOT EXISTS leases (record_id TEXT PRIMARY KEY, reviewer TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS latest_labels (label TEXT NOT NULL, record_id TEXT NOT NULL,
    PRIMARY KEY (label, record_id)) WITHOUT ROWID;
"""


_FROM = "FROM records r LEFT JOIN latest l ON l.record_id = r.id LEFT JOIN record_extra x ON x.seq = r.seq"
# A verdict row that no undo withdrew (and not an admin's conflict resolution).
_LIVE_VERDICT = (
    "d.record_id = r.id AND d.action IN ('accept', 'reject') AND (d.batch IS NULL OR d.batch NOT LIKE"
    f" '{RESOLVE_PREFIX}%') AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = d.uid)"
)
_VERDICT_BY = f"EXISTS (SELECT 1 FROM decisions d WHERE {_LIVE_VERDICT} AND d.reviewer = ?)"
_VERDICT_REVIEWERS = f"(SELECT COUNT(DISTINCT d.reviewer) FROM decisions d WHERE {_LIVE_VERDICT})"
ROLE_MARK, TEXT_MARK = "\x1e", "\x1f"  # search_text: "\x1erole\x1ftext" per message


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _order(sort: str | None) -> str:
    if not sort:
        return "r.seq"
    key = sort.lstrip("-")
    if key not in SORTS:
        raise CurationError(f"unknown sort {sort!r}", hint=f"use one of {', '.join(SORTS)} (prefix - for descending)")
    direction = "DESC" if sort.startswith("-") else "ASC"
    return f"x.{key} IS NULL, x.{key} {direction}, r.seq"


def search_text(record: dict[str, Any]) -> str:
    """What search reads: each message's text and tool-call arguments, after its role (never the JSON keys)."""
    parts = []
    for m in record_messages(record):
        if not isinstance(m, dict):
            continue
        text = message_text(m)
        for call in m.get("tool_calls") or []:
            fn = (call or {}).get("function") or {} if isinstance(call, dict) else {}
            text += f"\n{fn.get('name', '')} {fn.get('arguments', '')}"
        parts.append(f"{ROLE_MARK}{m.get('role')}{TEXT_MARK}{text}")
    return "".join(parts)


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise CurationError(
            f"search {pattern!r} is not a valid regular expression ({exc})",
            hint="fix the pattern, or untick regex to search for the text as typed",
        ) from None


@functools.lru_cache(maxsize=64)
def _folded(query: str) -> tuple[str, str | None]:
    """(text, role) of a query: "role:user word" searches one role's turns."""
    role = None
    head, _, rest = query.partition(":")
    if rest and head.lower() in ("user", "assistant", "system", "tool", "developer"):
        role, query = head.lower(), rest.strip()
    return query.casefold(), role


def _msg_match(text: str | None, query: str, regex: int) -> bool:
    if not text:
        return False
    needle, role = _folded(query)
    turns = (part.partition(TEXT_MARK) for part in text.split(ROLE_MARK) if part)
    texts = (body for who, _, body in turns if role is None or who == role)
    if regex:
        pattern = _compiled(query if role is None else query.partition(":")[2].strip())
        return any(pattern.search(body) for body in texts)
    return any(needle in body.casefold() for body in texts)


@dataclass(frozen=True, slots=True)
class Decision:
    """The merged human state of one record: the last verdict, the last edit, the last labels and note."""

    record_id: str
    verdict: str | None  # "accept", "reject", or None (only edits/labels/notes, or reset)
    reason: str | None = None
    duplicate_of: str | None = None
    messages: Any = None  # edited messages (list) or, for a preference pair, {"prompt","chosen","rejected"}
    labels: list[str] | None = None
    note: str | None = None
    reviewer: str = ""
    ts: float = 0.0
    count: int = 1  # how many decision rows led here

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class QueueFilter:
    """What the review queue shows. Empty strings and None mean "any"."""

    reason: str | None = None  # a reject reason code, or "kept" for records in the splits
    flag: str | None = None
    language: str | None = None
    split: str | None = None  # train / validation / test / rejected
    label: str | None = None
    text: str | None = None  # free-text search in the record
    status: str | None = None  # todo / unreviewed / reviewed / accepted / rejected / edited
    cluster: str | None = None
    regex: bool = False  # text is a regular expression (matched case-insensitively)
    sort: str | None = None  # one of SORTS, "-" first for descending; pipeline order when None
    reviewer: str | None = None  # whose queue: records leased to others are left out; todo honours the overlap


@dataclass(slots=True)
class QueueItem:
    record_id: str
    split: str
    reason: str | None
    language: str | None
    verdict: str | None
    edited: bool


@dataclass(slots=True)
class QueuePage:
    items: list[QueueItem]
    total: int
    offset: int


@dataclass(slots=True)
class ReviewRecord:
    """One record as the reviewer sees it: the pipeline's view plus the human decision."""

    id: str
    split: str
    orig_split: str
    kind: str
    record: dict[str, Any] | None  # the pipeline's record (None for an unparseable raw reject)
    reject: dict[str, Any] | None  # the reject row (without "record"), when the pipeline rejected it
    flags: list[str]
    labels: list[str]  # the reviewer's latest label set, else the pipeline's labels
    language: str | None
    cluster: str | None
    decision: Decision | None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def edited_record(self) -> dict[str, Any] | None:
        """The record with the reviewer's latest edit applied (the pipeline record when not edited)."""
        if self.record is None or self.decision is None or self.decision.messages is None:
            return self.record
        return apply_edit(self.record, self.decision.messages)


@dataclass(slots=True)
class Progress:
    total: int
    reviewed: int
    accepted: int
    rejected: int
    edited: int
    kept: int  # in the splits before review
    pipeline_rejected: int


@dataclass(slots=True)
class ClusterMember:
    id: str
    split: str
    reason: str | None
    duplicate_of: str | None
    similarity: float  # word-trigram Jaccard against the cluster's current survivor
    verdict: str | None
    record: dict[str, Any] | None
    pipeline_similarity: float | None = None  # the dedup stage's own estimate against its survivor (rejects)


@dataclass(slots=True)
class ClusterInfo:
    id: str
    size: int
    survivor: str | None  # the member that stays when decisions are applied (human choice first)
    members: list[ClusterMember] = field(default_factory=list)


def apply_edit(record: dict[str, Any], messages: Any) -> dict[str, Any]:
    """A copy of the record with edited messages (a list for a conversation, a dict of parts for a pair)."""
    out = dict(record)
    if isinstance(messages, dict):
        for key in ("prompt", "chosen", "rejected"):
            if key in messages:
                out[key] = messages[key]
    else:
        out["messages"] = messages
    return out


def _run_fingerprint(run_dir: Path) -> str:
    """Identifies one pipeline run: the manifest changes with every `curate run`, decisions applied do not."""
    manifest = run_dir / "manifest.json"
    if manifest.is_file():
        return hashlib.sha256(manifest.read_bytes()).hexdigest()
    return "no-manifest"


def _split_files(run_dir: Path) -> list[tuple[str, Path]]:
    splits = run_dir / "splits"
    if not splits.is_dir():
        return []
    files = {p.stem: p for p in splits.glob("*.jsonl")}
    ordered = [name for name in SPLIT_ORDER if name in files] + sorted(set(files) - set(SPLIT_ORDER))
    return [(name, files[name]) for name in ordered]


def iter_jsonl(path: Path) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """(line, parsed) for every non-empty line of a JSONL file."""
    with path.open("rb") as handle:
        for n, line in enumerate(handle, 1):
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                yield line, orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise CurationError(
                    f"not valid JSON ({exc})", where=f"{path}:{n}", hint="run folders are written by `curate run`"
                ) from exc


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, dict):  # e.g. {"code": count}
        return [str(k) for k in value]
    return []


def _join(tags: list[str]) -> str | None:
    return "\n".join(tags) if tags else None


def _split_tags(value: str | None) -> list[str]:
    return value.split("\n") if value else []


def _shingles(record: dict[str, Any] | None) -> set[str]:
    if record is None:
        return set()
    words = " ".join(message_text(m) for m in record_messages(record)).lower().split()
    if len(words) < 3:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


def jaccard(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float:
    sa, sb = _shingles(a), _shingles(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


class ReviewStore:
    """Pipeline flags and human decisions of one run folder, in ``RUN_DIR/review.sqlite``."""

    def __init__(self, run_dir: str | Path, *, db_path: str | Path | None = None, busy_timeout_ms: int = 30_000):
        self.run_dir = Path(run_dir)
        self.db_path = Path(db_path) if db_path else self.run_dir / DB_NAME
        if not self.run_dir.is_dir():
            raise CurationError(
                f"run folder {str(self.run_dir)!r} does not exist", hint="pass the --out folder of `curate run`"
            )
        self._lock = threading.RLock()
        # One connection shared by the threads of this process (Gradio runs handlers in a thread pool).
        self._conn = sqlite3.connect(
            self.db_path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across process kills
        self._conn.create_function("msg_match", 3, _msg_match, deterministic=True)
        with self._lock:  # executescript commits on its own; CREATE ... IF NOT EXISTS is safe to race
            self._conn.executescript(_SCHEMA)
            columns = {r[1] for r in self._conn.execute("PRAGMA table_info(decisions)")}
            for column in ("batch", "undoes"):  # a schema-1 store: the log is kept, two columns added
                if column not in columns:
                    self._conn.execute(f"ALTER TABLE decisions ADD COLUMN {column} TEXT")
            self._conn.execute("CREATE INDEX IF NOT EXISTS decisions_undoes ON decisions(undoes)")
            self._conn.execute("CREATE INDEX IF NOT EXISTS decisions_reviewer ON decisions(reviewer, n)")
        self._ensure_imported()

    # -- plumbing -----------------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    class _Tx:
        def __init__(self, store: ReviewStore) -> None:
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            self.store._lock.acquire()
            try:
                self.store._conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.store._lock.release()
                raise
            return self.store._conn

        def __exit__(self, exc_type: Any, *rest: object) -> None:
            try:
                self.store._conn.execute("ROLLBACK" if exc_type else "COMMIT")
            finally:
                self.store._lock.release()

    def _write(self) -> ReviewStore._Tx:
        return ReviewStore._Tx(self)

    def _query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    # -- import of the pipeline's output ------------------------------------------------------------------
    def _ensure_imported(self) -> None:
        fingerprint = _run_fingerprint(self.run_dir)
        if self._meta("fingerprint") == fingerprint and self._meta("schema") == str(SCHEMA_VERSION):
            return
        self.refresh(fingerprint)

    def refresh(self, fingerprint: str | None = None) -> int:
        """(Re-)import the run's splits and rejects; decisions are kept. Returns the number of records."""
        fingerprint = fingerprint or _run_fingerprint(self.run_dir)
        rows: list[tuple[Any, ...]] = []
        extra_rows: list[tuple[Any, ...]] = []
        flag_rows: list[tuple[str, int]] = []
        seen: set[str] = set()
        seq = 0

        def add(line: bytes, row: dict[str, Any], split: str, reject: dict[str, Any] | None) -> None:
            nonlocal seq
            record = row if reject is None else reject.get("record")
            rid = str(row.get("id") or (record or {}).get("id") or f"line-{seq}")
            if rid in seen:  # conservation says ids are unique; keep the first rather than fail the UI
                return
            seen.add(rid)
            seq += 1
            meta = (record or {}).get("metadata") or {}
            flags = _tags(meta.get("flags"))
            for flag in dict.fromkeys(flags):
                flag_rows.append((flag, seq))
            kind = "raw" if record is None else ("preference" if "chosen" in record else "conversation")
            orig = split if reject is None else str(meta.get("split") or "train")
            cluster = meta.get("cluster")
            similarity = reject.get("similarity") if reject else None
            extra_rows.append((seq, search_text(record) if record is not None else str((reject or {}).get("raw", "")),
                               _number(meta.get("quality")), _number(meta.get("language_score")),
                               _number(similarity), _number(meta.get("tokens"))))  # fmt: skip
            rows.append(
                (
                    seq, rid, split, orig,
                    reject.get("stage") if reject else None,
                    reject.get("reason") if reject else None,
                    reject.get("detail") if reject else None,
                    reject.get("duplicate_of") if reject else None,
                    meta.get("language"),
                    str(cluster) if cluster is not None else None,
                    _join(flags), _join(_tags(meta.get("labels"))), kind, line,
                )
            )  # fmt: skip

        for split, path in _split_files(self.run_dir):
            for line, row in iter_jsonl(path):
                add(line, row, split, None)
        rejects = self.run_dir / "rejects.jsonl"
        if rejects.is_file():
            for line, row in iter_jsonl(rejects):
                add(line, row, "rejected", row)

        with self._write() as conn:
            for name in _RECORD_INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
            conn.execute("DELETE FROM records")
            conn.execute("DELETE FROM record_flags")
            conn.execute("DELETE FROM record_extra")
            conn.executemany("INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            conn.executemany("INSERT INTO record_extra VALUES (?,?,?,?,?,?)", extra_rows)
            flag_rows.sort()  # insert in primary-key order: no page splits in the WITHOUT ROWID table
            conn.executemany("INSERT INTO record_flags VALUES (?,?)", flag_rows)
            for name, columns in _RECORD_INDEXES.items():
                conn.execute(f"CREATE INDEX {name} ON {columns}")
            # Duplicates without a cluster id join their survivor's cluster (or one named after the survivor).
            conn.execute(
                """UPDATE records SET cluster = COALESCE(
                       (SELECT s.cluster FROM records s WHERE s.id = records.duplicate_of), duplicate_of)
                   WHERE cluster IS NULL AND duplicate_of IS NOT NULL AND reason LIKE '%dup%'"""
            )
            conn.execute(
                """UPDATE records SET cluster = id WHERE cluster IS NULL AND id IN
                       (SELECT duplicate_of FROM records WHERE duplicate_of IS NOT NULL AND reason LIKE '%dup%')"""
            )
            conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("fingerprint", fingerprint), ("schema", str(SCHEMA_VERSION)), ("imported_at", str(time.time()))],
            )
        return len(rows)

    # -- reading ------------------------------------------------------------------------------------------
    def _where(self, f: QueueFilter) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if f.reason:
            if f.reason == ANY_VALUE:
                clauses.append("r.split = 'rejected'")
            elif f.reason == "kept":
                clauses.append("r.split != 'rejected'")
            else:
                clauses.append("r.reason = ?")
                params.append(f.reason)
        for column in ("split", "language", "cluster"):
            value = getattr(f, column)
            if value:
                clauses.append(f"r.{column} = ?")
                params.append(value)
        if f.flag == ANY_VALUE:
            clauses.append("r.flags IS NOT NULL")
        elif f.flag:
            clauses.append("r.seq IN (SELECT seq FROM record_flags WHERE flag = ?)")
            params.append(f.flag)
        if f.label:
            clauses.append(
                "(r.id IN (SELECT record_id FROM latest_labels WHERE label = ?) OR"
                " (l.labels IS NULL AND r.labels IS NOT NULL AND ('\n' || r.labels || '\n') LIKE ?))"
            )
            params += [f.label, f"%\n{f.label}\n%"]
        if f.text:
            # Message text only (not the JSON line), Unicode case folding; a regex when asked (checked here).
            if f.regex:
                _compiled(f.text)
            clauses.append("(r.id = ? OR msg_match(x.text, ?, ?))")
            params += [f.text, f.text, int(bool(f.regex))]
        if f.reviewer:  # someone else has it on screen: not in this reviewer's queue
            clauses.append("NOT EXISTS (SELECT 1 FROM leases le WHERE le.record_id = r.id AND le.reviewer != ?"
                           " AND le.expires > ?)")  # fmt: skip
            params += [f.reviewer, time.time()]
        status = f.status or ""
        if status == "todo":  # flagged or rejected by the pipeline, no human verdict yet
            clauses.append("(r.flags IS NOT NULL OR r.split = 'rejected')")
        if status in ("todo", "unreviewed") and f.reviewer:
            # No verdict of mine; and no verdict at all, or one reviewer's verdict on a double-reviewed record.
            overlap = int(round(self.overlap() * 10_000))
            empty = "l.verdict IS NULL" if status == "todo" else "l.record_id IS NULL"
            clauses.append(f"NOT {_VERDICT_BY} AND ({empty} OR (((r.seq * 2654435761) % 10000) < ? AND"
                           f" {_VERDICT_REVIEWERS} < 2))")  # fmt: skip
            params += [f.reviewer, overlap]
        elif status == "todo":
            clauses.append("l.verdict IS NULL")
        elif status == "unreviewed":
            clauses.append("l.record_id IS NULL")
        elif status == "reviewed":
            clauses.append("l.record_id IS NOT NULL")
        elif status in ("accepted", "rejected"):
            clauses.append("l.verdict = ?")
            params.append(status[:-2] if status == "accepted" else "reject")
        elif status == "edited":
            clauses.append("l.messages IS NOT NULL")
        elif status and status != "todo":
            raise CurationError(
                f"unknown status filter {status!r}",
                hint="use todo, unreviewed, reviewed, accepted, rejected or edited",
            )
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def queue(self, filters: QueueFilter | None = None, offset: int = 0, limit: int = 50) -> QueuePage:
        """One page of the records matching the filters, in pipeline order, and how many match in all."""
        f = filters or QueueFilter()
        where, params = self._where(f)
        base = _FROM + where
        total = self._query(f"SELECT COUNT(*) {base}", params)[0][0]
        rows = self._query(
            f"SELECT r.id, r.split, r.reason, r.language, l.verdict, l.messages IS NOT NULL {base}"
            f" ORDER BY {_order(f.sort)} LIMIT ? OFFSET ?",
            [*params, max(0, int(limit)), max(0, int(offset))],
        )
        items = [QueueItem(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]
        return QueuePage(items=items, total=total, offset=offset)

    def get(self, record_id: str, *, history: bool = False) -> ReviewRecord:
        rows = self._query(
            "SELECT id, split, orig_split, kind, body, flags, labels, language, cluster FROM records WHERE id = ?",
            (record_id,),
        )
        if not rows:
            raise CurationError(f"no record with id {record_id!r} in this run", hint="pick an id from the queue")
        rid, split, orig, kind, body, flags, labels, language, cluster = rows[0]
        row = orjson.loads(body)
        if split == "rejected":
            record = row.get("record")
            reject = {k: v for k, v in row.items() if k != "record"}
        else:
            record, reject = row, None
        decision = self.decision(rid)
        # A reviewer's label set replaces the pipeline's (the UI edits starting from the pipeline's labels).
        merged = decision.labels if decision and decision.labels is not None else _split_tags(labels)
        out = ReviewRecord(
            id=rid, split=split, orig_split=orig, kind=kind, record=record, reject=reject,
            flags=_split_tags(flags), labels=merged, language=language, cluster=cluster, decision=decision,
        )  # fmt: skip
        if history:
            out.history = self.decisions(record_id=rid)
        return out

    def decision(self, record_id: str) -> Decision | None:
        rows = self._query(f"SELECT {_LATEST_COLS} FROM latest WHERE record_id = ?", (record_id,))
        return _decision_from_row(rows[0]) if rows else None

    def latest(self) -> dict[str, Decision]:
        rows = self._query(f"SELECT {_LATEST_COLS} FROM latest")
        return {r[0]: _decision_from_row(r) for r in rows}

    def decisions(self, record_id: str | None = None) -> list[dict[str, Any]]:
        """The append-only decision log (oldest first), for one record or all."""
        sql = f"SELECT {', '.join(_LOG_COLS)} FROM decisions"
        rows = self._query(sql + (" WHERE record_id = ? ORDER BY n" if record_id else " ORDER BY n"),
                           (record_id,) if record_id else ())  # fmt: skip
        return [_log_row(r) for r in rows]

    def progress(self) -> Progress:
        total, kept = self._query("SELECT COUNT(*), SUM(split != 'rejected') FROM records")[0]
        reviewed, accepted, rejected, edited = self._query(
            "SELECT COUNT(*), SUM(l.verdict = 'accept'), SUM(l.verdict = 'reject'), SUM(l.messages IS NOT NULL)"
            " FROM latest l JOIN records r ON r.id = l.record_id"
        )[0]
        kept = kept or 0
        return Progress(
            total=total, reviewed=reviewed or 0, accepted=accepted or 0, rejected=rejected or 0,
            edited=edited or 0, kept=kept, pipeline_rejected=total - kept,
        )  # fmt: skip

    def facets(self, names: list[str] | None = None) -> dict[str, list[tuple[str, int]]]:
        """Values the queue can be filtered on, with counts (for dropdowns); only ``names`` when given."""
        sources = {"reason": "records", "split": "records", "language": "records", "flag": "record_flags",
                   "label": "latest_labels"}  # fmt: skip
        out: dict[str, list[tuple[str, int]]] = {}
        for name in names or sources:
            sql = f"SELECT {name}, COUNT(*) FROM {sources[name]} GROUP BY {name} ORDER BY COUNT(*) DESC"
            out[name] = [(str(v), n) for v, n in self._query(sql) if v is not None]
        return out

    def projected_mix(self) -> list[tuple[str, str | None, int]]:
        """(split, language, count) as the decisions made so far would leave the run when applied."""
        return [
            (s, lang, n)
            for s, lang, n in self._query(
                "SELECT CASE WHEN l.verdict = 'reject' THEN 'rejected'"
                " WHEN l.verdict = 'accept' AND r.split = 'rejected' AND r.kind != 'raw' THEN r.orig_split"
                " ELSE r.split END AS s, r.language, COUNT(*) FROM records r"
                " LEFT JOIN latest l ON l.record_id = r.id GROUP BY s, r.language ORDER BY s, r.language"
            )
        ]

    # -- clusters -----------------------------------------------------------------------------------------
    def clusters(self, offset: int = 0, limit: int = 200) -> list[ClusterInfo]:
        """Near-duplicate clusters, largest first (members not loaded; see :meth:`cluster`)."""
        rows = self._query(
            "SELECT cluster, COUNT(*) AS n FROM records WHERE cluster IS NOT NULL GROUP BY cluster HAVING n > 1"
            " ORDER BY n DESC, cluster LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [ClusterInfo(id=c, size=n, survivor=None) for c, n in rows]

    def cluster(self, cluster_id: str) -> ClusterInfo:
        rows = self._query(
            "SELECT r.id, r.split, r.reason, r.duplicate_of, r.body, l.verdict FROM records r"
            " LEFT JOIN latest l ON l.record_id = r.id WHERE r.cluster = ? ORDER BY r.seq",
            (cluster_id,),
        )
        if not rows:
            raise CurationError(f"no cluster {cluster_id!r} in this run", hint="pick one from the Duplicates list")
        members: list[ClusterMember] = []
        for rid, split, reason, dup, body, verdict in rows:
            row = orjson.loads(body)
            record = row.get("record") if split == "rejected" else row
            estimate = row.get("similarity") if split == "rejected" else None
            members.append(ClusterMember(rid, split, reason, dup, 0.0, verdict, record,
                                         float(estimate) if isinstance(estimate, int | float) else None))  # fmt: skip
        # Survivor: a human-accepted member first, else the member the pipeline kept, else the first one.
        def stays(m: ClusterMember) -> bool:
            return m.verdict == "accept" or (m.split != "rejected" and m.verdict != "reject")

        survivor = next((m for m in members if m.verdict == "accept"), None) or next(
            (m for m in members if stays(m)), members[0]
        )
        for m in members:
            m.similarity = 1.0 if m is survivor else round(jaccard(survivor.record, m.record), 3)
        return ClusterInfo(id=cluster_id, size=len(members), survivor=survivor.id, members=members)

    def resolve_cluster(self, cluster_id: str, keep_id: str, reviewer: str) -> list[dict[str, Any]]:
        """Keep one member of a cluster and reject the others as its duplicates (one transaction)."""
        info = self.cluster(cluster_id)
        ids = [m.id for m in info.members]
        if keep_id not in ids:
            raise CurationError(f"{keep_id!r} is not a member of cluster {cluster_id!r}", hint=f"choose one of {ids}")
        ops = [(keep_id, "accept", None, None)] + [
            (m, "reject", "near_duplicate", keep_id) for m in ids if m != keep_id
        ]
        batch = uuid.uuid4().hex  # one undoable batch
        with self._write() as conn:
            return [
                self._insert(conn, rid, action, reviewer, reason=reason, duplicate_of=dup,
                             note=f"cluster {cluster_id}: kept {keep_id}", batch=batch)
                for rid, action, reason, dup in ops
            ]  # fmt: skip

    # -- writing ------------------------------------------------------------------------------------------
    def decide(
        self,
        record_id: str,
        action: str,
        reviewer: str,
        reason: str | None = None,
        messages: Any = None,
        labels: list[str] | None = None,
        note: str | None = None,
        *,
        duplicate_of: str | None = None,
    ) -> dict[str, Any]:
        """Append one decision and update the record's merged state; returns the stored row."""
        if action not in ACTIONS:
            raise CurationError(f"unknown review action {action!r}", hint=f"use one of {sorted(ACTIONS)}")
        if not reviewer:
            raise CurationError("a decision needs a reviewer name", hint="set the reviewer field")
        if action == "edit" and messages is None:
            raise CurationError("an edit needs the edited messages", hint="pass messages=[...]")
        if not self._query("SELECT 1 FROM records WHERE id = ?", (record_id,)):
            raise CurationError(f"no record with id {record_id!r} in this run", hint="pick an id from the queue")
        with self._write() as conn:
            return self._insert(conn, record_id, action, reviewer, reason=reason, messages=messages,
                                labels=labels, note=note, duplicate_of=duplicate_of)  # fmt: skip

    def _insert(
        self,
        conn: sqlite3.Connection,
        record_id: str,
        action: str,
        reviewer: str,
        *,
        reason: str | None = None,
        messages: Any = None,
        labels: list[str] | None = None,
        note: str | None = None,
        duplicate_of: str | None = None,
        uid: str | None = None,
        ts: float | None = None,
        batch: str | None = None,
        undoes: str | None = None,
    ) -> dict[str, Any]:
        row = {
            "uid": uid or uuid.uuid4().hex,
            "record_id": record_id,
            "action": action,
            "reviewer": reviewer,
            "reason": reason,
            "duplicate_of": duplicate_of,
            "messages": orjson.dumps(messages).decode() if messages is not None else None,
            "labels": orjson.dumps(list(labels)).decode() if labels is not None else None,
            "note": note,
            "ts": ts if ts is not None else time.time(),
            "batch": batch,
            "undoes": undoes,
        }
        cur = conn.execute(
            "INSERT OR IGNORE INTO decisions (uid, record_id, action, reviewer, reason, duplicate_of, messages,"
            " labels, note, ts, batch, undoes) VALUES (:uid, :record_id, :action, :reviewer, :reason,"
            " :duplicate_of, :messages, :labels, :note, :ts, :batch, :undoes)",
            row,
        )
        if cur.rowcount:
            row["n"] = cur.lastrowid
            if action == "undo":
                self._recompute(conn, record_id)
            else:
                self._merge_latest(conn, row)
        return _log_row_from_dict(row)

    @staticmethod
    def _merge_latest(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
        prev = conn.execute(
            "SELECT verdict, reason, duplicate_of, messages, labels, note, count FROM latest WHERE record_id = ?",
            (row["record_id"],),
        ).fetchone()
        verdict, reason, dup, messages, labels, note, count = prev or (None, None, None, None, None, None, 0)
        verdict, reason, dup, messages, labels, note = _fold(
            (verdict, reason, dup, messages, labels, note), row
        )
        conn.execute(
            "INSERT OR REPLACE INTO latest VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (row["record_id"], verdict, reason, dup, messages, labels, note, row["reviewer"], row["ts"], row["n"],
             count + 1),
        )  # fmt: skip
        if row["labels"] is not None:
            conn.execute("DELETE FROM latest_labels WHERE record_id = ?", (row["record_id"],))
            conn.executemany(
                "INSERT OR IGNORE INTO latest_labels VALUES (?, ?)",
                [(label, row["record_id"]) for label in orjson.loads(row["labels"])],
            )

    @staticmethod
    def _recompute(conn: sqlite3.Connection, record_id: str) -> None:
        """The merged state of one record from its log, leaving out the decisions an undo withdrew."""
        rows = [dict(zip(_LOG_COLS, r, strict=True)) for r in conn.execute(
            f"SELECT {', '.join(_LOG_COLS)} FROM decisions WHERE record_id = ? ORDER BY n", (record_id,))]  # fmt: skip
        conn.execute("DELETE FROM latest WHERE record_id = ?", (record_id,))
        conn.execute("DELETE FROM latest_labels WHERE record_id = ?", (record_id,))
        for row in live_rows(rows):
            ReviewStore._merge_latest(conn, row)

    def rebuild_latest(self) -> None:
        """Recompute the derived ``latest`` tables from the decision log."""
        with self._write() as conn:
            conn.execute("DELETE FROM latest")
            conn.execute("DELETE FROM latest_labels")
            rows = [dict(zip(_LOG_COLS, r, strict=True))
                    for r in conn.execute(f"SELECT {', '.join(_LOG_COLS)} FROM decisions ORDER BY n").fetchall()]
            for row in live_rows(rows):
                self._merge_latest(conn, row)

    # -- teams: leases, overlap, undo, bulk -----------------------------------------------------------------
    def overlap(self) -> float:
        """The fraction of records two reviewers each decide (for agreement), set by an admin; 0 by default."""
        value = self._meta("overlap")
        return float(value) if value else 0.0

    def set_overlap(self, fraction: float) -> None:
        if not 0.0 <= float(fraction) <= 1.0:
            raise CurationError(f"overlap {fraction} is not a fraction", hint="use a number from 0 to 1, e.g. 0.1")
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('overlap', ?)", (str(float(fraction)),))

    def claim(self, record_id: str, reviewer: str, seconds: float = LEASE_SECONDS) -> bool:
        """Lease a record to the reviewer who has it on screen (or renew the lease); False when another
        reviewer holds an unexpired lease on it."""
        now = time.time()
        with self._write() as conn:
            row = conn.execute("SELECT reviewer, expires FROM leases WHERE record_id = ?", (record_id,)).fetchone()
            if row and row[0] != reviewer and row[1] > now:
                return False
            conn.execute("DELETE FROM leases WHERE reviewer = ? AND record_id != ?", (reviewer, record_id))
            conn.execute("INSERT OR REPLACE INTO leases VALUES (?, ?, ?)", (record_id, reviewer, now + seconds))
        return True

    def renew(self, record_id: str, reviewer: str, seconds: float = LEASE_SECONDS) -> bool:
        """Extend the reviewer's own lease on a record; never takes a new one (a renewal that arrives after the
        reviewer moved on must not pull the lease back from the record now on screen)."""
        with self._write() as conn:
            cur = conn.execute("UPDATE leases SET expires = ? WHERE record_id = ? AND reviewer = ?",
                               (time.time() + seconds, record_id, reviewer))  # fmt: skip
            return bool(cur.rowcount)

    def release(self, reviewer: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM leases WHERE reviewer = ?", (reviewer,))

    def lease_holder(self, record_id: str) -> str | None:
        rows = self._query("SELECT reviewer FROM leases WHERE record_id = ? AND expires > ?", (record_id, time.time()))
        return rows[0][0] if rows else None

    def decided_by_other(self, record_id: str, reviewer: str) -> str | None:
        """A reviewer other than ``reviewer`` whose live verdict stands on the record (undone verdicts and
        an admin's conflict resolutions do not count), or None."""
        rows = self._query(f"SELECT d.reviewer FROM records r JOIN decisions d ON {_LIVE_VERDICT} "
                           "WHERE r.id = ? AND d.reviewer != ? LIMIT 1", (record_id, reviewer))
        return rows[0][0] if rows else None

    def ids(self, filters: QueueFilter) -> list[str]:
        """Every record id the filtered queue holds, in queue order (what a bulk action acts on)."""
        where, params = self._where(filters)
        return [r[0] for r in self._query(f"SELECT r.id {_FROM}{where} ORDER BY {_order(filters.sort)}", params)]

    def position(self, filters: QueueFilter, record_id: str) -> int | None:
        """Where a record is in the filtered queue (0-based), or None when the queue does not hold it."""
        ids = self.ids(filters)
        try:
            return ids.index(record_id)
        except ValueError:
            return None

    def bulk(self, filters: QueueFilter, action: str, reviewer: str, *, expected: int, reason: str | None = None,
             labels: list[str] | None = None) -> tuple[str, int]:  # fmt: skip
        """One decision per record of the filtered queue, as one undoable batch; ``expected`` is the count the
        reviewer confirmed (refused when the queue changed since). Returns (batch id, count)."""
        if action not in ("accept", "reject", "label"):
            raise CurationError(f"bulk {action!r} is not supported", hint="use accept, reject or label")
        if not reviewer:
            raise CurationError("a decision needs a reviewer name", hint="set the reviewer field")
        batch = uuid.uuid4().hex
        with self._write() as conn:
            where, params = self._where(filters)
            ids = [r[0] for r in conn.execute(f"SELECT r.id {_FROM}{where} ORDER BY r.seq", params)]
            if len(ids) != expected:
                raise CurationError(f"the filtered set now holds {len(ids)} records, not the {expected} confirmed",
                                    hint="preview the bulk action again and confirm the new count")  # fmt: skip
            for rid in ids:
                self._insert(conn, rid, action, reviewer, reason=reason, labels=labels, batch=batch)
        return batch, len(ids)

    def undo(self, uid: str, reviewer: str) -> list[dict[str, Any]]:
        """Withdraw one decision (and, when it was part of a bulk action, the whole batch); returns the undo rows."""
        rows = self._query(f"SELECT {', '.join(_LOG_COLS)} FROM decisions WHERE uid = ?", (uid,))
        if not rows:
            raise CurationError(f"no decision {uid!r}", hint="pick one from the record's history")
        row = dict(zip(_LOG_COLS, rows[0], strict=True))
        if row["action"] == "undo":
            raise CurationError("an undo cannot itself be undone", hint="make the decision again instead")
        targets = [row["uid"]]
        if row["batch"] and not str(row["batch"]).startswith("undo-"):
            sql = "SELECT uid FROM decisions WHERE batch = ? ORDER BY n"
            targets = [r[0] for r in self._query(sql, (row["batch"],))]
        batch = "undo-" + uuid.uuid4().hex
        out = []
        with self._write() as conn:
            for target in targets:
                if conn.execute("SELECT 1 FROM decisions WHERE undoes = ?", (target,)).fetchone():
                    continue  # already withdrawn
                rid = conn.execute("SELECT record_id FROM decisions WHERE uid = ?", (target,)).fetchone()[0]
                out.append(self._insert(conn, rid, "undo", reviewer, undoes=target, batch=batch))
        if not out:
            raise CurationError("that decision was already undone", hint="nothing to do")
        return out

    def undo_last(self, reviewer: str) -> list[dict[str, Any]]:
        """Withdraw the reviewer's latest decision (a whole batch for a bulk action)."""
        rows = self._query(
            "SELECT uid FROM decisions d WHERE reviewer = ? AND action != 'undo' AND NOT EXISTS"
            " (SELECT 1 FROM decisions u WHERE u.undoes = d.uid) ORDER BY n DESC LIMIT 1", (reviewer,))  # fmt: skip
        if not rows:
            raise CurationError(f"{reviewer} has no decision left to undo", hint="nothing to do")
        return self.undo(rows[0][0], reviewer)

    def reviewer_verdicts(self) -> dict[str, dict[str, str]]:
        """{record id: {reviewer: last live verdict}} from the log (undone rows and resolutions left out)."""
        rows = [dict(zip(_LOG_COLS, r, strict=True)) for r in
                self._query(f"SELECT {', '.join(_LOG_COLS)} FROM decisions ORDER BY n")]  # fmt: skip
        out: dict[str, dict[str, str]] = {}
        for row in live_rows(rows):
            if row["action"] in VERDICTS and not str(row["batch"] or "").startswith(RESOLVE_PREFIX):
                out.setdefault(row["record_id"], {})[row["reviewer"]] = row["action"]
        return out

    def resolutions(self) -> dict[str, str]:
        """{record id: verdict} of an admin's conflict resolutions still in force."""
        rows = [dict(zip(_LOG_COLS, r, strict=True)) for r in
                self._query(f"SELECT {', '.join(_LOG_COLS)} FROM decisions ORDER BY n")]  # fmt: skip
        return {row["record_id"]: row["action"] for row in live_rows(rows)
                if row["action"] in VERDICTS and str(row["batch"] or "").startswith(RESOLVE_PREFIX)}  # fmt: skip

    def resolve(self, record_id: str, verdict: str, admin: str, reason: str | None = None) -> dict[str, Any]:
        """An admin's final verdict on a conflicting record (kept apart from the reviewers' verdicts)."""
        if verdict not in VERDICTS:
            raise CurationError(f"resolve with {verdict!r}", hint="use accept or reject")
        with self._write() as conn:
            return self._insert(conn, record_id, verdict, admin, reason=reason, note="conflict resolved",
                                batch=RESOLVE_PREFIX + uuid.uuid4().hex)  # fmt: skip

    # -- carrying decisions between runs ------------------------------------------------------------------
    def export_decisions(self, path: str | Path) -> int:
        """Write the decision log as JSONL (one decision per line, oldest first); returns the count."""
        rows = self.decisions()
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        with tmp.open("wb") as handle:
            for row in rows:
                row.pop("n", None)
                handle.write(orjson.dumps(row, option=orjson.OPT_SORT_KEYS) + b"\n")
        os.replace(tmp, target)
        return len(rows)

    def import_decisions(self, path: str | Path) -> int:
        """Append the decisions of a JSONL log (skipping ones already here, by uid); returns how many were new.

        Decisions for ids that are not in this run are kept (they may match a later run of the same data) and
        are ignored when decisions are applied."""
        added = 0
        rows = [row for _, row in iter_jsonl(Path(path))]
        with self._write() as conn:
            for n, row in enumerate(rows, 1):
                if row.get("action") not in ACTIONS or not row.get("record_id"):
                    raise CurationError("not a review decision", where=f"{path}:{n}",
                                        hint="use a file written by export_decisions")  # fmt: skip
                stored = self._insert(
                    conn, str(row["record_id"]), row["action"], str(row.get("reviewer") or "import"),
                    reason=row.get("reason"), messages=row.get("messages"), labels=row.get("labels"),
                    note=row.get("note"), duplicate_of=row.get("duplicate_of"), uid=row.get("uid"),
                    ts=row.get("ts"), batch=row.get("batch"), undoes=row.get("undoes"),
                )  # fmt: skip
                added += "n" in stored
        return added


def _fold(state: tuple[Any, ...], row: dict[str, Any]) -> tuple[Any, ...]:
    """Merge one decision row (messages/labels as JSON text) into a record's state."""
    verdict, reason, dup, messages, labels, note = state
    action = row["action"]
    if action in ("accept", "reject"):
        verdict, reason, dup = action, row["reason"], row["duplicate_of"]
    elif action == "reset":  # back to the pipeline's verdict, edits dropped
        verdict, reason, dup, messages = None, None, None, None
    if row["messages"] is not None:
        messages = row["messages"]
    if row["labels"] is not None:
        labels = row["labels"]
    if row["note"] is not None:
        note = row["note"]
    return verdict, reason, dup, messages, labels, note


def _decision_from_row(r: tuple[Any, ...]) -> Decision:
    return Decision(
        record_id=r[0], verdict=r[1], reason=r[2], duplicate_of=r[3],
        messages=orjson.loads(r[4]) if r[4] is not None else None,
        labels=orjson.loads(r[5]) if r[5] is not None else None,
        note=r[6], reviewer=r[7], ts=r[8], count=r[9],
    )  # fmt: skip


def _log_row(r: tuple[Any, ...]) -> dict[str, Any]:
    return _log_row_from_dict(dict(zip(_LOG_COLS, r, strict=True)))


def _log_row_from_dict(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("messages", "labels"):
        if isinstance(out.get(key), str):
            out[key] = orjson.loads(out[key])
    return out


def live_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The decision rows no undo withdrew (undo rows themselves left out), in log order."""
    undone = {row.get("undoes") for row in rows if row.get("action") == "undo"}
    return [row for row in rows if row.get("action") != "undo" and row.get("uid") not in undone]


def fold_decisions(rows: list[dict[str, Any]]) -> dict[str, Decision]:
    """The merged state per record from a decision log (rows in order, messages/labels already parsed)."""
    states: dict[str, tuple[tuple[Any, ...], dict[str, Any], int]] = {}
    for row in live_rows(rows):
        raw = {"reason": None, "duplicate_of": None, "note": None, "messages": None, "labels": None, **row}
        prev = states.get(raw["record_id"])
        state = _fold(prev[0] if prev else (None,) * 6, raw)  # _fold only tests values for None
        states[raw["record_id"]] = (state, raw, (prev[2] if prev else 0) + 1)
    out: dict[str, Decision] = {}
    for rid, (state, last, count) in states.items():
        verdict, reason, dup, messages, labels, note = state
        out[rid] = Decision(
            record_id=rid, verdict=verdict, reason=reason, duplicate_of=dup, messages=messages, labels=labels,
            note=note, reviewer=str(last.get("reviewer") or ""), ts=float(last.get("ts") or 0.0), count=count,
        )  # fmt: skip
    return out


def load_decisions(source: str | Path) -> dict[str, Decision]:
    """The merged decision per record id, from a run folder, a ``review.sqlite`` file or a decisions JSONL.

    Reads only the decision log: it never imports the run's records, so it is cheap to call from `curate run`.
    """
    path = Path(source)
    if path.is_dir():
        path = path / DB_NAME
        if not path.exists():
            return {}
    if not path.exists():
        raise CurationError(f"no review decisions at {str(path)!r}", hint="pass a run folder or a decisions file")
    if path.suffix in (".jsonl", ".json"):
        return fold_decisions([_log_row_from_dict(row) for _, row in iter_jsonl(path)])
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        has = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'decisions'").fetchone()
        if not has:
            return {}
        present = {r[1] for r in conn.execute("PRAGMA table_info(decisions)")}
        cols = ", ".join(c if c in present else f"NULL AS {c}" for c in _LOG_COLS)  # a schema-1 store
        rows = conn.execute(f"SELECT {cols} FROM decisions ORDER BY n").fetchall()
    finally:
        conn.close()
    return fold_decisions([_log_row(r) for r in rows])


def export_decisions(run_dir: str | Path, path: str | Path) -> int:
    """Write a run's decision log as JSONL, to carry decisions to a new run of the same data."""
    with ReviewStore(run_dir) as store:
        return store.export_decisions(path)


def import_decisions(run_dir: str | Path, path: str | Path) -> int:
    """Append a decision log (from :func:`export_decisions`) to a run's store; returns how many were new."""
    with ReviewStore(run_dir) as store:
        return store.import_decisions(path)
