"""The README's main job: `curate run samples/curation.yaml` end to end, exports and report included."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from curation.cli import main
from curation.readers import expand_inputs, read_path


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory, repo_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("samples") / "run"
    assert main(["run", str(repo_dir / "samples" / "curation.yaml"), "--out", str(out), "--quiet"]) == 0
    return out


def _lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def test_every_sample_record_lands_once(sample_run: Path, repo_dir: Path) -> None:
    raw = repo_dir / "samples" / "raw"
    expected = sum(1 for path in expand_inputs([raw]) for _ in read_path(path))
    splits = {p.stem: _lines(p) for p in (sample_run / "splits").glob("*.jsonl")}
    rejects = _lines(sample_run / "rejects.jsonl")
    ids = [r["id"] for recs in splits.values() for r in recs] + [r["id"] for r in rejects]
    assert len(ids) == len(set(ids)) == expected
    reasons = Counter(r["reason"] for r in rejects)
    # The samples are messy on purpose; each planted problem is caught under its own code.
    for code in ("not_json", "empty_content", "invalid_weight", "tool_arguments_not_json", "unfilled_placeholder",
                 "exact_duplicate", "near_duplicate", "eval_contamination"):
        assert reasons[code] >= 1, (code, reasons)
    assert len(splits["train"]) >= 10


def test_redaction_and_decontamination_are_applied(sample_run: Path) -> None:
    text = b"".join(p.read_bytes() for p in (sample_run / "splits").glob("*.jsonl"))
    # support_chats.jsonl plants one OpenAI key, an email address and a phone number (twice each).
    assert b"[EMAIL]" in text and b"[PHONE]" in text and b"[API_KEY]" in text
    for secret in (b"4f9KzQ2mXbT7", b"sk-proj-", b"jane.doe@nimbusmail.net", b"555 0123"):
        assert secret not in text, secret
    contaminated = [r for r in _lines(sample_run / "rejects.jsonl") if r["reason"] == "eval_contamination"]
    assert all(r["duplicate_of"] and r["stage"] == "decontaminate" for r in contaminated)


def test_exports_and_report_are_written(sample_run: Path) -> None:
    openai_train = sample_run / "exports" / "openai" / "sft" / "train.jsonl"
    assert openai_train.exists() and (sample_run / "exports" / "azure-openai").is_dir()
    assert (sample_run / "exports" / "hf" / "dataset_dict.json").exists() or \
        any((sample_run / "exports" / "hf").rglob("dataset_dict.json"))
    exported = _lines(openai_train)
    assert len(exported) >= 10
    for record in exported:
        assert set(record) <= {"messages", "tools", "parallel_tool_calls"}
    html = (sample_run / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org", "")
    manifest = orjson.loads((sample_run / "manifest.json").read_bytes())
    assert manifest["records"]["in"] == manifest["records"]["out"] + manifest["records"]["rejected"]


def test_no_config_run_on_mixed_data_exports_each_kind_apart(
    tmp_path: Path, repo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Defaults (export.method auto) on conversations + preference pairs: the run must not end in an export
    # refusal after all the curation work; each kind goes to its own folder, as `curate export` does.
    out = tmp_path / "run"
    assert main(["run", "--input", str(repo_dir / "samples" / "raw"), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "export openai/sft: written" in err and "export openai/dpo: written" in err
    exported = _lines(out / "exports" / "openai" / "sft" / "train.jsonl")
    assert exported and all("messages" in r for r in exported)
    pairs = _lines(out / "exports" / "openai" / "dpo" / "train.jsonl")
    assert pairs and all("preferred_output" in r for r in pairs)
    assert (out / "exports" / "hf" / "sft" / "dataset_dict.json").exists()
    assert (out / "exports" / "hf" / "dpo" / "dataset_dict.json").exists()
    # `curate export` on the same run takes the same decisions.
    assert main(["export", str(out), "--to", "openai"]) == 0
    captured = capsys.readouterr().out
    assert "openai/sft: written" in captured and "openai/dpo: written" in captured


def test_cost_is_estimated_per_kind_and_target_model(sample_run: Path) -> None:
    tokens = orjson.loads((sample_run / "report.json").read_bytes())["tokens"]
    by_kind = tokens["by_kind"]
    assert set(by_kind) == {"sft", "dpo"}  # the samples hold conversations and preference pairs
    assert by_kind["sft"]["tokens"] + by_kind["dpo"]["tokens"] == tokens["train"]
    for info in by_kind.values():
        assert info["models"] and all(m["billed_training_tokens"] > 0 for m in info["models"].values())
