"""`curate retarget`: a run of the bundled samples curated for OpenAI moves to every open target; what a
target refuses is listed by id, and the export is written by the target's exporter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def samples_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("retarget") / "run"
    code = main(["run", str(REPO / "samples" / "curation.yaml"), "--out", str(out), "--model", "gpt-4o-mini",
                 "--quiet"])
    assert code == 0
    return out


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8-sig").splitlines() if x.strip()]


def test_openai_run_moves_to_azure_together_vertex_and_hf(samples_run: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("CURATION_TODAY", "2026-12-02")
    report = json.loads((samples_run / "report.json").read_text())
    assert report["model"] == "gpt-4o-mini"
    code = main(["retarget", str(samples_run), "--to",
                 "azure-openai:gpt-4.1-mini,together:meta-llama/Llama-3.3-70B-Instruct-Reference,"
                 "vertex-gemini:gemini-2.5-flash,hf-local", "--skip-invalid"])
    out = capsys.readouterr()
    assert code == 0, out.err
    reports = {p.stem: json.loads(p.read_text()) for p in (samples_run / "retarget").glob("*.json")}
    assert set(reports) == {"azure-openai", "together", "vertex-gemini", "hf-local"}
    # Azure: exact o200k counts, SFT and DPO both open on gpt-4.1-mini, nothing refused
    azure = reports["azure-openai"]
    assert azure["tokenizer"] == "o200k_base (exact)" and azure["findings"] == []
    sft = _lines(samples_run / "exports" / "azure-openai" / "sft" / "train.jsonl")
    dpo = _lines(samples_run / "exports" / "azure-openai" / "dpo" / "train.jsonl")
    assert sft and all(set(r) <= {"messages", "tools", "parallel_tool_calls"} for r in sft)
    assert dpo and all(set(r) == {"input", "preferred_output", "non_preferred_output"} for r in dpo)
    assert json.loads((samples_run / "exports" / "azure-openai" / "sft" / "export.json").read_text())["model"] \
        == "gpt-4.1-mini-2025-04-14@azure"
    # Vertex: an o200k estimate against 131,072 tokens; Gemini contents written
    vertex = reports["vertex-gemini"]
    assert vertex["tokenizer"].startswith("o200k_base (estimate")
    assert all("contents" in r for r in _lines(samples_run / "exports" / "vertex-gemini" / "sft" / "train.jsonl"))
    # hf-local: a datasets folder per kind
    assert (samples_run / "exports" / "hf" / "sft" / "dataset_dict.json").is_file()
    assert (samples_run / "exports" / "hf" / "dpo" / "dataset_dict.json").is_file()
    assert "hf/sft: written" in out.out and "vertex-gemini/sft: written" in out.out
    # every target's line names how many records were checked and refused
    for label in ("azure-openai:gpt-4.1-mini-2025-04-14", "vertex-gemini:gemini-2.5-flash", "hf-local"):
        assert any(line.startswith(f"{label} (active; tokens:") and "record(s) checked" in line
                   for line in out.out.splitlines())


def test_refusals_are_listed_by_id_and_left_out_with_skip_invalid(samples_run: Path, capsys) -> None:  # noqa: ANN001
    (samples_run / "config.yaml").write_text(
        (samples_run / "config.yaml").read_text()
        + "targets:\n  providers:\n    vertex-gemini:\n      models:\n        gemini-2-5-flash:\n"
          "          max_tokens_per_example: {v: 120, src: vertex-sft}\n")
    code = main(["retarget", str(samples_run), "--to", "vertex-gemini:gemini-2.5-flash", "--method", "sft"])
    out = capsys.readouterr()
    report = json.loads((samples_run / "retarget" / "vertex-gemini.json").read_text())
    over = next(f for f in report["findings"] if f["code"] == "over_token_limit")
    assert code == 0 and over["count"] == len(over["ids"]) > 0
    assert "vertex-gemini:gemini-2.5-flash: refused, over_token_limit" in out.err
    near = next(f for f in report["findings"] if f["code"] == "near_token_limit")
    assert not set(near["ids"]) & set(over["ids"])
    # the ids are the run's own, and each one really is longer than the limit by o200k's count
    from curation.tokens import chat_tokens, get_encoding

    records = {r["id"]: r for s in ("train", "validation") for r in _lines(samples_run / "splits" / f"{s}.jsonl")}
    enc = get_encoding("o200k_base")
    assert all(chat_tokens(records[i], enc) > 120 for i in over["ids"])
    assert all(chat_tokens(records[i], enc) <= 120 for i in records if i not in over["ids"]
               and "chosen" not in records[i])
    code = main(["retarget", str(samples_run), "--to", "vertex-gemini:gemini-2.5-flash", "--method", "sft",
                 "--skip-invalid"])
    out = capsys.readouterr()
    assert code == 0, out.err
    folder = samples_run / "exports" / "vertex-gemini" / "sft"
    skipped = {r["id"] for r in _lines(folder / "retarget-skipped.jsonl")}
    assert skipped == set(over["ids"])
    exported = len(_lines(folder / "train.jsonl")) + len(_lines(folder / "validation.jsonl"))
    n_sft = sum(1 for r in records.values() if "chosen" not in r)
    assert exported == n_sft - len(skipped)
    assert not list((samples_run / "exports").glob(".retarget-*"))  # the filtered copy is gone
    # the export made from the filtered copy is sealed in the run folder, retarget-skipped.jsonl included
    from curation.run_folder import export_changes

    assert export_changes(samples_run) == {}
    (folder / "retarget-skipped.jsonl").unlink()
    assert "retarget-skipped.jsonl: deleted" in str(export_changes(samples_run)["vertex-gemini/sft"])


def test_closed_and_missing_targets_are_refused_with_the_reason(samples_run: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("CURATION_TODAY", "2026-12-02")
    code = main(["retarget", str(samples_run), "--to", "bedrock-claude,bedrock-nova:amazon.nova-lite-v1:0,"
                 "azure-openai:gpt-4o-mini", "--method", "sft", "--check"])
    out = capsys.readouterr()
    assert code == 0
    assert "bedrock-claude: refused, target closed: Claude on Amazon Bedrock fine-tuning is closed (shut down " \
           "2026-09-10)" in out.err
    nova = json.loads((samples_run / "retarget" / "bedrock-nova.json").read_text())
    tools = next(f for f in nova["findings"] if f["code"] == "tools_unsupported")
    records = [r for s in ("train", "validation") for r in _lines(samples_run / "splits" / f"{s}.jsonl")]
    assert set(tools["ids"]) == {r["id"] for r in records if r.get("tools")}
    code = main(["retarget", str(samples_run), "--to", "bedrock-claude", "--strict"])
    assert code == 1
    code = main(["retarget", str(samples_run), "--to", "azure-openai:gpt-5"])
    assert code == 2 and "no fine-tunable model 'gpt-5'" in capsys.readouterr().err


def test_azure_gpt_4o_mini_leaves_the_pairs_out_under_auto(samples_run: Path, capsys) -> None:  # noqa: ANN001
    code = main(["retarget", str(samples_run), "--to", "azure-openai:gpt-4o-mini"])
    out = capsys.readouterr()
    assert code == 0, out.err
    report = json.loads((samples_run / "retarget" / "azure-openai.json").read_text())
    [finding] = [f for f in report["findings"] if f["code"] == "method_unsupported"]
    assert finding["severity"] == "warning" and "does not train DPO" in finding["message"]
    assert report["written"] == [f"azure-openai/sft: written to {samples_run}/exports/azure-openai/sft "
                                 "(train.jsonl, validation.jsonl)"]


def test_hf_local_counts_with_the_model_s_own_tokenizer(samples_run: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from curation.trainers.tiny import make_tiny_model

    model = make_tiny_model(tmp_path / "tiny", ["hello there", "bonjour", "Reset links expire after 30 minutes"])
    config = json.loads((model / "config.json").read_text())
    config["max_position_embeddings"] = 300  # the model's own context is the limit hf-local checks
    (model / "config.json").write_text(json.dumps(config))
    code = main(["retarget", str(samples_run), "--to", f"hf-local:{model}", "--method", "sft", "--check"])
    out = capsys.readouterr()
    assert code == 0, out.err
    report = json.loads((samples_run / "retarget" / "hf-local.json").read_text())
    assert report["tokenizer"] == f"{model}'s own tokenizer"
    over = next(f for f in report["findings"] if f["code"] == "over_token_limit")
    assert over["severity"] == "error" and over["ids"]
    from transformers import AutoTokenizer

    from curation.records import message_text
    from curation.tokens import chat_tokens, get_encoding

    tok = AutoTokenizer.from_pretrained(str(model))
    records = {r["id"]: r for s in ("train", "validation") for r in _lines(samples_run / "splits" / f"{s}.jsonl")
               if "chosen" not in r}

    def own(record: dict) -> int:
        messages = [{"role": m["role"], "content": message_text(m)} for m in record["messages"]]
        ids = tok.apply_chat_template(messages, tokenize=True)
        return len(ids if isinstance(ids, list) else ids["input_ids"])

    assert {i for i, r in records.items() if own(r) > 300} == set(over["ids"])
    # counted with the model's tokenizer, not o200k: o200k would let most of these through
    enc = get_encoding("o200k_base")
    assert sum(chat_tokens(records[i], enc) <= 300 for i in over["ids"]) > len(over["ids"]) // 2
