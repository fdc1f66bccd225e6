"""`curate train ... --eval` compares the tuned model with its base when the job succeeds; `jobs show` links it."""

from __future__ import annotations

import json
from pathlib import Path

from curation.cli import main


def test_train_eval_compares_with_the_base_model_and_jobs_show_links_it(trained_job, base_model: Path,
                                                                        eval_store, capsys) -> None:  # noqa: ANN001
    report = Path(trained_job.info["eval"]["report"])
    assert report.exists() and report.parent.name == trained_job.id
    summary = json.loads((report.parent / "summary.json").read_text())
    assert list(summary["comparisons"]) == [f"{trained_job.id}/final vs base"]
    assert summary["models"]["base"]["reference"]["model"] == str(base_model)
    assert summary["generation"]["max_tokens"] == 8 and summary["n_prompts"] == 15
    assert main(["jobs", "show", trained_job.id, "--db", str(eval_store.path)]) == 0
    assert f"eval report: {report}" in capsys.readouterr().out


def test_eval_with_detach_is_a_usage_error(samples_run: Path, base_model: Path, eval_store, capsys) -> None:  # noqa: ANN001
    assert main(["train", str(samples_run), "--backend", "hf-local", "--model", str(base_model), "--eval",
                 "--detach", "--db", str(eval_store.path)]) == 2
    assert "--eval needs the job followed" in capsys.readouterr().err
