"""A synthetic run folder (splits, rejects, report, manifest) for demos, tests and the UI benchmark.

Deterministic for a given ``n`` and ``seed``. It exercises what the review UI shows: system prompts, tool
calls, several languages, flags, and every kind of reject including near-duplicate clusters.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from .. import run_folder
from ..records import dumps

LANGS = (("en", "How do I {} the {}?", "You can {} the {} like this."),
         ("fr", "Comment {} le {} ?", "Voici comment {} le {}."),
         ("zh", "我如何{}这个{}？", "你可以这样{}这个{}。"))  # fmt: skip
VERBS = ("sort", "merge", "parse", "print", "cache", "split", "fold", "encode", "render", "index")
NOUNS = ("list", "file", "table", "string", "graph", "matrix", "queue", "image", "report", "tree")
REASONS = ("too_long", "empty_assistant", "pii_detected", "language_filtered")


def _conversation(rng: random.Random, i: int) -> dict[str, Any]:
    lang, q, a = LANGS[0] if rng.random() < 0.7 else rng.choice(LANGS[1:])
    verb, noun = rng.choice(VERBS), rng.choice(NOUNS)
    messages: list[dict[str, Any]] = []
    if rng.random() < 0.5:
        messages.append({"role": "system", "content": "You are a helpful programming assistant."})
    messages.append({"role": "user", "content": q.format(verb, noun) + f" (case {i})"})
    if rng.random() < 0.15:
        call_id = f"call_{i}"
        messages.append({"role": "assistant", "tool_calls": [{"id": call_id, "type": "function", "function": {
            "name": "search_docs", "arguments": orjson.dumps({"query": f"{verb} {noun}"}).decode()}}]})
        messages.append({"role": "tool", "tool_call_id": call_id, "content": f"docs about {verb} {noun}"})
    messages.append({"role": "assistant", "content": a.format(verb, noun) + f" Step {i % 7} of the recipe."})
    flags = [f for f, p in (("short_answer", 0.1), ("url_in_text", 0.05)) if rng.random() < p]
    meta: dict[str, Any] = {
        "source": {"path": "data/chats.jsonl", "line": i + 1, "index": i, "format": "openai"},
        "language": lang, "tokens": 20 + (i % 50), "turns": len(messages),
    }  # fmt: skip
    if flags:
        meta["flags"] = flags
    return {"id": f"r{i:06d}", "messages": messages, "metadata": meta}


def write_synthetic_run(run_dir: str | Path, n: int = 200, seed: int = 0) -> Path:
    """Write a run folder of ``n`` records (about 80% kept) and return its path."""
    rng = random.Random(seed)
    run = Path(run_dir)
    (run / "splits").mkdir(parents=True, exist_ok=True)
    splits: dict[str, list[bytes]] = {"train": [], "validation": []}
    rejects: list[bytes] = []
    reasons: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    clusters: list[dict[str, Any]] = []
    survivor: dict[str, Any] | None = None
    for i in range(n):
        rec = _conversation(rng, i)
        roll = rng.random()
        if survivor is not None and roll < 0.08:
            # A near copy of the last survivor: same text, one word changed.
            dup = orjson.loads(orjson.dumps(survivor))
            dup["id"] = rec["id"]
            dup["messages"][-1]["content"] += " Indeed."
            cluster = survivor["metadata"]["cluster"]
            dup["metadata"]["cluster"] = cluster
            row = {"id": dup["id"], "stage": "near_dedup", "reason": "near_duplicate", "detail": "jaccard 0.91",
                   "duplicate_of": survivor["id"], "source": dup["metadata"]["source"], "record": dup}  # fmt: skip
            rejects.append(dumps(row))
            reasons["near_duplicate"] += 1
            next(c for c in clusters if c["id"] == cluster)["members"].append(dup["id"])
            continue
        if roll < 0.13:
            reason = REASONS[i % len(REASONS)]
            rejects.append(dumps({"id": rec["id"], "stage": "filters", "reason": reason, "detail": f"{reason} test",
                                  "source": rec["metadata"]["source"], "record": rec}))  # fmt: skip
            reasons[reason] += 1
            continue
        split = "validation" if rng.random() < 0.1 else "train"
        rec["metadata"]["split"] = split
        if rng.random() < 0.1:
            rec["metadata"]["cluster"] = f"c{i:06d}"
            clusters.append({"id": f"c{i:06d}", "members": [rec["id"]]})
            survivor = rec
        splits[split].append(dumps(rec))
        languages[rec["metadata"]["language"]] += 1
    for name, lines in splits.items():
        (run / "splits" / f"{name}.jsonl").write_bytes(b"".join(lines))
    (run / "rejects.jsonl").write_bytes(b"".join(rejects))
    kept = sum(len(v) for v in splits.values())
    clusters = [dict(c, size=len(c["members"])) for c in clusters if len(c["members"]) > 1]
    report = {
        "records_in": n, "records_out": kept, "rejected": len(rejects),
        "funnel": [
            {"stage": "read", "in": n, "out": n, "dropped": 0, "by_reason": {}, "seconds": 0.1},
            {"stage": "filters", "in": n, "out": n - sum(v for k, v in reasons.items() if k != "near_duplicate"),
             "dropped": sum(v for k, v in reasons.items() if k != "near_duplicate"),
             "by_reason": {k: v for k, v in reasons.items() if k != "near_duplicate"}, "seconds": 0.2},
            {"stage": "near_dedup", "in": kept + reasons["near_duplicate"], "out": kept,
             "dropped": reasons["near_duplicate"], "by_reason": {"near_duplicate": reasons["near_duplicate"]},
             "seconds": 0.3},
        ],
        "splits": {k: {"records": len(v), "tokens": 0, "languages": {}} for k, v in splits.items()},
        "reasons": dict(reasons.most_common()), "languages": dict(languages.most_common()),
        "duplicate_clusters": sorted(clusters, key=lambda c: -c["size"])[:20], "model": "gpt-4o-mini",
        "warnings": [],
    }  # fmt: skip
    (run / "report.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    manifest = {"tool": "curation", "config": {"seed": seed}, "config_hash": f"synthetic-{n}-{seed}", "inputs": [],
                "versions": {}}
    run_folder.write_manifest(run, manifest)  # sealed like a real run: export and the UI accept it
    return run
