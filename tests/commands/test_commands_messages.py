"""Messages that said the wrong thing: an interrupted run's export, misspelt environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.cli import main


@pytest.fixture
def small_run(tmp_path: Path, repo_dir: Path) -> Path:
    run_dir = tmp_path / "run"
    assert main(["run", "--input", str(repo_dir / "samples" / "raw" / "sharegpt.json"), "--out", str(run_dir),
                 "--export", "none", "--quiet"]) == 0
    return run_dir


@pytest.mark.parametrize("command", ["export", "retarget"])
def test_an_interrupted_run_is_said_to_be_interrupted_with_how_to_resume(
        command: str, small_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from curation.pipeline.interrupt import mark_interrupted

    mark_interrupted(small_run, KeyboardInterrupt())  # what the runner does on Ctrl-C
    capsys.readouterr()
    argv = ["export", str(small_run), "--to", "hf"] if command == "export" else [
        "retarget", str(small_run), "--to", "hf-local", "--check"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "has no splits" not in err
    assert "interrupted" in err and f"re-run the same `curate run ... --out {small_run}`" in err


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("CURATION_TOKEN_COUNTER", "tiktokn", "CURATION_TOKEN_COUNTER='tiktokn' is not a token counter (did you mean "
                                          "'tiktoken'?) (fix: set it to one of: auto, tiktoken, or unset it)"),
    ("CURATION_TARGETS", "no-such-table.toml", "CURATION_TARGETS='no-such-table.toml': cannot read the target "
                                               "table"),
])
def test_a_misspelt_environment_value_stops_the_command(name: str, value: str, expected: str, tmp_path: Path,
                                                        repo_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    code = main(["inspect", str(repo_dir / "samples" / "raw" / "sharegpt.json")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and expected in err, err
    if name == "CURATION_TARGETS":
        assert "point CURATION_TARGETS at" in err


def test_the_allowed_environment_values_still_run(repo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATION_TOKEN_COUNTER", "tiktoken")
    assert main(["inspect", str(repo_dir / "samples" / "raw" / "sharegpt.json")]) == 0
    monkeypatch.setenv("CURATION_TOKEN_COUNTER", "")
    assert main(["inspect", str(repo_dir / "samples" / "raw" / "sharegpt.json")]) == 0


def test_two_identical_runs_into_two_folders_differ_only_where_the_readme_says(
        tmp_path: Path, repo_dir: Path) -> None:
    import json

    folders = [tmp_path / "first", tmp_path / "second"]
    for out in folders:
        assert main(["run", str(repo_dir / "samples" / "curation.yaml"), "--out", str(out), "--export", "hf",
                     "--quiet"]) == 0
    files = sorted(p.relative_to(folders[0]) for p in folders[0].rglob("*") if p.is_file())
    assert Path("exports/hf/sft/train/state.json") in files
    differ: dict[str, list[str]] = {}
    for rel in files:
        a, b = ((f / rel).read_bytes() for f in folders)
        if a == b:
            continue
        if rel.name == "manifest.json":
            ja, jb = json.loads(a), json.loads(b)
            differ[str(rel)] = sorted(k for k in ja if ja[k] != jb.get(k))
            assert {k: v for k, v in ja["config"].items() if k != "out"} == {
                k: v for k, v in jb["config"].items() if k != "out"}
            continue
        la, lb = a.decode().splitlines(), b.decode().splitlines()
        assert len(la) == len(lb), rel
        differ[str(rel)] = [x for x, y in zip(la, lb, strict=True) if x != y]
    # (started is to the second: two quick runs can share it)
    assert {"config"} <= set(differ.pop("manifest.json")) <= {"config", "started", "timing"}
    assert differ.pop("config.yaml") == ["out: " + str(folders[0])]
    assert differ.pop("report.md") == ["# Curation report · first"]
    assert [line.count("Curation report · first") for line in differ.pop("report.html")] == [1, 1]
    assert differ.pop("exports/hf/sft/README.md") == ["# first"]
    seal = differ.pop(".exports-seal.json")  # that card's size and digest
    assert len(seal) == 2 and '"bytes"' in seal[0] and '"sha256"' in seal[1]
    assert differ == {}  # report.json, the splits, rejects and every other export file are byte-identical
