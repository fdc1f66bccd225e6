"""Benchmark dedup on synthetic corpora: speed, memory, recall per kind and language, false drops.

    python scripts/bench_dedup.py --sizes 100000 1000000 --peer-sample 20000 --out /tmp/bench_dedup.json

The corpus comes from ``curation.synthetic`` over ``../shared/data/sentences/pool.json`` (never committed).
The peers' plain approach (datasketch ``MinHash.update`` per whitespace 5-word shingle, ``MinHashLSH`` at
0.8, no verification) runs on the first ``--peer-sample`` records for a throughput and recall comparison,
and datasketch's ``MinHashLSH`` is also fed *our* signatures to compare the LSH step alone.
CPU seconds (``process_time``) are reported beside wall seconds: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from curation.dedup.config import NearDedupConfig
from curation.dedup.minhash import text_signatures
from curation.dedup.near import exact_duplicates, find_clusters
from curation.dedup.text import dedup_text, exact_key
from curation.synthetic import iter_corpus, load_pool

POOL = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentences" / "pool.json"


class Timer:
    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def lap(self) -> dict[str, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        out = {"wall_s": round(wall - self.wall, 2), "cpu_s": round(cpu - self.cpu, 2)}
        self.wall, self.cpu = wall, cpu
        return out


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def build(n: int, pool: dict[str, list[str]], seed: int) -> tuple[list[str], list[str], dict[int, tuple[int, str]]]:
    texts: list[str] = []
    langs: list[str] = []
    copies: dict[int, tuple[int, str]] = {}
    for index, (record, lang, copy_of, _) in enumerate(iter_corpus(n, pool, seed)):
        texts.append(dedup_text(record))
        langs.append(lang)
        if copy_of is not None:
            copies[index] = copy_of
    return texts, langs, copies


def score(
    n: int, langs: list[str], copies: dict[int, tuple[int, str]], dup_of: np.ndarray, cluster: np.ndarray | None
) -> dict[str, Any]:
    """Recall per kind (near copies per language group) and false drops of distinct records."""
    caught: dict[str, list[bool]] = {}
    for i, (original, kind) in copies.items():
        if cluster is None:  # peers: any drop of the copy counts
            hit = bool(dup_of[i] >= 0)
        else:
            hit = bool(dup_of[i] >= 0 and (cluster[i] == cluster[original] or dup_of[i] == original))
        group = kind if kind != "near" else f"near_{langs[i] if langs[i] in ('en', 'zh', 'ko') else 'other'}"
        caught.setdefault(group, []).append(hit)
    distinct = n - len(copies)
    false = sum(1 for i in range(n) if i not in copies and dup_of[i] >= 0)
    return {
        "recall": {g: round(float(np.mean(v)), 4) for g, v in sorted(caught.items())},
        "copies": {g: len(v) for g, v in sorted(caught.items())},
        "false_drops": false,
        "distinct": distinct,
        "false_drop_rate": round(false / max(distinct, 1), 5),
    }


def run_ours(texts: list[str], langs: list[str], copies: dict[int, tuple[int, str]]) -> dict[str, Any]:
    cfg = NearDedupConfig()
    bands, rows = cfg.lsh_params()
    n = len(texts)
    timer = Timer()
    exact = exact_duplicates([exact_key(t) for t in texts])
    t_exact = timer.lap()
    sigs = text_signatures(texts, shingle_size=cfg.shingle_size, num_perm=cfg.num_perm, seed=cfg.seed)
    t_sig = timer.lap()
    near = find_clusters(sigs, threshold=cfg.threshold, bands=bands, rows=rows, active=exact < 0)
    t_lsh = timer.lap()
    # dropped by exact or near dedup; an exact copy joins its exact survivor's near cluster, so a copy
    # counts as caught when it lands in its original's cluster (or its survivor is the original)
    dup_of = np.where(exact >= 0, exact, near.duplicate_of)
    cluster = np.where(exact >= 0, near.cluster[np.maximum(exact, 0)], near.cluster)
    cluster = np.where(cluster < 0, -np.arange(n) - 2, cluster)  # singletons: unique negative ids
    result = score(n, langs, copies, dup_of, cluster)
    result.update(
        {
            "records": n,
            "params": {
                "k": cfg.shingle_size,
                "num_perm": cfg.num_perm,
                "threshold": cfg.threshold,
                "bands": bands,
                "rows": rows,
            },  # fmt: skip
            "exact_keys": t_exact,
            "signatures": t_sig,
            "signatures_per_s_cpu": round(n / max(t_sig["cpu_s"], 1e-9)),
            "lsh_verify_cluster": t_lsh,
            "candidate_pairs": near.candidate_pairs,
            "verified_pairs": near.verified_pairs,
            "signature_mb": round(sigs.nbytes / 2**20, 1),
            "peak_rss_mb": peak_rss_mb(),
        }
    )
    return result, sigs  # type: ignore[return-value]


def run_datasketch_lsh(sigs: np.ndarray, limit: int) -> dict[str, Any]:
    """datasketch.MinHashLSH fed our signatures one by one (the LSH step alone), for comparison."""
    from datasketch import LeanMinHash, MinHashLSH

    cfg = NearDedupConfig()
    bands, rows = cfg.lsh_params()
    sample = sigs[:limit]
    timer = Timer()
    lsh = MinHashLSH(num_perm=cfg.num_perm, params=(bands, rows))
    for i, sig in enumerate(sample):
        m = LeanMinHash(seed=cfg.seed, hashvalues=sig, scheme="affine32")
        lsh.insert(i, m, check_duplication=False)
    t_insert = timer.lap()
    for sig in sample:
        lsh.query(LeanMinHash(seed=cfg.seed, hashvalues=sig, scheme="affine32"))
    t_query = timer.lap()
    timer.lap()
    find_clusters(sample, threshold=cfg.threshold, bands=bands, rows=rows)
    return {"records": len(sample), "datasketch_insert": t_insert, "datasketch_query": t_query, "ours": timer.lap()}


def run_peer(texts: list[str], langs: list[str], copies: dict[int, tuple[int, str]]) -> dict[str, Any]:
    """The plain approach from the datasketch README: MinHash.update per 5-word shingle, MinHashLSH 0.8."""
    from datasketch import MinHash, MinHashLSH

    n = len(texts)
    timer = Timer()
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    dup_of = np.full(n, -1, dtype=np.int64)
    for i, text in enumerate(texts):
        words = text.split()
        m = MinHash(num_perm=128)
        for j in range(max(1, len(words) - 4)):
            m.update(" ".join(words[j : j + 5]).encode("utf-8"))
        found = lsh.query(m)
        if found:
            dup_of[i] = min(found)
        else:
            lsh.insert(i, m)
    elapsed = timer.lap()
    sub = {i: v for i, v in copies.items() if i < n}
    return {"records": n, "time": elapsed, "records_per_s_cpu": round(n / max(elapsed["cpu_s"], 1e-9)),
            **score(n, langs[:n], sub, dup_of, None)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--peer-sample", type=int, default=20_000)
    parser.add_argument("--pool", type=Path, default=POOL)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    pool = load_pool(args.pool)
    report: dict[str, Any] = {}
    for n in args.sizes:
        timer = Timer()
        texts, langs, copies = build(n, pool, args.seed)
        report[f"corpus_{n}"] = {"build": timer.lap(), "text_mb": round(sum(map(len, texts)) / 1e6, 1)}
        ours, sigs = run_ours(texts, langs, copies)
        report[f"ours_{n}"] = ours
        print(json.dumps({f"ours_{n}": ours}), file=sys.stderr)
        if n == args.sizes[0] and args.peer_sample:
            report["lsh_step_only"] = run_datasketch_lsh(sigs, args.peer_sample * 5)
            report["peer_datasketch_plain"] = run_peer(texts[: args.peer_sample], langs, copies)
        del texts, sigs
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
