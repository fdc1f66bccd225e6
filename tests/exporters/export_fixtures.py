"""Run folders for exporter and report tests, built from the real sample files through the readers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from curation import run_folder
from curation.readers import read_path

SFT_SOURCES: tuple[tuple[str, int], ...] = (
    ("openai__openai-cookbook/toy_chat_fine_tuning.jsonl", 5),  # no user turn; a 26,000-character reply
    ("openai__openai-cookbook/drone_training.jsonl", 24),  # tool_calls without content, tools, parallel_tool_calls
    ("hiyouga__LLaMA-Factory/glaive_toolcall_en_demo.json", 30),  # ShareGPT function_call/observation -> tools
    ("hiyouga__LLaMA-Factory/v1_sft_demo.jsonl", 30),  # typed content parts, loss_weight -> weight 0/1
)
PREFERENCE_SOURCE = ("anthropics__hh-rlhf/harmless-base_test.jsonl.gz", 40)


def read_real(real_dir: Path, name: str, limit: int) -> list[dict[str, Any]]:
    records = []
    for item in read_path(real_dir / name):
        if item.record is not None:
            records.append(item.record)
        if len(records) >= limit:
            break
    return records


def sft_records(real_dir: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, limit in SFT_SOURCES:
        out += read_real(real_dir, name, limit)
    return out


def preference_records(real_dir: Path) -> list[dict[str, Any]]:
    return read_real(real_dir, *PREFERENCE_SOURCE)


def write_run(run_dir: Path, records: list[dict[str, Any]], report: dict[str, Any] | None = None) -> Path:
    """A run folder as `curate run` writes it: every 8th record to validation, every 13th to test."""
    splits: dict[str, list[bytes]] = {"train": [], "validation": [], "test": []}
    languages: dict[str, dict[str, int]] = {s: {} for s in splits}
    sources: dict[str, dict[str, int]] = {s: {} for s in splits}
    for i, record in enumerate(records):
        split = "validation" if i % 8 == 7 else "test" if i % 13 == 12 else "train"
        meta = record.setdefault("metadata", {})
        meta["split"] = split
        meta.setdefault("language", "en")
        source = Path(meta.get("source", {}).get("path", "inline")).name
        languages[split][meta["language"]] = languages[split].get(meta["language"], 0) + 1
        sources[split][source] = sources[split].get(source, 0) + 1
        splits[split].append(orjson.dumps(record) + b"\n")
    (run_dir / "splits").mkdir(parents=True, exist_ok=True)
    for split, lines in splits.items():
        (run_dir / "splits" / f"{split}.jsonl").write_bytes(b"".join(lines))
    n = len(records)
    default_report = {
        "records_in": n + 7,
        "records_out": n,
        "rejected": 7,
        "funnel": [
            {
                "stage": "read",
                "in": n + 7,
                "out": n + 5,
                "dropped": 2,
                "by_reason": {"invalid_json": 2},
                "seconds": 0.01,
            },
            {
                "stage": "exact_dedup",
                "in": n + 5,
                "out": n,
                "dropped": 5,
                "by_reason": {"exact_duplicate": 5},
                "seconds": 0.02,
            },
        ],
        "splits": {
            s: {"records": len(lines), "languages": languages[s], "sources": sources[s]} for s, lines in splits.items()
        },
        "reasons": {"invalid_json": 2, "exact_duplicate": 5},
        "languages": {"en": n},
        "model": "gpt-4o-mini",
        "warnings": [],
    }
    (run_dir / "report.json").write_bytes(orjson.dumps(report if report is not None else default_report))
    (run_dir / "rejects.jsonl").write_bytes(b"")
    run_folder.write_manifest(run_dir, {"tool": "curation"})  # sealed like a real run, so export accepts it
    return run_dir
