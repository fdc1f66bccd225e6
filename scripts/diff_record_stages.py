"""Fingerprint what the per-record work computes, to prove a speed-up changed no result.

    python scripts/diff_record_stages.py dump before.json [--corpus N] [--pool POOL] [INPUT ...]
    python scripts/diff_record_stages.py dump after.json [--corpus N] [--pool POOL] [INPUT ...]
    python scripts/diff_record_stages.py compare before.json after.json

``dump`` reads every input (default: every file under tests/data/real and samples/raw, plus a synthetic
corpus of ``--corpus`` records made like the benchmarks' one, seed 0) and records, per record: what ingest
made of it (the canonical record or the reader error), the validation findings and the reject verdict, the
chat token counts (total and per message, both encodings), the ``tokens`` stage's verdict and metadata,
and the ``language`` stage's text, metadata and verdict under two configs. It also runs ``curate run``
(in process) on each input and hashes its splits, rejects and report. ``compare`` prints the first
differences and exits 1 when there are any. Run ``dump`` with the old code (a checkout of the old commit on
``PYTHONPATH``) and the new, then ``compare``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
POOL = REPO.parent / "shared" / "data" / "sentences" / "pool.json"
_OUTPUTS = ("splits/train.jsonl", "splits/validation.jsonl", "rejects.jsonl", "report.json")


def _default_inputs() -> list[Path]:
    found = [p for folder in ("tests/data/real", "samples/raw") for p in sorted((REPO / folder).rglob("*"))
             if p.is_file() and p.suffix != ".md"]
    return found


def _safe(fn: Any, *args: Any) -> Any:
    """fn(*args), or the exception's type and text: a crash is a result to compare too."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - recorded, not raised
        return {"error": f"{type(exc).__name__}: {exc}"}


def _drop(verdict: Any) -> Any:
    return None if verdict is None else [verdict.reason, verdict.detail, verdict.duplicate_of]


def _record_facts(record: dict[str, Any], stages: dict[str, Any]) -> dict[str, Any]:
    from curation import tokens
    from curation.checks import check_record
    from curation.pipeline.judge import reject_reason

    findings = _safe(check_record, record)
    facts: dict[str, Any] = {
        "record": orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode(),
        "findings": findings if isinstance(findings, dict) else
        [[f.code, f.severity, f.message, f.hint, f.message_index] for f in findings],
        "verdict": None if isinstance(findings, dict) else _safe(reject_reason, findings),
    }
    for encoding in tokens.ENCODINGS:
        facts[f"chat_token_counts/{encoding}"] = _safe(tokens.chat_token_counts, record, encoding)
        facts[f"assistant_tokens/{encoding}"] = _safe(tokens.assistant_tokens, record, encoding)
    for name, stage in stages.items():
        copied = copy.deepcopy(record)
        verdict = _safe(stage.process, copied)
        facts[name] = [verdict if isinstance(verdict, dict) else _drop(verdict), copied.get("metadata")]
        if name.startswith("language"):
            facts[name].append(_safe(stage.text_of, record))
    batch = [copy.deepcopy(record)]
    for name, stage in stages.items():  # the batch path too, where a stage has one
        verdicts = _safe(stage.process_batch, batch)
        facts[f"{name}/batch"] = verdicts if isinstance(verdicts, dict) else [_drop(v) for v in verdicts]
    facts["batch_metadata"] = batch[0].get("metadata")
    return facts


def _stages() -> dict[str, Any]:
    from curation.pipeline.stages.language import LanguageConfig, LanguageStage
    from curation.pipeline.stages.length import LengthConfig, TokenLengthStage

    stages: dict[str, Any] = {
        "tokens": TokenLengthStage(),
        "tokens/tight": TokenLengthStage(LengthConfig(model="gpt-3.5-turbo", max_tokens=400, min_tokens=40,
                                                      max_message_tokens=120)),
        "language": LanguageStage(),
        "language/strict": LanguageStage(LanguageConfig(allow=["en", "fr"], min_score=0.8, uncertain="drop",
                                                        strip_code=False, roles=["system", "user"])),
    }
    for stage in stages.values():
        stage.load()
    return stages


def _pipeline_hash(path: Path) -> dict[str, str]:
    from curation.config import load_config
    from curation.pipeline.runner import run_pipeline

    out = Path(tempfile.mkdtemp(prefix="diff-record-stages-")) / "run"
    config = load_config(None, values={"inputs": [str(path)], "out": str(out), "export.formats": [],
                                       "runner.executor": "inprocess", "runner.progress": False})
    run_pipeline(config, quiet=True)
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() if (out / name).exists() else "absent"
            for name in _OUTPUTS}


def dump(target: Path, inputs: list[Path], corpus: int, pool: Path) -> None:
    from curation import readers

    if corpus:
        from curation.synthetic import load_pool, write_jsonl

        folder = Path(tempfile.gettempdir()) / "diff-record-stages"  # one path: outputs name their input
        folder.mkdir(exist_ok=True)
        path = folder / f"corpus-{corpus}.jsonl"
        write_jsonl(path, corpus, load_pool(pool), seed=0, invalid_rate=0.01)
        inputs = [*inputs, path]
    stages = _stages()
    result: dict[str, Any] = {}
    for path in inputs:
        key = path.name if "corpus-" in path.name else str(path.relative_to(REPO))
        rows = []
        for item in readers.read_path(path):
            row: dict[str, Any] = {"line": item.line, "index": item.index, "format": item.format,
                                   "error": item.error}
            if item.record is not None:
                row.update(_record_facts(item.record, stages))
            rows.append(row)
        result[key] = {"rows": rows, "pipeline": _pipeline_hash(path)}
        print(f"{key}: {len(rows)} records", file=sys.stderr)
    target.write_bytes(orjson.dumps(result))


def compare(before: Path, after: Path, limit: int = 20) -> int:
    a, b = orjson.loads(before.read_bytes()), orjson.loads(after.read_bytes())
    differences = 0
    if sorted(a) != sorted(b):
        print(f"inputs differ: {sorted(set(a) ^ set(b))}")
        differences += 1
    for key in sorted(set(a) & set(b)):
        if a[key]["pipeline"] != b[key]["pipeline"]:
            differences += 1
            print(f"{key}: curate run outputs differ: {a[key]['pipeline']} != {b[key]['pipeline']}")
        rows_a, rows_b = a[key]["rows"], b[key]["rows"]
        if len(rows_a) != len(rows_b):
            differences += 1
            print(f"{key}: {len(rows_a)} records before, {len(rows_b)} after")
        for n, (ra, rb) in enumerate(zip(rows_a, rows_b, strict=False)):
            for field in sorted(set(ra) | set(rb)):
                if ra.get(field) != rb.get(field):
                    differences += 1
                    if differences <= limit:
                        print(f"{key} record {n} {field}:\n  before {str(ra.get(field))[:300]}\n"
                              f"  after  {str(rb.get(field))[:300]}")
    total = sum(len(v["rows"]) for v in b.values())
    print(f"{len(b)} inputs, {total:,} records: {differences} difference(s)")
    return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("target", type=Path)
    d.add_argument("inputs", type=Path, nargs="*")
    d.add_argument("--corpus", type=int, default=20_000, help="synthetic records to add (0: none)")
    d.add_argument("--pool", type=Path, default=POOL, help="sentence pool (default: ../shared, beside the repo)")
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.target, [p.resolve() for p in args.inputs] or _default_inputs(), args.corpus, args.pool)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    raise SystemExit(main())
