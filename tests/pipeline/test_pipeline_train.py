"""From raw files in samples/ through `curate run ... --train hf-local` to a saved model that loads."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from curation.cli import main


def test_run_then_train_hf_local_to_a_saved_model(
    tmp_path: Path, repo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from curation.readers import read_path
    from curation.trainers.store import JobStore
    from curation.trainers.tiny import make_tiny_model

    monkeypatch.setenv("CURATION_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = [m["content"] for item in read_path(repo_dir / "samples" / "raw" / "support_chats.jsonl")
             if item.record for m in item.record["messages"] if isinstance(m.get("content"), str)]
    base = make_tiny_model(tmp_path / "base", texts)
    out = tmp_path / "run"
    code = main(["run", str(repo_dir / "samples" / "curation.yaml"), "--out", str(out), "--quiet",
                 "--train", "hf-local", "--param", f"model={base}", "--param", "max_steps=4",
                 "--param", "learning_rate=0.005"])
    assert code == 0
    [job] = JobStore(tmp_path / "home" / "curation.sqlite").list()
    assert job.status == "succeeded" and job.output_model
    final = Path(job.output_model)
    assert final.is_dir() and final.is_relative_to(out)
    model = AutoModelForCausalLM.from_pretrained(final)
    tokenizer = AutoTokenizer.from_pretrained(final)
    ids = tokenizer("How do I reset my password?", return_tensors="pt").input_ids
    generated = model.generate(ids, max_new_tokens=4, do_sample=False)
    assert generated.shape[1] > ids.shape[1]
    metrics = [orjson.loads(line) for line in (final.parent / "metrics.jsonl").read_bytes().splitlines()]
    assert any("loss" in m for m in metrics)


def test_unknown_backend_fails_before_any_work(tmp_path: Path, repo_dir: Path) -> None:
    out = tmp_path / "run"
    code = main(["run", str(repo_dir / "samples" / "curation.yaml"), "--out", str(out), "--quiet",
                 "--train", "no-such-backend"])
    assert code == 2 and not out.exists()
