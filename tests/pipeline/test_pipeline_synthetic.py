"""The pipeline on the synthetic corpus: conservation, and dedup recall/precision against the planted truth."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from curation.config import load_config
from curation.pipeline.runner import run_pipeline
from curation.synthetic import load_pool, write_jsonl


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path):
    folder = tmp_path_factory.mktemp("synthetic")
    corpus = folder / "corpus.jsonl"
    truth = write_jsonl(corpus, 4000, load_pool(shared_dir / "data" / "sentences" / "pool.json"), seed=3,
                        invalid_rate=0.02)
    config = load_config(None, values={"inputs": [str(corpus)], "out": str(folder / "run"), "export.formats": [],
                                       "runner.progress": False, "quality.enabled": False})
    return truth, run_pipeline(config, quiet=True)


def _lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_every_synthetic_record_lands_once(synthetic_run) -> None:
    truth, result = synthetic_run
    splits = {p.stem: _lines(p) for p in (result.run_dir / "splits").glob("*.jsonl")}
    rejects = _lines(result.run_dir / "rejects.jsonl")
    ids = [r["id"] for recs in splits.values() for r in recs] + [r["id"] for r in rejects]
    assert result.records_in == truth["n"] == len(ids) == len(set(ids))
    # Every planted invalid record is rejected at ingest or validation, never kept.
    invalid_ids = {f"syn-{int(i):07d}" for i in truth["invalid"]}
    kept = {r["id"] for recs in splits.values() for r in recs}
    assert not invalid_ids & kept
    stages = Counter(r["stage"] for r in rejects)
    assert stages["ingest"] + stages["validate"] >= len(truth["invalid"])


def test_planted_duplicates_are_caught_and_distinct_records_kept(synthetic_run) -> None:
    truth, result = synthetic_run
    reason = {r["id"]: r["reason"] for r in _lines(result.run_dir / "rejects.jsonl")}
    duplicate = ("exact_duplicate", "near_duplicate")
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for index, (original, kind) in truth["copies"].items():
        if reason.get(f"syn-{original:07d}") not in (None, *duplicate) or \
                reason.get(f"syn-{int(index):07d}") not in (None, *duplicate):
            continue  # original or copy was filtered before dedup (e.g. a full-width variant reads as a template)
        lang = truth["language"][int(index)]
        bucket = kind if kind != "near" else f"near/{lang if lang in ('en', 'zh') else 'other'}"
        total[bucket] += 1
        caught[bucket] += reason.get(f"syn-{int(index):07d}") in duplicate
    assert caught["exact"] == total["exact"] > 50
    assert caught["variant"] == total["variant"] > 50
    for bucket in ("near/en", "near/zh"):
        assert total[bucket] > 20 and caught[bucket] / total[bucket] >= 0.95, (bucket, caught, total)
    originals = {o for o, _ in truth["copies"].values()}
    distinct = [i for i in range(truth["n"]) if i not in truth["copies"] and i not in originals
                and i not in truth["invalid"]]
    false_drops = sum(reason.get(f"syn-{i:07d}") in duplicate for i in distinct)
    assert false_drops < 0.005 * len(distinct)
