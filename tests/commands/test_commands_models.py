"""`curate models` lists the target table with days left; lifecycle warnings where a user decides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.cli import main
from curation.exporters import available_exporters

REPO = Path(__file__).resolve().parents[2]
# Amazon Nova is an alternative for text data once its exporter (bedrock-conversation-2024) is installed
NOVA = "bedrock-nova, " if "bedrock-nova" in available_exporters() else ""
OPEN = f"azure-openai, together, vertex-gemini, {NOVA}hf-local"
WARNING = ("warning: OpenAI stops new fine-tuning jobs on 2027-01-06 (35 days); gpt-4o-mini and its fine-tunes shut "
           f"down on 2027-01-14. Open targets for this data: {OPEN}")


def _rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines()[1:-1]]


def test_models_lists_and_filters_with_days_left(capsys) -> None:  # noqa: ANN001
    assert main(["models", "--today", "2026-12-02"]) == 0
    rows = _rows(capsys.readouterr().out)
    providers = {r[0] for r in rows}
    assert providers == {"openai", "azure-openai", "together", "vertex-gemini", "bedrock-nova", "bedrock-claude",
                         "mistral", "cohere", "hf-local", "autotrain"}
    mini = next(r for r in rows if r[1] == "gpt-4o-mini-2024-07-18" and r[0] == "openai")
    assert mini[2:7] == ["closing", "sft,dpo", "2027-01-06", "2027-01-14", "35"]
    assert main(["models", "--today", "2027-01-01", "--provider", "openai", "--status", "closing"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert {r[6] for r in rows} == {"5"} and "gpt-4.1-nano-2025-04-14" not in {r[1] for r in rows}
    assert main(["models", "--method", "kto", "--today", "2026-12-02"]) == 0
    assert [r[0] for r in _rows(capsys.readouterr().out)] == ["hf-local"]
    assert main(["models", "--status", "closed", "--today", "2026-12-02"]) == 0
    closed = {(r[0], r[1]) for r in _rows(capsys.readouterr().out)}
    assert {p for p, _ in closed} == {"openai", "bedrock-claude", "mistral", "cohere"}
    assert main(["models", "--status", "closed", "--today", "2027-01-07", "--provider", "openai"]) == 0
    assert len(_rows(capsys.readouterr().out)) == 6  # every OpenAI model once jobs stop


def test_models_json_carries_source_and_date_per_fact(capsys) -> None:  # noqa: ANN001
    assert main(["models", "--json", "--provider", "vertex-gemini", "--today", "2026-12-02"]) == 0
    data = json.loads(capsys.readouterr().out)
    flash = next(t for t in data["targets"] if t["model"] == "gemini-2.5-flash")
    assert flash["facts"]["max_tokens_per_example"] == {
        "value": 131072, "as_of": "2026-12-02",
        "source": "https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning"}
    assert all(f["source"].startswith("https://") and f["as_of"] for t in data["targets"] for f in t["facts"].values())


@pytest.mark.parametrize("args, message", [
    (["models", "--status", "open"], "unknown --status 'open'"),
    (["models", "--provider", "openia"], "unknown --provider 'openia'"),
    (["models", "--today", "tomorrow"], "--today 'tomorrow' is not a date"),
])
def test_models_usage_errors(args: list[str], message: str, capsys) -> None:  # noqa: ANN001
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_inspect_run_and_export_name_the_dates(tmp_path: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("CURATION_TODAY", "2026-12-02")
    chats = str(REPO / "samples" / "raw" / "support_chats.jsonl")
    assert main(["inspect", chats, "--model", "gpt-4o-mini", "--json"]) == 0
    assert WARNING in capsys.readouterr().err
    assert main(["inspect", chats, "--json"]) == 0  # the default target is open: no warning
    assert "warning: OpenAI" not in capsys.readouterr().err
    run = tmp_path / "run"
    assert main(["run", "--input", chats, "--out", str(run), "--export", "azure-openai", "--quiet"]) == 0
    assert "stops new fine-tuning" not in capsys.readouterr().err
    assert main(["export", str(run), "--to", "openai,bedrock-claude", "--method", "sft"]) == 0
    err = capsys.readouterr().err
    assert "warning: OpenAI stops new fine-tuning jobs on 2027-01-06 (35 days). Open targets" in err
    assert "warning: Claude on Amazon Bedrock fine-tuning is closed (shut down 2026-09-10)" in err
    assert main(["run", "--input", chats, "--out", str(tmp_path / "r2"), "--model", "gpt-4o-mini", "--quiet",
                 "--export", "none"]) == 0
    assert WARNING in capsys.readouterr().err
    # a job on a closed target is refused before the run does any work
    assert main(["run", "--input", chats, "--out", str(tmp_path / "r3"), "--train", "openai", "--param",
                 "model=gpt-4.1-nano-2025-04-14", "--quiet"]) == 2
    assert "refused to launch a job on openai:gpt-4.1-nano-2025-04-14" in capsys.readouterr().err
    assert not (tmp_path / "r3" / "splits").exists()


def test_inspect_config_reads_the_config_s_target_table(tmp_path: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("CURATION_TODAY", "2026-12-02")
    config = tmp_path / "run.yaml"
    config.write_text(f"inputs: [{REPO / 'samples' / 'raw' / 'support_chats.jsonl'}]\nmodel: azure/gpt-4.1-mini\n"
                      "targets:\n  providers:\n    azure-openai:\n      status: {v: closing, src: azure-fine-tuning}\n"
                      "      new_jobs_until: {v: 2026-12-31, src: azure-fine-tuning}\n")
    assert main(["inspect", "--config", str(config), "--json"]) == 0
    err = capsys.readouterr().err
    assert "warning: Azure OpenAI stops new fine-tuning jobs on 2026-12-31 (29 days)" in err
