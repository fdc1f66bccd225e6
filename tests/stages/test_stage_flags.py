"""Flags are first-class: counted per code in report.json, report.html, report.md and the CLI summary; the
`flags:` config drops, keeps or silences them."""

from __future__ import annotations

import json
from pathlib import Path

from curation.cli import main
from curation.config import commented_default_config
from curation.pipeline.stages.flags import FlagPolicyStage


def _chat(rid: str, reply: str) -> dict:
    return {"id": rid, "messages": [{"role": "user", "content": f"Question {rid}: tell me something useful"},
                                    {"role": "assistant", "content": reply}]}


def test_policy_stage() -> None:
    stage = FlagPolicyStage({"ai_disclaimer": "drop", "truncated_reply": "off"})
    record = {"metadata": {"flags": ["truncated_reply", "near_empty_reply"]}}
    assert stage.process(record) is None and record["metadata"]["flags"] == ["near_empty_reply"]
    drop = stage.process({"metadata": {"flags": ["ai_disclaimer"]}})
    assert drop is not None and drop.reason == "ai_disclaimer"


def test_flag_counts_in_every_report_and_the_summary(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    rows = [_chat(f"ok{i}", f"Here is useful fact number {i}: water boils at 100 degrees at sea level.")
            for i in range(12)]
    rows += [_chat("ai1", "As an AI language model, I cannot feel, but the sky is blue because of scattering."),
             _chat("cut1", "Once upon a time there was a")]
    data = tmp_path / "chats.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run = tmp_path / "run"
    code = main(["run", "--input", str(data), "--out", str(run), "--export", "none",
                 "--set", "runner.progress=false"])
    assert code == 0
    err = capsys.readouterr().err
    report = json.loads((run / "report.json").read_text())
    assert report["flags"]["ai_disclaimer"]["kept"] == 1 and report["flags"]["truncated_reply"]["kept"] == 1
    assert "flags (kept" in err and "ai_disclaimer 1" in err and "truncated_reply 1" in err
    html = (run / "report.html").read_text()
    assert "<h2>Flags</h2>" in html and "<code>ai_disclaimer</code>" in html
    assert "## Flags" in (run / "report.md").read_text()

    code = main(["run", "--input", str(data), "--out", str(run), "--export", "none", "--quiet",
                 "--set", "flags={ai_disclaimer: drop, truncated_reply: 'off'}"])
    assert code == 0
    report = json.loads((run / "report.json").read_text())
    assert report["flags"] == {"ai_disclaimer": {"kept": 0, "dropped": 1, "by_split": {}}}
    assert report["reasons"]["ai_disclaimer"] == 1


def test_init_documents_flags() -> None:
    text = commented_default_config()
    assert "flags: {}" in text and "drop (reject the record with that code)" in text
