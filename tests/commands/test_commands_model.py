"""`curate model tiny DIR` builds a model the README's train line works with."""

from __future__ import annotations

from pathlib import Path

from curation.cli import main


def test_model_tiny_builds_a_loadable_model_with_a_masking_template(tmp_path: Path, capsys,
                                                                     monkeypatch) -> None:  # noqa: ANN001
    from curation.trainers.hf_local import HFLocalBackend

    monkeypatch.chdir(tmp_path)
    assert main(["model", "tiny", "my-small-model"]) == 0
    assert "curate train RUN_DIR --backend hf-local --model my-small-model" in capsys.readouterr().out
    assert (tmp_path / "my-small-model" / "config.json").exists()
    # The same check `curate train` runs before a job: config and tokenizer load, the template masks.
    checked = HFLocalBackend().check_params({"model": "./my-small-model"})
    assert checked["model"] == str((tmp_path / "my-small-model").resolve())
    assert main(["model", "tiny", "my-small-model"]) == 2  # a non-empty folder needs --force
