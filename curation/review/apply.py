"""Apply the human decisions of ``review.sqlite`` to a run folder's splits and rejects.

The rules, so that the curated set is reproducible from raw data, config and the decision log:

- a record a human rejected leaves its split for ``rejects.jsonl`` (stage ``review``, reason
  ``human_rejected``, the reviewer's reason as detail, ``duplicate_of`` when a cluster resolution chose
  another survivor);
- an edited record is validated again and replaces the original in its split, or goes to the rejects with
  the check's code (stage ``review``) when the edit made it invalid;
- a rejected record a human accepted (a duplicate to keep, a false positive) returns to the split it had or
  would have had (``metadata.split``, else train); a record that only a human had rejected returns when the
  human verdict is withdrawn;
- everything else stays where it is, in the same order. Applying twice changes nothing the second time.

Every id appears exactly once across the splits and the rejects before and after (checked before any file
is replaced); each file is rewritten atomically (temporary file + rename) and ``report.json`` counts are
recomputed from the files.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .. import run_folder
from ..checks import check_record
from ..errors import CurationError
from ..exporters.base import atomic_writer
from ..records import dumps
from .store import Decision, _split_files, apply_edit, iter_jsonl, load_decisions

REVIEW_STAGE = "review"
HUMAN_REJECTED = "human_rejected"


@dataclass(slots=True)
class ApplyResult:
    rejected: int = 0  # moved from a split to the rejects by a human
    restored: int = 0  # returned from the rejects to a split
    edited: int = 0  # edited records written to a split
    invalid_edits: int = 0  # edits that failed validation (now in the rejects with the check's code)
    unchanged: int = 0
    decisions: int = 0  # records with a decision
    unknown_ids: list[str] = field(default_factory=list)  # decisions for ids not in this run
    splits: dict[str, int] = field(default_factory=dict)  # records per split after applying
    rejects: int = 0
    changed: int = 0  # records whose place or content this call changed (0 when applied twice)
    files: list[str] = field(default_factory=list)


def validate_record(record: dict[str, Any]) -> tuple[str, str] | None:
    """(code, detail) of the first error an edited record has (the pipeline's own checks), or None."""
    for finding in check_record(record):
        if finding.severity == "error":
            return finding.code, finding.message or finding.hint
    return None


def _with_review(record: dict[str, Any], decision: Decision, *, restored: bool = False) -> dict[str, Any]:
    """Record the human decision in metadata so exports and later runs can trace it."""
    out = dict(record)
    meta = dict(out.get("metadata") or {})
    review = {"verdict": decision.verdict, "edited": decision.messages is not None, "reviewer": decision.reviewer}
    if restored or (meta.get("review") or {}).get("restored"):  # it came back from the rejects
        review["restored"] = True
    if decision.note:
        review["note"] = decision.note
    meta["review"] = review
    if decision.labels is not None:  # the reviewer's label set replaces the record's (the UI starts from it)
        meta["labels"] = list(dict.fromkeys(decision.labels))
    out["metadata"] = meta
    return out


def _reject_row(record: dict[str, Any], reason: str, detail: str, duplicate_of: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"id": record["id"], "stage": REVIEW_STAGE, "reason": reason, "detail": detail}
    if duplicate_of:
        row["duplicate_of"] = duplicate_of
    source = (record.get("metadata") or {}).get("source")
    if source:
        row["source"] = source
    row["record"] = record
    return row


def _write_atomic(path: Path, lines: list[bytes]) -> None:
    with atomic_writer(path) as handle:
        handle.writelines(lines)


def apply_decisions(run_dir: str | Path, decisions: dict[str, Decision] | None = None) -> ApplyResult:
    """Apply the run's review decisions (or the ones given) to its splits, rejects and report.json."""
    start = time.perf_counter()
    run = Path(run_dir)
    if decisions is None:
        decisions = load_decisions(run)  # {} when the run has no review database
    split_files = _split_files(run)
    if not split_files and not (run / "rejects.jsonl").exists():
        raise CurationError(f"{str(run)!r} has no splits/ and no rejects.jsonl", hint="run `curate run --out DIR`")
    result = ApplyResult(decisions=len(decisions))
    seen: set[str] = set()
    splits_out: dict[str, list[bytes]] = {name: [] for name, _ in split_files}
    rejects_out: list[bytes] = []
    moved_in: dict[str, list[bytes]] = {}  # records restored to a split, appended after the split's own
    ids_in = 0

    def to_split(
        record: dict[str, Any], split: str, decision: Decision, restored: bool = False, line: bytes | None = None
    ) -> bool:
        """Write a (possibly edited) record to a split; False when the edit is invalid (sent to rejects)."""
        if decision.messages is not None:
            edited = apply_edit(record, decision.messages)
            problem = validate_record(edited)
            if problem is not None:
                row = dumps(_reject_row(_with_review(edited, decision), problem[0], problem[1], None))
                result.changed += line is None or row != line + b"\n"
                rejects_out.append(row)
                result.invalid_edits += 1
                return False
            record = edited
            result.edited += 1
        target = splits_out if split in splits_out else moved_in
        out = dumps(_with_review(record, decision, restored=restored))
        result.changed += line is None or out != line + b"\n"
        target.setdefault(split, []).append(out)
        return True

    for split, path in split_files:
        for line, record in iter_jsonl(path):
            rid = str(record.get("id"))
            ids_in += 1
            seen.add(rid)
            decision = decisions.get(rid)
            if decision is None or (decision.verdict != "reject" and decision.messages is None and
                                    decision.labels is None and decision.note is None):  # fmt: skip
                splits_out[split].append(line + b"\n")
                result.unchanged += 1
            elif decision.verdict == "reject":
                detail = decision.reason or decision.note or ""
                rejects_out.append(dumps(_reject_row(_with_review(record, decision), HUMAN_REJECTED, detail,
                                                     decision.duplicate_of)))  # fmt: skip
                result.rejected += 1
            else:
                to_split(record, split, decision, line=line)
    rejects_path = run / "rejects.jsonl"
    if rejects_path.exists():
        for line, row in iter_jsonl(rejects_path):
            record = row.get("record")
            rid = str(row.get("id") or (record or {}).get("id"))
            ids_in += 1
            seen.add(rid)
            decision = decisions.get(rid)
            human_only = row.get("stage") == REVIEW_STAGE
            back = record is not None and decision is not None and (
                decision.verdict == "accept" or (human_only and decision.verdict != "reject")
            )
            if back:
                # The original record (without a previous review's metadata) returns, then gets this decision.
                original = dict(record)
                meta = {k: v for k, v in (original.get("metadata") or {}).items() if k != "review"}
                original["metadata"] = meta
                split = str(meta.get("split") or "train")
                if to_split(original, split, decision, restored=True, line=line):
                    result.restored += 1
                continue
            if decision is not None and decision.verdict == "reject" and decision.duplicate_of and record is not None:
                if row.get("duplicate_of") != decision.duplicate_of:  # a cluster resolution chose another survivor
                    row["duplicate_of"] = decision.duplicate_of
                    rejects_out.append(dumps(row))
                    result.changed += 1
                    continue
            rejects_out.append(line + b"\n")
    for split, lines in moved_in.items():
        splits_out.setdefault(split, []).extend(lines)

    result.unknown_ids = sorted(set(decisions) - seen)
    ids_out = sum(len(v) for v in splits_out.values()) + len(rejects_out)
    if ids_out != ids_in:  # conservation: never write a run folder that lost or duplicated a record
        raise CurationError(
            f"applying review decisions would turn {ids_in} records into {ids_out}",
            hint="report this as a bug; no file was changed",
        )
    result.changed += result.rejected
    with run_folder.rewriting(run):  # a crash in here leaves the folder visibly incomplete, never mixed
        (run / "splits").mkdir(exist_ok=True)
        for split, lines in splits_out.items():
            path = run / "splits" / f"{split}.jsonl"
            _write_atomic(path, lines)
            result.splits[split] = len(lines)
            result.files.append(str(path))
        _write_atomic(rejects_path, rejects_out)
        result.files.append(str(rejects_path))
        result.rejects = len(rejects_out)
        _update_report(run, splits_out, rejects_out, result, time.perf_counter() - start)
    return result


def _update_report(
    run: Path,
    splits_out: dict[str, list[bytes]],
    rejects_out: list[bytes],
    result: ApplyResult,
    seconds: float,
) -> None:
    """Recount report.json from the rewritten files; the review funnel step is the total effect of all the
    decisions applied so far (so applying twice gives the same counts)."""
    path = run / "report.json"
    if not path.exists():
        return
    report = orjson.loads(path.read_bytes())
    reasons: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for line in rejects_out:
        row = orjson.loads(line)
        reasons[str(row.get("reason"))] += 1
        if row.get("stage") == REVIEW_STAGE:
            by_reason[str(row.get("reason"))] += 1
    restored = edited = 0
    splits = report.get("splits") if isinstance(report.get("splits"), dict) else {}
    languages: Counter[str] = Counter()
    for name, lines in splits_out.items():
        entry = dict(splits.get(name) or {})
        langs: Counter[str] = Counter()
        tokens = 0
        for line in lines:
            meta = orjson.loads(line).get("metadata") or {}
            review = meta.get("review") or {}
            restored += bool(review.get("restored"))
            edited += bool(review.get("edited"))
            if meta.get("language"):
                langs[str(meta["language"])] += 1
            if isinstance(meta.get("tokens"), int | float):
                tokens += int(meta["tokens"])
        entry.update(records=len(lines), tokens=tokens, languages=dict(langs.most_common()))
        splits[name] = entry
        languages.update(langs)
    records_out = sum(len(v) for v in splits_out.values())
    funnel = [s for s in report.get("funnel") or [] if s.get("stage") != REVIEW_STAGE]
    dropped = sum(by_reason.values())
    funnel.append(
        {"stage": REVIEW_STAGE, "in": records_out - restored + dropped, "out": records_out, "dropped": dropped,
         "restored": restored, "edited": edited, "by_reason": dict(by_reason.most_common()),
         "seconds": round(seconds, 3)}
    )  # fmt: skip
    report.update(
        records_out=records_out,
        rejected=len(rejects_out),
        reasons=dict(reasons.most_common()),
        splits=splits,
        funnel=funnel,
        review={"decisions": result.decisions, "rejected": dropped, "restored": restored, "edited": edited},
    )  # fmt: skip
    if languages and isinstance(report.get("languages"), dict):
        report["languages"] = dict(languages.most_common())
    with atomic_writer(path) as handle:
        handle.write(orjson.dumps(report, option=orjson.OPT_INDENT_2))
