"""Phase-1 cost per executor on one synthetic corpus: wall, CPU per record by stage (process_time) vs wall.

    python scripts/bench_executors.py --n 20000 [--executors inprocess,processes,ray] [--pool PATH]

Runs the same config under each executor (ray: a local Ray started for the run), checks the outputs are
byte-identical, and prints per-stage CPU and wall microseconds per input record from each manifest.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
POOL = REPO.parent / "shared" / "data" / "sentences" / "pool.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--executors", default="inprocess,processes,ray")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", type=Path, default=POOL)
    args = parser.parse_args()
    from curation.config import load_config
    from curation.pipeline.runner import run_pipeline
    from curation.synthetic import load_pool, write_jsonl

    tmp = Path(tempfile.mkdtemp(prefix="bench-executors-"))
    corpus = tmp / "corpus.jsonl"
    write_jsonl(corpus, args.n, load_pool(args.pool), seed=0, invalid_rate=0.01)
    first: dict[str, bytes] = {}
    for kind in args.executors.split(","):
        out = tmp / kind
        config = load_config(None, values={"inputs": [str(corpus)], "out": str(out), "export.formats": [],
                                           "runner.executor": kind, "runner.workers": args.workers,
                                           "runner.progress": False})
        t0 = time.perf_counter()
        result = run_pipeline(config, quiet=True)
        wall = time.perf_counter() - t0
        timing = orjson.loads((out / "manifest.json").read_bytes())["timing"]
        cpu = sum(timing["stage_cpu_seconds"].values())
        print(f"{kind:<10} {result.records_in:,} records: wall {wall:.1f}s ({wall / args.n * 1e6:.0f} us/record), "
              f"stage CPU {cpu:.1f}s ({cpu / args.n * 1e6:.0f} us/record)")
        for stage in sorted(timing["stage_cpu_seconds"], key=lambda s: -timing["stage_cpu_seconds"][s]):
            c, w = timing["stage_cpu_seconds"][stage], timing["stage_wall_seconds"][stage]
            print(f"    {stage:<14} cpu {c / args.n * 1e6:7.1f} us  wall {w / args.n * 1e6:7.1f} us")
        files = {n: (out / n).read_bytes() for n in ("splits/train.jsonl", "splits/validation.jsonl",
                                                     "rejects.jsonl", "report.json")}
        if first:
            same = all(first[n] == files[n] for n in files)
            print(f"    outputs byte-identical to {args.executors.split(',')[0]}: {same}")
        else:
            first = files
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
