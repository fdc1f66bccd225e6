"""`curate inspect` and `curate run` share one judgement: on the same file and config they count the same
records under the same reason codes (inspect's ``rejected_by_code`` vs the run's ingest + validate rejects)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest

from curation.config import load_config
from curation.inspect import inspect_config, inspect_paths
from curation.pipeline.runner import run_pipeline
from curation.readers import expand_inputs

JUDGED_STAGES = ("ingest", "validate")


def _config(inputs: list[str], out: Path, **values: object):
    # Only the stages before and at validation decide these counts; the rest is switched off to keep it fast.
    return load_config(None, values={
        "inputs": inputs, "out": str(out), "export.formats": [], "runner.progress": False,
        "near_dedup.enabled": False, "exact_dedup.enabled": False, "language.enabled": False,
        "quality.enabled": False, "labels.enabled": False, "turns.enabled": False, **values,
    })


def _run_counts(config) -> dict[str, Counter[str]]:
    result = run_pipeline(config, quiet=True)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for line in (result.run_dir / "rejects.jsonl").read_bytes().splitlines():
        reject = orjson.loads(line)
        if reject["stage"] in JUDGED_STAGES or reject["reason"] == "over_token_limit":
            counts[reject["source"]["path"]][reject["reason"]] += 1
    return counts


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, real_dir: Path):
    out = tmp_path_factory.mktemp("judge") / "run"
    config = _config([str(real_dir)], out)
    return inspect_config(config, workers=1), _run_counts(config)


def test_every_real_file_gets_the_same_per_code_counts(both, real_dir: Path) -> None:
    report, run_counts = both
    files = [str(p) for p in expand_inputs([real_dir])]
    assert [f["path"] for f in report["files"]] == files
    for item in report["files"]:
        assert item["rejected_by_code"] == dict(run_counts.get(item["path"], {})), item["path"]
        assert sum(item["rejected_by_code"].values()) == item["invalid"], item["path"]
    # Not vacuous: several codes occur on the real files.
    assert Counter(report["rejected_by_code"]) == {"empty_content": 242, "unfilled_placeholder": 135,
                                                   "preference_side_not_answer": 4, "one_sided_ticket": 16}


def test_repairs_happen_before_validation_in_both(tmp_path: Path) -> None:
    """Customer is a user (normalise's role aliases), a zero-width-only reply is empty: in both commands."""
    path = tmp_path / "mixed.jsonl"
    rows = [
        {"messages": [{"role": "Customer", "content": "Where is my order?"},
                      {"role": "assistant", "content": "It ships tomorrow."}]},
        {"messages": [{"role": "user", "content": "Say nothing."}, {"role": "assistant", "content": "\u200b\u200b"}]},
        {"messages": [{"role": "Visitor", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]},
        "not an object",
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = inspect_paths([path], workers=1)
    assert report["rejected_by_code"] == {"data_type": 1, "empty_content": 1, "unrecognized_role": 1}
    assert report["valid"] == 1
    run = _run_counts(_config([str(path)], tmp_path / "run"))
    assert run[str(path)] == report["rejected_by_code"]
    # A config that turns the repair off changes both the same way.
    off = _config([str(path)], tmp_path / "run-off", **{"normalise.enabled": False})
    assert _run_counts(off)[str(path)] == inspect_config(off, workers=1)["rejected_by_code"] == {
        "data_type": 1, "unrecognized_role": 2}
