"""An export deleted or edited after it was written is said by `curate export` and `curate retarget --check`
(one line naming the file and the command that writes it again), and exits 1 under --strict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.cli import main
from curation.run_folder import export_changes


@pytest.fixture
def exported(tmp_path: Path, repo_dir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    run_dir = tmp_path / "run"
    assert main(["run", "--input", str(repo_dir / "samples" / "raw" / "sharegpt.json"), "--out", str(run_dir),
                 "--export", "hf,openai", "--quiet"]) == 0
    assert export_changes(run_dir) == {}
    capsys.readouterr()
    return run_dir


def _warnings(err: str) -> list[str]:
    return [line.strip() for line in err.splitlines() if "after the export was written" in line
            or "the export was deleted" in line]


def test_a_deleted_export_file_is_said_by_export_of_another_format(exported: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    gone = exported / "exports" / "hf" / "sft" / "data" / "train-00000-of-00001.parquet"
    gone.unlink()
    assert main(["export", str(exported), "--to", "openai"]) == 0  # what was asked (openai) was done
    lines = _warnings(capsys.readouterr().err)
    assert lines == [f"warning: {gone}: deleted after the export was written, so exports/hf/sft is not what was "
                     f"exported (fix: re-run `curate export {exported} --to hf`)"]
    assert main(["export", str(exported), "--to", "openai", "--strict"]) == 1
    assert "earlier export(s) deleted or changed" in capsys.readouterr().err
    # exporting hf again says what it found, and leaves nothing to warn about
    assert main(["export", str(exported), "--to", "hf"]) == 0
    err = capsys.readouterr().err
    assert f"note: {gone}: deleted after the export was written" in err and "exported again now" in err
    assert not [line for line in _warnings(err) if line.startswith("warning:")]
    assert export_changes(exported) == {} and gone.is_file()


def test_an_edited_export_file_is_said_by_retarget_check(exported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edited = exported / "exports" / "hf" / "sft" / "train" / "data-00000-of-00001.arrow"
    with edited.open("ab") as fh:
        fh.write(b"\0")
    argv = ["retarget", str(exported), "--to", "hf-local", "--check"]
    assert main(argv) == 0  # the check of the records was done
    assert _warnings(capsys.readouterr().err) == [
        f"warning: {edited}: changed after the export was written, so exports/hf/sft is not what was exported "
        f"(fix: re-run `curate export {exported} --to hf`)"]
    assert main([*argv, "--strict"]) == 1
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [str(edited) in line for line in report[0]["changed_exports"]] == [True]
    # another target's export is not this target's business
    assert main(["retarget", str(exported), "--to", "azure-openai:gpt-4.1-mini", "--check"]) == 0
    assert not _warnings(capsys.readouterr().err)


def test_a_deleted_exports_folder_and_splits_changed_since_are_noticed(exported: Path) -> None:
    from curation import run_folder

    train = exported / "splits" / "train.jsonl"
    with run_folder.rewriting(exported):  # what review decisions do: the splits change and are sealed again
        lines = train.read_bytes().splitlines(keepends=True)
        train.write_bytes(b"".join(lines[1:]))
    changes = export_changes(exported)
    assert sorted(changes) == ["hf/sft", "openai/sft"]
    assert all("made from other splits than the run holds now" in c.what for c in changes.values())
    import shutil

    shutil.rmtree(exported / "exports")
    changes = export_changes(exported)
    assert [c.what for c in changes.values()] == ["the export was deleted after it was written"] * 2
    assert changes["openai/sft"].fix == f"re-run `curate export {exported} --to openai`"


def test_a_new_run_into_the_folder_forgets_the_old_seal(exported: Path, repo_dir: Path) -> None:
    assert (exported / ".exports-seal.json").is_file()
    assert main(["run", "--input", str(repo_dir / "samples" / "raw" / "sharegpt.json"), "--out", str(exported),
                 "--export", "none", "--quiet"]) == 0
    assert not (exported / ".exports-seal.json").exists() and export_changes(exported) == {}
