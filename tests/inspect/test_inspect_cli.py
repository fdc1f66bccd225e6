from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from curation.cli import main

GOOD = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}


def run_json(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> dict[str, Any]:
    assert main(["inspect", *args, "--json"]) == code
    out = capsys.readouterr().out
    return json.loads(out)  # exactly one JSON object


def curate(repo_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "curation.cli", "inspect", *args],
        capture_output=True,
        text=True,
        cwd=repo_dir,
        timeout=120,
        env={**os.environ, "COLUMNS": "120"},
    )


def test_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps({"messages": [{"role": "user", "content": "?"}]}) + "\n")
    report = run_json(capsys, str(path), "--model", "gpt-4o-mini")
    for key in ("records", "valid", "invalid", "findings_by_code", "tokens", "files", "codes", "training", "model"):
        assert key in report
    assert (report["records"], report["valid"], report["invalid"]) == (2, 1, 1)
    assert report["findings_by_code"] == {"example_missing_assistant_message": 1, "last_not_assistant": 1}
    assert set(report["tokens"]) >= {"total", "distribution", "over_limit"}
    assert (
        report["tokens"]["distribution"]["max"] == report["tokens"]["total"] - report["tokens"]["distribution"]["min"]
    )
    (file_report,) = report["files"]
    assert file_report["path"] == str(path)
    assert file_report["format"] == "openai"
    assert {k: file_report[k] for k in ("records", "valid", "invalid")} == {"records": 2, "valid": 1, "invalid": 1}
    assert report["model"]["name"] == "gpt-4o-mini-2024-07-18"
    codes = report["codes"]["example_missing_assistant_message"]
    assert codes["severity"] == "error" and codes["first"][0]["where"] == f"{path}:2" and codes["hint"]


def test_tables_for_people(tmp_path: Path, repo_dir: Path) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + '{"messages": [\n')
    result = curate(repo_dir, str(path), "--model", "gpt-3.5-turbo")
    assert result.returncode == 0, result.stderr
    for text in ("files", "not_json", "records read", "2 = 1 valid + 1 invalid", "estimated cost", "cl100k_base"):
        assert text in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_truncated_json_is_one_invalid_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(GOOD)[:25] + "\n" + json.dumps(GOOD) + "\n")
    report = run_json(capsys, str(path))
    assert (report["records"], report["valid"], report["invalid"]) == (3, 2, 1)
    assert report["findings_by_code"] == {"not_json": 1}
    assert report["codes"]["not_json"]["first"][0]["where"] == f"{path}:2"


def test_empty_file_is_zero_records_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    report = run_json(capsys, str(path), code=1)  # nothing to curate is no success, as for `curate run`
    assert (report["records"], report["valid"], report["invalid"]) == (0, 0, 0)
    assert report["files"][0]["notes"] == ["empty file: no records"]
    assert report["tokens"]["distribution"] is None
    assert any("too_few_examples" in note for note in report["notes"])


def test_inputs_of_which_no_record_is_valid_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Three records none of which is a conversation: exit 0, so `curate inspect data && curate run` went on
    path = tmp_path / "rows.jsonl"
    path.write_text('{"foo": "bar"}\n{"text": "plain text"}\n{"score": 3}\n')
    assert main(["inspect", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["records"] == 3 and not report["valid"]
    assert "error: none of the 3 record(s)" in captured.err and "Traceback" not in captured.err


def test_compressed_and_directory_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl.gz").write_bytes(gzip.compress((json.dumps(GOOD) + "\n").encode() * 3))
    (folder / "b.jsonl").write_text(json.dumps(GOOD) + "\n")
    (folder / "notes.txt").write_text("not data")
    report = run_json(capsys, str(folder))
    assert [Path(f["path"]).name for f in report["files"]] == ["a.jsonl.gz", "b.jsonl"]
    assert report["records"] == report["valid"] == 4


def test_fifty_megabyte_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.jsonl"
    content = "word " * 10_000_000
    path.write_text(json.dumps(GOOD) + "\n" + '{"messages": [{"role": "user", "content": "' + content + "\n")
    assert path.stat().st_size > 50_000_000
    report = run_json(capsys, str(path))
    assert (report["records"], report["valid"], report["invalid"]) == (2, 1, 1)
    assert report["findings_by_code"] == {"not_json": 1}
    assert len(report["codes"]["not_json"]["first"][0]["message"]) < 300


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", "no such file or directory"),
        ("empty_dir", "directory holds no readable data files"),
        ("bad_model", "unknown model 'gpt-9'"),
        ("bad_format", "unknown input format 'csv-ish'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(case: str, expected: str, tmp_path: Path, repo_dir: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(GOOD) + "\n")
    args: list[str]
    if case == "missing":
        args = [str(tmp_path / "nope.jsonl")]
    elif case == "empty_dir":
        (tmp_path / "empty").mkdir()
        args = [str(tmp_path / "empty")]
    elif case == "bad_model":
        args = [str(good), "--model", "gpt-9"]
    else:
        args = [str(good), "--format", "csv-ish"]
    result = curate(repo_dir, *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert "(fix: " in lines[0]


@pytest.mark.parametrize(
    ("case", "code", "records"),
    [("binary", "binary_file", 1), ("strings", "not_json_file", 1), ("truncated_gzip", "unreadable_file", None)],
)
def test_a_bad_file_is_one_report_line_not_a_stopped_inspect(
    case: str, code: str, records: int | None, tmp_path: Path, repo_dir: Path
) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(GOOD) + "\n")
    if case == "binary":
        bad = tmp_path / "model.jsonl"
        bad.write_bytes(b"\x00\x01\x02PK\x03\x04" + bytes(range(256)) * 10)
    elif case == "strings":
        bad = tmp_path / "strings.jsonl"
        bad.write_text('"just a string"\n"another"\n')
    else:
        data = gzip.compress((json.dumps(GOOD) + "\n").encode() * 5000)
        bad = tmp_path / "cut.jsonl.gz"
        bad.write_bytes(data[: len(data) // 2])
    result = curate(repo_dir, str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(b["path"], b["reason"]) for b in report["bad_files"]] == [(str(bad), code)]
    assert report["bad_files"][0]["fix"]
    by_path = {f["path"]: f for f in report["files"]}
    assert by_path[str(good)]["valid"] == 1  # the other file is read
    assert by_path[str(bad)]["rejected_by_code"][code] == 1
    if records is not None:
        assert by_path[str(bad)]["records"] == records
    else:  # the records before the break are read and judged
        assert by_path[str(bad)]["valid"] > 0
    strict = curate(repo_dir, str(tmp_path), "--json", "--strict")
    assert strict.returncode == 1
    assert "could not be read (--strict)" in strict.stderr


def test_no_arguments_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect"]) == 2
    assert "no input given" in capsys.readouterr().err


def test_main_returns_2_for_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path / "missing.jsonl"), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no such file or directory" in captured.err
