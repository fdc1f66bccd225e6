"""Exporters are found through the plugin registry (built-ins via entry points, extras via register)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from export_fixtures import sft_records, write_run

from curation import plugins
from curation.exporters import ExportOptions, available_exporters, export_run, get_exporter
from curation.exporters.base import Exporter, IssueCollector, RecordChecker


def test_builtins_are_entry_points() -> None:
    assert {"openai", "azure-openai", "bedrock-claude", "vertex-gemini", "together", "mistral", "hf"} <= set(
        available_exporters()
    )
    assert get_exporter("openai").name == "openai"


def test_check_takes_plain_record_lists(real_dir: Path) -> None:
    records = sft_records(real_dir)
    issues = get_exporter("bedrock-claude").check({"train": records}, ExportOptions())
    assert {i.code for i in issues if i.severity == "error"} == {"tools_unsupported", "first_not_user"}
    assert get_exporter("openai").check({"train": records}, ExportOptions()) == []


class CountingChecker(RecordChecker):
    def __init__(self) -> None:
        self.issues = IssueCollector("count")
        self.n = 0

    def add(self, split: str, record: dict[str, Any], raw: bytes | None = None) -> None:
        self.n += 1

    def finish(self) -> list[Any]:
        self.issues.global_issue("warning", "counted", f"{self.n} records seen", count=self.n)
        return self.issues.issues()


class CountExporter(Exporter):
    name: ClassVar[str] = "count"
    description: ClassVar[str] = "writes how many records each split has"

    def checker(self, options: ExportOptions) -> RecordChecker:
        return CountingChecker()

    def export(self, run_dir: Path, out_dir: Path, options: ExportOptions) -> list[Path]:
        out = out_dir / "counts.txt"
        out.write_text(" ".join(p.stem for p in sorted((run_dir / "splits").glob("*.jsonl"))))
        return [out]


@pytest.fixture
def count_plugin() -> Any:
    plugins.register(plugins.EXPORTER_GROUP, "count", CountExporter)
    yield CountExporter
    plugins.unregister(plugins.EXPORTER_GROUP, "count")


def test_a_registered_plugin_exports_like_a_builtin(count_plugin: Any, tmp_path: Path, real_dir: Path) -> None:
    run = write_run(tmp_path / "run", sft_records(real_dir)[:30])
    result = export_run(run, "openai,count")
    assert (run / "exports/count/sft/counts.txt").read_text() == "test train validation"
    assert [(i.code, i.count) for i in result.warnings] == [("counted", 30)]
