"""Before/after check and CPU timing of the quality stage and the dedup signatures (exact key + MinHash).

    PYTHONPATH=<old checkout> python scripts/diff_quality_signatures.py dump /tmp/old.pkl
    PYTHONPATH=<new checkout> python scripts/diff_quality_signatures.py dump /tmp/new.pkl
    python scripts/diff_quality_signatures.py compare /tmp/old.pkl /tmp/new.pkl
    python scripts/diff_quality_signatures.py time [--n 20000]

``dump`` runs every record of the synthetic benchmark corpus (``--n``, seed 0, as bench_executors writes it),
of every real file under tests/data/real and of the labelled set (tests/data/labelled/checks.jsonl, one
assistant turn each) through the quality stage under three configs (defaults; every check ``flag``; every
check ``drop`` with bracket slots counted as placeholders), raw and after the normalise stage, and records the
verdict (reason, detail), ``metadata["quality"]`` and ``metadata["flags"]``; then the exact text, near text
(shared lines removed as the runner does), exact key and MinHash signature of every record. ``compare`` says
whether two dumps are equal and shows the first differences. ``time`` prints µs of CPU (process_time) per
record of the quality stage and of the signatures step (the runner's calls, in its 512-record batches),
and of the floor kernel (``text_signatures`` of the joined message texts, as bench_pipeline.py measures it),
best of ``--repeat`` passes (the machine is shared; the minimum is the least disturbed).
"""

from __future__ import annotations

import argparse
import copy
import gc
import pickle
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
POOL = REPO.parent / "shared" / "data" / "sentences" / "pool.json"
if not POOL.exists():
    POOL = Path("/work/shared/data/sentences/pool.json")
REAL = REPO / "tests" / "data" / "real"
LABELLED = REPO / "tests" / "data" / "labelled" / "checks.jsonl"
BATCH = 512  # the runner's batch size for inputs under 64 MB


def corpus_records(n: int) -> list[dict[str, Any]]:
    """The benchmark corpus as the runner's readers turn it into records (invalid lines left out)."""
    from curation.readers import read_path
    from curation.synthetic import load_pool, write_jsonl

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.jsonl"
        write_jsonl(path, n, load_pool(POOL), seed=0, invalid_rate=0.01)
        return [item.record for item in read_path(path) if item.record is not None]


def real_records() -> dict[str, list[dict[str, Any]]]:
    from curation.readers import read_path

    out: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(REAL.rglob("*")):
        if path.is_file() and path.name != "README.md":
            out[str(path.relative_to(REPO))] = [item.record for item in read_path(path) if item.record is not None]
    return out


def labelled_records() -> list[dict[str, Any]]:
    import json

    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"messages": [{"role": "user", "content": "Reply, please."}, {"role": "assistant", "content": r["text"]}]}
            for r in rows]


def stages() -> dict[str, Any]:
    from curation.pipeline.stages.quality import CHECKS, QualityConfig, QualityStage

    return {
        "default": QualityStage(),
        "flag_all": QualityStage(QualityConfig(**{c: "flag" for c in CHECKS})),
        "drop_all": QualityStage(QualityConfig(**{c: "drop" for c in CHECKS}, bracket_placeholders=True)),
    }


def normalised(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from curation.pipeline.stages.normalise import NormaliseStage

    stage = NormaliseStage()
    out = []
    for record in copy.deepcopy(records):
        if stage.process(record) is None:
            out.append(record)
    return out


def _outcome(record: dict[str, Any], drop: Any) -> tuple[Any, Any, Any]:
    meta = record.get("metadata") or {}
    return (None if drop is None else (drop.reason, drop.detail)), meta.get("quality"), meta.get("flags")


def quality_results(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Per config, the outcome of every record through ``process`` and through ``process_batch`` (what the
    runner calls, in its batches)."""
    out: dict[str, list[Any]] = {}
    for name, stage in stages().items():
        rows = []
        for record in copy.deepcopy(records):
            try:
                rows.append(_outcome(record, stage.process(record)))
            except Exception as exc:  # noqa: BLE001 - an exception is a result to compare too
                rows.append((("raised", type(exc).__name__), None, None))
        out[name] = rows
        batched = copy.deepcopy(records)
        rows = []
        for lo in range(0, len(batched), BATCH):
            batch = batched[lo : lo + BATCH]
            rows.extend(_outcome(r, d) for r, d in zip(batch, stage.process_batch(batch), strict=True))
        out[f"{name}_batch"] = rows
    return out


def signature_results(records: list[dict[str, Any]]) -> dict[str, Any]:
    from curation.dedup import text as dedup_text
    from curation.dedup.boilerplate import shared_lines, without_shared_lines
    from curation.dedup.minhash import text_signatures

    shared = frozenset(shared_lines(records[:1000], 0.2))
    exact = [dedup_text.exact_text(r) for r in records]
    near = [without_shared_lines(dedup_text.near_text(r), shared) for r in records]
    keys = dedup_text.exact_keys(exact)
    single = [dedup_text.exact_key(t) for t in exact[:300]]
    sigs = text_signatures(near, shingle_size=3) if near else None
    return {"shared": sorted(shared), "exact": exact, "near": near, "keys": keys, "single_keys": single,
            "sigs": None if sigs is None else sigs.tobytes()}


def dump(path: Path, n: int) -> None:
    import curation

    print(f"curation from {curation.__file__}", file=sys.stderr)
    sets = {"corpus": corpus_records(n), **real_records(), "labelled": labelled_records()}
    result: dict[str, Any] = {}
    for name, records in sets.items():
        norm = normalised(records)
        result[name] = {"quality_raw": quality_results(records), "quality_normalised": quality_results(norm),
                        "signatures": signature_results(norm)}
        print(f"{name}: {len(records)} records", file=sys.stderr)
    path.write_bytes(pickle.dumps(result))


def compare(old_path: Path, new_path: Path) -> int:
    old, new = pickle.loads(old_path.read_bytes()), pickle.loads(new_path.read_bytes())
    bad = 0
    if set(old) != set(new):
        print("different sets:", set(old) ^ set(new))
        return 1
    for name in old:
        for part in old[name]:
            a, b = old[name][part], new[name][part]
            for key in a:
                if a[key] != b[key]:
                    bad += 1
                    rows = [(i, x, y) for i, (x, y) in enumerate(zip(a[key], b[key], strict=False)) if x != y]
                    print(f"DIFF {name} {part} {key}: {len(rows)} rows differ" if isinstance(a[key], list)
                          else f"DIFF {name} {part} {key}")
                    for row in rows[:3] if isinstance(a[key], list) else []:
                        print("   ", repr(row)[:400])
        count = len(old[name]["quality_raw"]["default"])
        print(f"{name}: {count} records {'same' if not bad else ''}")
    print("IDENTICAL" if not bad else f"{bad} differences")
    return 1 if bad else 0


def _best(repeat: int, fn: Callable[[], None]) -> float:
    gc.collect()
    gc.freeze()  # the corpus and its copies out of the collector's way: a full collection over them is noise
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def timing(n: int, repeat: int) -> None:
    from curation.dedup import text as dedup_text
    from curation.dedup.boilerplate import without_shared_lines
    from curation.dedup.minhash import text_signatures
    from curation.pipeline.stages.quality import QualityStage

    records = normalised(corpus_records(n))
    count = len(records)
    stage = QualityStage()
    copies = [copy.deepcopy(records) for _ in range(repeat)]

    def quality() -> None:  # as the runner calls it
        records = copies.pop()
        for lo in range(0, count, BATCH):
            stage.process_batch(records[lo : lo + BATCH])

    q = _best(repeat, quality)
    text_signatures(["warm up"], shingle_size=3)
    shared: frozenset[int] = frozenset()

    def signatures() -> None:
        for lo in range(0, count, BATCH):
            batch = records[lo : lo + BATCH]
            exact = [dedup_text.exact_text(r) for r in batch]
            near = [without_shared_lines(dedup_text.near_text(r), shared) for r in batch]
            dedup_text.exact_keys(exact)
            text_signatures(near, shingle_size=3)

    s = _best(repeat, signatures)
    texts = ["\n".join(str(m.get("content")) for m in r["messages"] if isinstance(m, dict)) for r in records]
    f = _best(repeat, lambda: text_signatures(texts, shingle_size=3))
    per = 1e6 / count
    print(f"{count} records, best of {repeat}: quality {q * per:.1f} us, signatures {s * per:.1f} us, "
          f"floor minhash_3_shingles {f * per:.1f} us per record (CPU)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("path", type=Path)
    d.add_argument("--n", type=int, default=20_000)
    c = sub.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    t = sub.add_parser("time")
    t.add_argument("--n", type=int, default=20_000)
    t.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.path, args.n)
        return 0
    if args.command == "compare":
        return compare(args.old, args.new)
    timing(args.n, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
