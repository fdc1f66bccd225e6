"""Peak memory and CPU of the global dedup steps alone, on synthetic keys: near dedup (``find_clusters``) on
memory-mapped MinHash signatures, exact dedup (``ExactDedupStage``) on 16-byte keys, and balance + split on
1M rows of strata, group keys and clusters.

    python scripts/bench_near_memory.py --n 1000000 --dir /tmp/near_bench
    python scripts/bench_near_memory.py --n 1000000 --dir /tmp/near_bench --in-memory --keys list
    python scripts/bench_near_memory.py --n 1000000 --dir /tmp/near_bench --ray --skip exact --skip split

The signatures (n x 128 uint32, random, ~17% planted near copies at 0-40 changed slots of 128, i.e. estimated
Jaccard >= 0.69, 0.5% empty rows) are written once to ``DIR/sig-N.u32`` and opened read-only as ``np.memmap``,
the way the runner hands them to near dedup; ``--in-memory`` loads them into an ndarray first (the baseline
then includes them). Each measurement runs in a fresh process: ``peak_above_base_mb`` is the process's peak
RSS (VmHWM) minus its RSS just before the call, CPU is ``time.process_time``. ``digest`` hashes the results
(duplicate_of, cluster, similarity) so two implementations can be compared on the same file.
Run it against another checkout with ``PYTHONPATH=/that/checkout`` to get the "before" numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

NUM_PERM = 128
_CHUNK = 65_536


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def generate(path: Path, n: int, seed: int) -> None:
    """Random signatures with planted near copies of earlier rows in the same chunk; written chunk by chunk."""
    rng = np.random.default_rng(seed)
    with path.open("wb") as fh:
        for a in range(0, n, _CHUNK):
            m = min(_CHUNK, n - a)
            block = rng.integers(0, 2**32 - 1, size=(m, NUM_PERM), dtype=np.uint32)
            copies = np.flatnonzero(rng.random(m) < 0.17)
            copies = copies[copies > 0]
            sources = (rng.random(len(copies)) * copies).astype(np.int64)  # an earlier row of the chunk
            block[copies] = block[sources]
            changed = rng.integers(0, 41, size=len(copies))
            for row, k in zip(copies.tolist(), changed.tolist(), strict=True):
                slots = rng.choice(NUM_PERM, size=k, replace=False)
                block[row, slots] = rng.integers(0, 2**32 - 1, size=k, dtype=np.uint32)
            block[rng.random(m) < 0.005] = np.uint32(0xFFFFFFFF)
            fh.write(block.tobytes())


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for arr in arrays:
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


def measure_near(path: Path, n: int, in_memory: bool, seed: int, on_ray: bool = False) -> dict[str, Any]:
    from curation.dedup.config import NearDedupConfig
    from curation.dedup.near import find_clusters

    sig: Any = np.memmap(path, dtype=np.uint32, mode="r", shape=(n, NUM_PERM))
    if in_memory:  # read, not mapped: copying from the map would leave its pages in the peak
        sig = np.fromfile(path, dtype=np.uint32).reshape(n, NUM_PERM)
    lengths = np.random.default_rng(seed).integers(10, 2000, size=n)
    bands, rows = NearDedupConfig().lsh_params()
    run: Any = find_clusters
    if on_ray:
        import ray

        from curation.dedup.near_ray import find_clusters_on_ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        run = find_clusters_on_ray
    base = _rss_mb("VmRSS")
    cpu, wall = time.process_time(), time.perf_counter()
    result = run(sig, threshold=0.7, bands=bands, rows=rows, keep="longest", lengths=lengths)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"step": "near_dedup" + (" on ray (driver)" if on_ray else ""), "n": n,
            "input": "ndarray" if in_memory else "memmap",
            "base_rss_mb": round(base, 1), "peak_rss_mb": round(_rss_mb("VmHWM"), 1),
            "peak_above_base_mb": round(_rss_mb("VmHWM") - base, 1), "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
            "rss_shmem_mb_at_end": round(_rss_mb("RssShmem"), 1),
            "candidate_pairs": result.candidate_pairs, "verified_pairs": result.verified_pairs,
            "duplicates": result.n_duplicates,
            "digest": _digest(result.duplicate_of, result.cluster, result.similarity)}


def measure_exact(n: int, keys_as: str, seed: int) -> dict[str, Any]:
    from curation.dedup.config import ExactDedupConfig
    from curation.pipeline.global_stages import ExactDedupStage, KeyTable

    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 2**63, size=(n, 2), dtype=np.uint64)
    dups = np.flatnonzero(rng.random(n) < 0.1)
    raw[dups] = raw[(rng.random(len(dups)) * dups).astype(np.int64)]
    keys: Any = raw.view("S16").reshape(n)
    keys = [bytes(raw[i].tobytes()) for i in range(n)] if keys_as == "list" else keys
    table = KeyTable(ids=[""] * n, exact_keys=keys, lengths=rng.integers(10, 2000, size=n), quality=np.zeros(n),
                     strata=[""] * n, groups=[()] * n)
    base = _rss_mb("VmRSS")
    cpu = time.process_time()
    decision = ExactDedupStage(ExactDedupConfig()).decide(table)
    cpu = time.process_time() - cpu
    dup_of = np.full(n, -1, dtype=np.int64)
    for idx, drop in decision.drops.items():
        dup_of[idx] = drop.duplicate_of
    return {"step": "exact_dedup", "n": n, "keys": keys_as, "base_rss_mb": round(base, 1),
            "peak_above_base_mb": round(_rss_mb("VmHWM") - base, 1), "cpu_s": round(cpu, 2),
            "duplicates": len(decision.drops), "digest": _digest(dup_of)}


def measure_split(n: int, seed: int) -> dict[str, Any]:
    """The split (+ balance when the checkout has it separately) on n rows: 3 strata, one group key per row
    shared by ~half the rows with one other row, 10% of rows in near-duplicate clusters of 2."""
    from curation.config import SplitConfig
    from curation.pipeline import global_stages as gs

    rng = np.random.default_rng(seed)
    strata = [("en", "fr", "de")[i % 3] for i in range(n)]
    group_ids = rng.integers(0, int(n * 0.75), size=n).tolist()
    groups = [(f"u:{g:x}",) for g in group_ids]
    table = gs.KeyTable(ids=[""] * n, exact_keys=[b""] * n, lengths=np.ones(n, dtype=np.int64), quality=np.zeros(n),
                        strata=strata, groups=groups)
    cluster = np.full(n, -1, dtype=np.int64)
    members = rng.choice(n, size=n // 10, replace=False)
    cluster[members] = np.arange(len(members)) // 2
    table.cluster = cluster
    config = SplitConfig(train=0.8, validation=0.1, test=0.1, stratify_by="language", max_per_stratum=n // 4)
    stages = [cls(config, seed) for cls in (getattr(gs, "BalanceStage", None), gs.SplitStage) if cls is not None]
    base = _rss_mb("VmRSS")
    cpu = time.process_time()
    dropped = 0
    assignment: Any = {}
    for stage in stages:
        decision = stage.decide(table)
        table.alive[list(decision.drops)] = False
        dropped += len(decision.drops)
        if decision.assignment is not None:
            assignment = decision.assignment
    cpu = time.process_time() - cpu
    names = {"train": 0, "validation": 1, "test": 2}
    codes = np.full(n, -1, dtype=np.int8)
    for row, split in assignment.items():
        codes[row] = names[split]
    return {"step": "balance+split", "n": n, "base_rss_mb": round(base, 1),
            "peak_above_base_mb": round(_rss_mb("VmHWM") - base, 1), "cpu_s": round(cpu, 2), "dropped": dropped,
            "digest": _digest(codes, table.alive)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/near_bench"))
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--in-memory", action="store_true", help="near dedup on an ndarray, not the memmap")
    parser.add_argument("--keys", choices=["array", "list"], default="array",
                        help="exact keys as an 'S16' array (the columnar table) or a list of bytes (the old table)")
    parser.add_argument("--ray", action="store_true", help="near dedup as Ray tasks (a local 2-CPU Ray); driver only")
    parser.add_argument("--skip", choices=["near", "exact", "split"], action="append", default=[])
    parser.add_argument("--child", choices=["near", "exact", "split"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = args.dir / f"sig-{args.n}-{args.seed}.u32"
    if args.child == "near":
        print(json.dumps(measure_near(path, args.n, args.in_memory, args.seed, args.ray)))
        return
    if args.child == "exact":
        print(json.dumps(measure_exact(args.n, args.keys, args.seed)))
        return
    if args.child == "split":
        print(json.dumps(measure_split(args.n, args.seed)))
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        generate(path, args.n, args.seed)
    for step in ("near", "exact", "split"):
        if step in args.skip:
            continue
        cmd = [sys.executable, __file__, "--child", step, "--n", str(args.n), "--dir", str(args.dir),
               "--seed", str(args.seed), "--keys", args.keys] + (["--in-memory"] if args.in_memory else []) + (
                   ["--ray"] if args.ray else [])
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ).stdout
        print(out.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
