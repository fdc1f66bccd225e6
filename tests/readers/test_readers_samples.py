"""The committed samples/ are what scripts/make_samples.py writes (deterministic), and the readers read them."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

from curation.readers import expand_inputs, read_path


def _load_script(repo_dir: Path):
    spec = importlib.util.spec_from_file_location("make_samples", repo_dir / "scripts" / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_samples_match_the_script(repo_dir: Path, tmp_path: Path) -> None:
    script = _load_script(repo_dir)
    written = script.write_samples(tmp_path)
    for path in written:
        committed = repo_dir / "samples" / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale: run scripts/make_samples.py"
    again = script.write_samples(tmp_path / "again")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in written]


def test_samples_are_small_messy_and_readable(repo_dir: Path) -> None:
    paths = expand_inputs([repo_dir / "samples" / "raw"])
    assert [p.name for p in paths] == ["alpaca.jsonl.gz", "preferences.jsonl", "sharegpt.json", "support_chats.jsonl"]
    items = {p.name: list(read_path(p)) for p in paths}
    formats = {name: Counter(i.format for i in its) for name, its in items.items()}
    assert formats == {
        "alpaca.jsonl.gz": {"alpaca": 37},
        "preferences.jsonl": {"preference": 22},
        "sharegpt.json": {"sharegpt": 21},
        "support_chats.jsonl": {"openai": 91},
    }
    errors = [(n, i.line, i.error[0]) for n, its in items.items() for i in its if i.error]
    assert errors == [("support_chats.jsonl", 21, "not_json")]
    total = sum(len(v) for v in items.values())
    assert total <= 300
    assert sum(p.stat().st_size for p in (repo_dir / "samples").rglob("*") if p.is_file()) <= 300_000
    support = [i.record for i in items["support_chats.jsonl"] if i.record]
    texts = [m.get("content") or "" for r in support for m in r["messages"]]
    assert any("{{name}}" in t for t in texts) and any("sk-proj-" in t for t in texts)
    assert any("@nimbusmail.net" in t for t in texts)
    assert any(m.get("weight") == 2 for r in support for m in r["messages"])
    assert any(m["role"] == "bot" for r in support for m in r["messages"])
    assert sum(1 for r in support if "tools" in r) >= 10
    ids = Counter(r["id"] for r in support)
    assert max(ids.values()) == 2  # exact duplicates share their content-hash id
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts)  # Chinese
    assert any("é" in t for t in texts)  # French
    bench = list(read_path(repo_dir / "samples" / "eval" / "benchmark.jsonl"))
    questions = {i.record["messages"][0]["content"] for i in bench}
    raw_prompts = {
        m.get("content") for its in items.values() for i in its if i.record for m in i.record.get("messages", [])
    }
    assert {"What is the capital of Canada?", "How do I reset my password?"} <= questions & raw_prompts
