"""`curate export`: each target written or refused on its own, one line each; exit 1 only under --strict;
what --skip-invalid leaves out is written to skipped.jsonl with the rule."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from export_fixtures import sft_records, write_run

from curation.cli import main


def test_cli_export_each_target_on_its_own(tmp_path: Path, real_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run", sft_records(real_dir))
    assert main(["export", str(run), "--to", "openai,bedrock-claude"]) == 0
    captured = capsys.readouterr()
    assert f"openai/sft: written to {run / 'exports' / 'openai' / 'sft'}" in captured.out
    assert "bedrock-claude/sft: refused, tools_unsupported: 41 records" in captured.err
    assert "--skip-invalid" in captured.err  # the fix names the option that meets it
    assert (run / "exports" / "openai" / "sft" / "train.jsonl").exists()
    assert not (run / "exports" / "bedrock-claude").exists()

    assert main(["export", str(run), "--to", "openai,bedrock-claude", "--strict"]) == 1
    assert "1 export target(s) refused: bedrock-claude/sft" in capsys.readouterr().err

    assert main(["export", str(run), "--to", "openai,bedrock-claude", "--skip-invalid"]) == 0
    out = capsys.readouterr().out
    assert "bedrock-claude/sft: written" in out
    skipped = [orjson.loads(line) for line in
               (run / "exports" / "bedrock-claude" / "sft" / "skipped.jsonl").read_bytes().splitlines()]
    tools = [s for s in skipped if "tools_unsupported" in s["rules"]]
    assert len(tools) == 41 and {"id", "split", "rules"} <= set(tools[0])
    assert main(["export", str(run), "--to", "openai", "--method", "rlhf"]) == 2
    assert "unknown --method" in capsys.readouterr().err


def test_cli_points_a_nova_model_to_bedrock_nova(tmp_path: Path, real_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run", sft_records(real_dir)[:12])
    assert main(["export", str(run), "--to", "bedrock-claude", "--model", "amazon.nova-lite-v1:0"]) == 2
    err = capsys.readouterr().err
    assert "amazon.nova-lite-v1:0 is an Amazon Nova model" in err and "--to bedrock-nova" in err
    assert "Traceback" not in err and not (run / "exports" / "bedrock-claude").exists()
    assert main(["export", str(run), "--to", "bedrock-nova", "--model", "amazon.nova-lite-v1:0",
                 "--skip-invalid"]) == 0
    first = orjson.loads((run / "exports/bedrock-nova/sft/train.jsonl").read_bytes().splitlines()[0])
    assert first["schemaVersion"] == "bedrock-conversation-2024"


def test_an_export_of_which_nothing_was_written_exits_1_and_the_report_says_why(
        tmp_path: Path, real_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `curate export RUN --to openai --method dpo` on a run with no pairs refused every target and exited 0, and
    # report.json never said so
    run = write_run(tmp_path / "run", sft_records(real_dir))
    assert main(["export", str(run), "--to", "bedrock-claude"]) == 1
    err = capsys.readouterr().err
    assert "bedrock-claude/sft: refused, tools_unsupported" in err and "no export was written" in err
    exports = orjson.loads((run / "report.json").read_bytes())["exports"]
    assert exports["bedrock-claude/sft"]["status"] == "refused"
    assert exports["bedrock-claude/sft"]["code"] == "tools_unsupported" and exports["bedrock-claude/sft"]["fix"]
    assert main(["export", str(run), "--to", "openai,bedrock-claude"]) == 0  # one written: the rest is a warning
    exports = orjson.loads((run / "report.json").read_bytes())["exports"]
    assert exports["openai/sft"]["status"] == "written" and "exports/openai/sft/train.jsonl" in exports["openai/sft"][
        "files"]
    assert exports["bedrock-claude/sft"]["status"] == "refused"  # kept from the export before


def test_skip_invalid_that_leaves_every_record_out_says_so(tmp_path: Path, real_dir: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    # "leave those N record(s) out with --skip-invalid (written to .../skipped.jsonl)" was followed by a bare
    # "nothing_to_export: no record can be exported" and no skipped.jsonl
    tools = [r for r in sft_records(real_dir) if r.get("tools")]
    run = write_run(tmp_path / "run", tools)
    assert main(["export", str(run), "--to", "bedrock-claude", "--skip-invalid"]) == 1
    err = capsys.readouterr().err
    assert "nothing_to_export: no record can be exported: --skip-invalid left every record out (" in err
    assert "tools_unsupported" in err.split("nothing_to_export", 1)[1]


def test_an_exports_warnings_are_kept_in_the_report(tmp_path: Path, real_dir: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # "3 records carry assistant reasoning ...; dropped" was printed and then found nowhere in the run folder
    records = sft_records(real_dir)[:12]
    for record in records[:3]:
        record["messages"][-1]["reasoning"] = "First I recall the facts, then I answer."
    run = write_run(tmp_path / "run", records)
    assert main(["export", str(run), "--to", "openai"]) == 0
    assert "reasoning_dropped" in capsys.readouterr().err
    entry = orjson.loads((run / "report.json").read_bytes())["exports"]["openai/sft"]
    assert [(w["code"], w["count"]) for w in entry["warnings"]] == [("reasoning_dropped", 3)]
