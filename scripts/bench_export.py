"""Benchmark: exporting a run folder vs reading it.

Generates a synthetic run folder (default 1,000,000 conversations, in a temp dir that is deleted after),
then times, on the same files:

  1. a plain orjson line loop over the split files (the floor for anything that parses every record),
  2. our readers (curation.readers.read_path: format recognition + conversion to canonical records),
  3. `export_run(..., ["openai"])` (one check pass + one write pass),
  4. `export_run(..., ["hf"])` (check + parquet + save_to_disk + card), unless --no-hf.

With ``--executor processes`` (or ray) the check-and-stage pass runs on workers whatever the size; under
``auto`` only splits of ``MIN_PARALLEL_BYTES`` (64 MB) and more do. CPU counts this process and its workers.

Usage: python scripts/bench_export.py [--n 1000000] [--no-hf] [--keep DIR] [--executor KIND] [--workers N]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

import orjson

WORDS = (
    "the drone fly altitude report weather please could you help me with my order refund account password reset "
    "schedule meeting tomorrow python function error list sort file upload translate french summary article"
).split()


def synthetic_run(run_dir: Path, n: int, seed: int = 7) -> int:
    """A run folder with n conversations (90/10 train/validation), metadata as the pipeline writes it."""
    rng = random.Random(seed)
    (run_dir / "splits").mkdir(parents=True)
    total = 0
    with (
        open(run_dir / "splits" / "train.jsonl", "wb") as train,
        open(run_dir / "splits" / "validation.jsonl", "wb") as validation,
    ):
        for i in range(n):
            turns = rng.choice((1, 1, 2))
            messages = [{"role": "system", "content": "You are a helpful assistant."}] if i % 3 == 0 else []
            for _ in range(turns):
                messages.append({"role": "user", "content": " ".join(rng.choices(WORDS, k=rng.randint(6, 24)))})
                messages.append(
                    {"role": "assistant", "content": " ".join(rng.choices(WORDS, k=rng.randint(10, 40))), "weight": 1}
                )
            split = "validation" if i % 10 == 9 else "train"
            record = {
                "id": f"r{i:07d}",
                "messages": messages,
                "metadata": {
                    "source": {"path": "synthetic.jsonl", "line": i + 1, "index": i, "format": "openai"},
                    "language": "en",
                    "tokens": 20 + 45 * turns,  # as the tokens stage leaves it (counted for report.json's model)
                    "split": split,
                },
            }
            line = orjson.dumps(record) + b"\n"
            total += len(line)
            (validation if split == "validation" else train).write(line)
    (run_dir / "report.json").write_bytes(orjson.dumps({"records_in": n, "records_out": n, "model": "gpt-4o-mini"}))
    (run_dir / "rejects.jsonl").write_bytes(b"")
    return total


def _cpu_seconds() -> float:
    """User + system CPU of this process and of its finished children (the export workers)."""
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF,
                                                                          resource.RUSAGE_CHILDREN)))


def timed(label: str, fn: object) -> float:
    cpu = _cpu_seconds()
    started = time.perf_counter()
    result = fn()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    print(f"{label:<44} {seconds:8.2f} s wall {_cpu_seconds() - cpu:8.2f} s cpu   {result}", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--no-hf", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="write the run folder here and keep it")
    parser.add_argument("--executor", default="auto", help="auto, inprocess, processes or ray (as `curate export`)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    args = parser.parse_args()

    from curation import run_folder
    from curation.exporters import export_run
    from curation.readers import read_path

    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-export-"))
    run_dir = base / "run"
    try:
        started = time.perf_counter()
        size = synthetic_run(run_dir, args.n)
        run_folder.write_manifest(run_dir, {"tool": "curation"})  # sealed like a real run, so export accepts it
        print(f"generated {args.n:,} records, {size / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s")
        splits = sorted((run_dir / "splits").glob("*.jsonl"))

        def plain() -> str:
            n = 0
            for path in splits:
                with open(path, "rb") as fh:
                    for line in fh:
                        orjson.loads(line)
                        n += 1
            return f"{n:,} records"

        def readers() -> str:
            n = sum(1 for path in splits for item in read_path(path) if item.record is not None)
            return f"{n:,} records"

        def export_openai() -> str:
            result = export_run(run_dir, ["openai"], executor=args.executor, workers=args.workers)
            return f"check {result.seconds['check:sft']:.1f} s + write {result.seconds['openai/sft']:.1f} s"

        def export_hf() -> str:
            result = export_run(run_dir, ["hf"], executor=args.executor, workers=args.workers)
            return f"check {result.seconds['check:sft']:.1f} s + write {result.seconds['hf/sft']:.1f} s"

        t_plain = timed("read: plain orjson line loop", plain)
        t_readers = timed("read: curation.readers.read_path", readers)
        t_openai = timed("export: openai (check + write)", export_openai)
        t_hf = None if args.no_hf else timed("export: hf (check + parquet + save_to_disk)", export_hf)
        print()
        print(f"openai export / readers read:     {t_openai / t_readers:.2f}x  (target < 1)")
        print(f"openai export / plain orjson read: {t_openai / t_plain:.2f}x")
        if t_hf is not None:
            print(f"hf export / readers read:         {t_hf / t_readers:.2f}x")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
