"""`curate export`: one line per issue, non-zero exit on a refused export, files listed on success."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_fixtures import sft_records, write_run

from curation.cli import main


def test_cli_export_refuses_then_writes(tmp_path: Path, real_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run", sft_records(real_dir))
    assert main(["export", str(run), "--to", "openai,bedrock-claude"]) == 2
    err = capsys.readouterr().err
    assert "[bedrock-claude] error tools_unsupported: 41 records" in err and "refused before writing" in err
    assert not (run / "exports").exists()
    assert main(["export", str(run), "--to", "openai,bedrock-claude", "--skip-invalid"]) == 0
    out = capsys.readouterr().out
    assert "exports/openai/train.jsonl" in out and "exports/bedrock-claude/train.jsonl" in out
    assert main(["export", str(run), "--to", "openai", "--method", "rlhf"]) == 2
    assert "unknown --method" in capsys.readouterr().err
