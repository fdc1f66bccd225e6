"""Every JSONL export reads back through our own readers with nothing refused: a team that re-curates a file
it exported (or another tool's export of the same provider format) must not see it rejected."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_fixtures import sft_records, write_run

from curation.checks import check_record, has_error
from curation.exporters import ExportOptions, export_run
from curation.readers import read_path

JSONL_TARGETS = ["openai", "azure-openai", "bedrock-claude", "bedrock-nova", "mistral", "together", "vertex-gemini"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, real_dir: Path) -> Path:
    records = [r for r in sft_records(real_dir) if not has_error(check_record(r))]  # valid going in
    # reasoning on a few answers, so the exporters that write it (bedrock-nova's reasoningContent) are covered
    for record in records[:6]:
        for message in record["messages"]:
            if message.get("role") == "assistant" and isinstance(message.get("content"), str):
                message["reasoning"] = "Think it through first."
    path = write_run(tmp_path_factory.mktemp("readback") / "run", records)
    export_run(path, JSONL_TARGETS, ExportOptions(skip_invalid=True))
    return path


@pytest.mark.parametrize("target", JSONL_TARGETS)
def test_an_export_reads_back_valid(run: Path, target: str) -> None:
    files = [p for p in sorted((run / "exports" / target / "sft").glob("*.jsonl")) if p.stem != "skipped"]
    assert files, f"{target} wrote no JSONL"
    read = 0
    for path in files:
        for item in read_path(path):
            assert item.error is None, (target, item.error)
            errors = [f for f in check_record(item.record) if f.severity == "error"]
            assert not has_error(errors), (target, item.line, errors)
            read += 1
    assert read >= 10
