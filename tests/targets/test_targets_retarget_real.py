"""Retarget on real third-party files (tests/data/real): tool calls (OpenAI cookbook, glaive), French chats,
Anthropic HH preference pairs; curated for OpenAI's gpt-4o-mini, moved to the open targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.cli import main

FILES = (
    "openai__openai-cookbook/drone_training.jsonl",
    "hiyouga__LLaMA-Factory/glaive_toolcall_en_demo.json",
    "bofenghuang__vigogne/oasst_20230412_fr_top1.jsonl",
    "anthropics__hh-rlhf/harmless-base_test.jsonl.gz",
)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory, real_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("real") / "run"
    code = main(["run", "--input", *[str(real_dir / f) for f in FILES], "--out", str(out), "--model", "gpt-4o-mini",
                 "--export", "none", "--quiet"])
    assert code == 0
    return out


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8-sig").splitlines() if x.strip()]


def _records(run: Path) -> list[dict]:
    return [r for s in ("train", "validation") for r in _lines(run / "splits" / f"{s}.jsonl")]


def test_real_run_moves_with_every_record_accounted_for(real_run: Path, capsys) -> None:  # noqa: ANN001
    records = _records(real_run)
    pairs = {r["id"] for r in records if "chosen" in r}
    tools = {r["id"] for r in records if r.get("tools")}
    assert len(pairs) > 1000 and len(tools) > 100
    code = main(["retarget", str(real_run), "--to", "azure-openai:gpt-4.1-mini,vertex-gemini:gemini-2.5-flash,"
                 "bedrock-nova:nova-lite", "--skip-invalid"])
    out = capsys.readouterr()
    assert code == 0, out.err
    reports = {p.stem: json.loads(p.read_text()) for p in (real_run / "retarget").glob("*.json")}
    # Azure gpt-4.1-mini takes everything: every conversation and every pair is exported, with exact counts
    assert reports["azure-openai"]["findings"] == [] and reports["azure-openai"]["tokenizer"] == "o200k_base (exact)"
    for kind, expected in (("sft", len(records) - len(pairs)), ("dpo", len(pairs))):
        folder = real_run / "exports" / "azure-openai" / kind
        assert len(_lines(folder / "train.jsonl")) + len(_lines(folder / "validation.jsonl")) == expected
    # Vertex: the conversations, tool calls as functionCall parts; the pairs in its preference-tuning shape
    vertex = _lines(real_run / "exports" / "vertex-gemini" / "sft" / "train.jsonl")
    assert any("functionCall" in p for r in vertex for c in r["contents"] for p in c["parts"])
    preference = _lines(real_run / "exports" / "vertex-gemini" / "dpo" / "train.jsonl")
    assert preference and all(sorted(c["score"] for c in r["completions"]) == [0, 1] for r in preference)
    # Nova: tools refused record by record (the table takes Nova SFT as tool-free), pairs not a Nova method
    nova = {f["code"]: f for f in reports["bedrock-nova"]["findings"]}
    assert set(nova["tools_unsupported"]["ids"]) == tools
    assert set(nova["method_unsupported"]["ids"]) == pairs and nova["method_unsupported"]["severity"] == "warning"
    folder = real_run / "exports" / "bedrock-nova" / "sft"
    written = _lines(folder / "train.jsonl") + _lines(folder / "validation.jsonl")
    assert written and all(r["schemaVersion"] == "bedrock-conversation-2024" for r in written)
    assert len(written) == len(records) - len(pairs) - len(tools)
    assert {r["id"] for r in _lines(folder / "retarget-skipped.jsonl")} == tools


def test_a_cl100k_model_is_counted_with_cl100k(real_run: Path, capsys) -> None:  # noqa: ANN001
    from curation.tokens import chat_tokens, get_encoding

    code = main(["retarget", str(real_run), "--to", "azure-openai:gpt-35-turbo-0125", "--check", "--json"])
    [report] = json.loads(capsys.readouterr().out)
    assert code == 0 and report["tokenizer"] == "cl100k_base (exact)"
    longest = max((r for r in _records(real_run) if "chosen" not in r),
                  key=lambda r: chat_tokens(r, get_encoding("cl100k_base")))
    assert chat_tokens(longest, get_encoding("cl100k_base")) <= 16_385  # so nothing is over: none reported
    assert not [f for f in report["findings"] if f["code"] == "over_token_limit"]
