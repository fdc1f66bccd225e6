"""A size limit the data will break is predicted at start; the per-target cap meets it with a sample."""

from __future__ import annotations

from pathlib import Path

import orjson
from export_fixtures import sft_records, write_run

from curation.config import load_config
from curation.exporters import ExportOptions, export_run
from curation.exporters.limits import predict_limit_warnings


def test_predicted_over_limit_is_warned_before_work(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from curation.exporters.openai import OpenAIExporter

    data = tmp_path / "chats.jsonl"
    line = orjson.dumps({"messages": [{"role": "user", "content": "hi " * 50},
                                      {"role": "assistant", "content": "hello " * 50}]}) + b"\n"
    data.write_bytes(line * 2000)
    monkeypatch.setattr(OpenAIExporter, "max_file_bytes", 100_000)  # a small limit instead of 512 MB of data
    config = load_config(None, values={"inputs": [str(data)], "export.formats": ["openai", "hf"]})
    warnings = predict_limit_warnings(config)
    assert len(warnings) == 1 and warnings[0].startswith("openai: the train file will be about")
    assert "export.max_train_examples" in warnings[0] and "records fit" in warnings[0]
    capped = load_config(None, values={"inputs": [str(data)], "export.formats": ["openai"],
                                       "export.max_train_examples": {"openai": 100}})
    assert predict_limit_warnings(capped) == []


def test_cap_exports_a_deterministic_sample_and_lists_the_rest(tmp_path: Path, real_dir: Path) -> None:
    run = write_run(tmp_path / "run", sft_records(real_dir))
    n_train = sum(1 for _ in (run / "splits" / "train.jsonl").open())
    options = ExportOptions(max_train_examples={"openai": n_train // 2}, skip_invalid=True)
    result = export_run(run, ["openai"], options)
    folder = run / "exports" / "openai" / "sft"
    kept = (folder / "train.jsonl").read_bytes().splitlines()
    skipped = [orjson.loads(x) for x in (folder / "skipped.jsonl").read_bytes().splitlines()]
    capped = [s for s in skipped if s["rules"] == ["max_train_examples"]]
    invalid_train = [s for s in skipped if s["split"] == "train" and s["rules"] != ["max_train_examples"]]
    assert len(kept) + len(capped) + len(invalid_train) == n_train  # every train record once: kept or listed
    assert abs(len(kept) - n_train // 2) <= max(3, n_train // 5)
    assert any(i.code == "train_sampled" for i in result.warnings)
    again = export_run(run, ["openai"], options)
    assert (folder / "train.jsonl").read_bytes().splitlines() == kept and again.paths
