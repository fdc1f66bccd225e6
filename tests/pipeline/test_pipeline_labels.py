"""KTO data end to end: `label: false` answers reach no SFT split and no export; kept on request for a
KTO export (TRL KTOTrainer's prompt/completion/label) that SFT exporters still skip."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from curation.config import load_config
from curation.exporters import ExportOptions, export_run
from curation.pipeline.finish import finish_run
from curation.pipeline.runner import run_pipeline

KTO = "hiyouga__LLaMA-Factory/kto_en_demo.first40.json"


def _lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()] if path.exists() else []


def _undesirable_ids(real_dir: Path) -> set[str]:
    from curation.readers import read_path

    raw = json.loads((real_dir / KTO).read_text())
    items = list(read_path(real_dir / KTO))
    return {item.record["id"] for item, row in zip(items, raw, strict=True) if row["label"] is False}


def _run(real_dir: Path, out: Path, **values: object):
    config = load_config(None, values={
        "inputs": [str(real_dir / KTO)], "out": str(out), "runner.progress": False, "runner.executor": "inprocess",
        "near_dedup.enabled": False, "language.enabled": False, "quality.enabled": False, **values,
    })
    result = run_pipeline(config, quiet=True)
    finish_run(result, config)
    return result


def test_undesirable_answers_reach_no_split_and_no_export(tmp_path: Path, real_dir: Path) -> None:
    result = _run(real_dir, tmp_path / "run", **{"export.formats": ["openai", "hf"]})
    run_dir = result.run_dir
    rejects = _lines(run_dir / "rejects.jsonl")
    labelled = [r for r in rejects if r["stage"] == "label"]
    assert len(labelled) == 15 and {r["reason"] for r in labelled} == {"undesirable_label"}
    assert {r["id"] for r in labelled} == _undesirable_ids(real_dir)
    bad = {r["record"]["messages"][-1]["content"] for r in labelled}  # the answers as normalised
    kept = [r for split in ("train", "validation") for r in _lines(run_dir / "splits" / f"{split}.jsonl")]
    assert len(kept) + len(rejects) == 40 and all(r["metadata"]["label"] is True for r in kept)
    exported = b"".join(p.read_bytes() for p in (run_dir / "exports").rglob("*") if p.is_file()).decode("utf-8",
                                                                                                         "replace")
    assert not [text for text in bad if json.dumps(text)[1:-1][:200] in exported]
    sft = run_dir / "exports/openai/sft"
    openai = [r for split in ("train", "validation") for r in _lines(sft / f"{split}.jsonl")]
    assert len(openai) == len(kept)
    from datasets import load_from_disk

    hf = load_from_disk(str(run_dir / "exports/hf/sft"))
    hf_ids = {row_id for split in hf for row_id in hf[split]["id"]}
    assert len(hf_ids) == len(kept) and not hf_ids & _undesirable_ids(real_dir)


def test_kept_for_kto_export_but_never_in_an_sft_export(tmp_path: Path, real_dir: Path) -> None:
    from datasets import load_from_disk

    result = _run(real_dir, tmp_path / "run", **{"export.formats": [], "labels.keep_undesirable": True})
    run_dir = result.run_dir
    kept = [r for split in ("train", "validation") for r in _lines(run_dir / "splits" / f"{split}.jsonl")]
    assert len(kept) == 40
    export_run(run_dir, ["openai"], ExportOptions())
    sft = run_dir / "exports/openai/sft"
    openai = [r for split in ("train", "validation") for r in _lines(sft / f"{split}.jsonl")]
    assert len(openai) == 25
    undesirable = _undesirable_ids(real_dir)
    bad = {r["messages"][-1]["content"] for r in kept if r["id"] in undesirable}
    assert len(bad) == 15 and all(r["metadata"]["label"] is False for r in kept if r["id"] in undesirable)
    assert not {m["content"] for r in openai for m in r["messages"]} & bad
    export_run(run_dir, ["hf"], ExportOptions(method="kto"))
    ds = load_from_disk(str(run_dir / "exports/hf/kto"))
    rows = [row for split in ds for row in ds[split]]
    assert sorted(ds["train"].column_names) == ["completion", "id", "label", "metadata", "prompt"]
    assert sum(not row["label"] for row in rows) == 15 and len(rows) == 40
    for row in rows:
        assert [m["role"] for m in row["completion"]] == ["assistant"]
        assert row["prompt"][-1]["role"] == "user"
        assert (row["completion"][0]["content"] in bad) == (not row["label"])


def test_kto_method_is_refused_by_sft_only_exporters(tmp_path: Path, real_dir: Path) -> None:
    from curation.exporters import ExportCheckError

    result = _run(real_dir, tmp_path / "run", **{"export.formats": []})
    with pytest.raises(ExportCheckError) as err:
        export_run(result.run_dir, ["openai"], ExportOptions(method="kto"))
    assert "method_mismatch" in str(err.value)
