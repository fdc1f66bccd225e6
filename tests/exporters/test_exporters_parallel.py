"""The two-process check-and-stage pass gives byte-identical files and identical issues."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_fixtures import sft_records, write_run

from curation.exporters import ExportOptions, export_run, parallel


def test_parallel_pass_matches_the_serial_one(tmp_path: Path, real_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = write_run(tmp_path / "run", sft_records(real_dir))
    formats = ["openai", "azure-openai", "mistral", "vertex-gemini"]
    options = ExportOptions(azure_bom=True, model="gpt-3.5-turbo-0613", skip_invalid=True)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 1 << 40)
    serial = export_run(run, formats, options)
    files = {p.relative_to(run): p.read_bytes() for p in sorted((run / "exports").rglob("*")) if p.is_file()}
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 8_000)  # many pieces per split
    assert len(parallel.byte_ranges(run / "splits/train.jsonl")) > 5
    par = export_run(run, formats, options)
    assert {p.relative_to(run): p.read_bytes() for p in sorted((run / "exports").rglob("*")) if p.is_file()} == files
    assert [i.to_dict() for i in par.issues] == [i.to_dict() for i in serial.issues]
    assert any(i.code == "over_token_limit" for i in par.issues)
