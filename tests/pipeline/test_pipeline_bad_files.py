"""A bad file is one report line, not a stopped run: `curate run --input FOLDER` where one file holds bare
JSON strings and one is binary processes the others and reports both as file-level rejects."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import orjson
import pytest

from curation.cli import main

GOOD = {"messages": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4."}]}


def _lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()] if path.exists() else []


@pytest.fixture
def folder(tmp_path: Path, real_dir: Path) -> Path:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "alpaca.json").write_bytes((real_dir / "axolotl-ai-cloud__axolotl/alpaca.json").read_bytes())
    (inputs / "toy.jsonl").write_bytes((real_dir / "openai__openai-cookbook/toy_chat_fine_tuning.jsonl").read_bytes())
    (inputs / "strings.jsonl").write_text('"a bare JSON string"\n"another one"\n')
    (inputs / "weights.jsonl").write_bytes(b"\x00\x01\x02PK\x03\x04" + bytes(range(256)) * 16)
    return inputs


def _run(folder: Path, out: Path, *extra: str) -> int:
    return main(["run", "--input", str(folder), "--out", str(out), "--export", "none", "--quiet",
                 "--set", "runner.progress=false", *extra])


def test_bad_files_are_file_level_rejects_and_the_rest_is_processed(folder: Path, tmp_path: Path) -> None:
    assert _run(folder, tmp_path / "run") == 0
    run_dir = tmp_path / "run"
    rejects = _lines(run_dir / "rejects.jsonl")
    file_level = [r for r in rejects if r["record"] is None and r["stage"] == "ingest"]
    assert [(Path(r["source"]["path"]).name, r["reason"]) for r in file_level] == [
        ("strings.jsonl", "not_json_file"), ("weights.jsonl", "binary_file")]
    assert all("(fix: " in r["detail"] for r in file_level)
    report = json.loads((run_dir / "report.json").read_text())
    assert [(Path(b["path"]).name, b["reason"]) for b in report["bad_files"]] == [
        ("strings.jsonl", "not_json_file"), ("weights.jsonl", "binary_file")]
    assert all(b["fix"] and b["detail"] for b in report["bad_files"])
    assert report["funnel"][0]["by_reason"] == {"binary_file": 1, "not_json_file": 1}
    # The good files went through: 2 alpaca + 5 cookbook records, each in a split or rejected once.
    kept = sum(len(_lines(p)) for p in (run_dir / "splits").glob("*.jsonl"))
    assert report["records_in"] == 2 + 5 + 2 == kept + len(rejects)
    record_level = [r for r in rejects if r not in file_level]
    assert all(r["record"] is not None and r["stage"] != "ingest" for r in record_level)  # judged, not unread
    assert kept == 7 - len(record_level) >= 5
    assert sum("skipped unreadable file" in w for w in report["warnings"]) == 2


def test_strict_exits_1_after_writing_everything(folder: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(folder, tmp_path / "run", "--strict") == 1
    assert "2 input file(s) could not be read (--strict)" in capsys.readouterr().err
    assert (tmp_path / "run/report.json").exists()


def test_a_file_that_breaks_part_way_keeps_what_was_read(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    data = gzip.compress((json.dumps(GOOD) + "\n").encode() * 3000)
    (inputs / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    assert _run(inputs, tmp_path / "run", "--set", "near_dedup.enabled=false") == 0
    report = json.loads((tmp_path / "run/report.json").read_text())
    assert [b["reason"] for b in report["bad_files"]] == ["unreadable_file"]
    assert report["records_in"] > 1  # the lines before the break were read (and deduplicated)
    assert report["funnel"][0]["by_reason"] == {"unreadable_file": 1}


def test_an_input_with_no_records_is_a_warning_with_its_name(folder: Path, tmp_path: Path) -> None:
    (folder / "empty.jsonl").write_bytes(b"")
    (folder / "blank.jsonl").write_bytes(b"\n\n")
    (folder / "none.json").write_bytes(b"[]")
    assert _run(folder, tmp_path / "run") == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    empty = sorted(w for w in report["warnings"] if "holds no records" in w)
    assert [Path(w.split(" holds")[0].removeprefix("input ")).name for w in empty] == [
        "blank.jsonl", "empty.jsonl", "none.json"]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    counts = {Path(i["path"]).name: i["records"] for i in manifest["inputs"]}
    assert counts["empty.jsonl"] == 0 and counts["toy.jsonl"] == 5 and counts["alpaca.json"] == 2


def test_an_input_named_like_a_held_out_split_is_a_warning(folder: Path, tmp_path: Path) -> None:
    # A Hub repository downloaded whole holds test-00000-of-00001.parquet beside its train file: a folder run
    # trained on the test split without a word.
    (folder / "data").mkdir()
    toy = (folder / "toy.jsonl").read_bytes()
    (folder / "data" / "test-00000-of-00001.jsonl").write_bytes(toy.replace(b"?", b"??"))
    (folder / "data" / "train-00000-of-00001.jsonl").write_bytes(toy.replace(b"?", b"?!"))
    assert _run(folder, tmp_path / "run") == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    held = [w for w in report["warnings"] if "held-out split" in w]
    assert len(held) == 1 and "test-00000-of-00001.jsonl is named like a held-out split ('test')" in held[0]
    assert "decontaminate.paths" in held[0]


def test_inputs_with_no_record_at_all_exit_1_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "blank.jsonl").write_bytes(b"\n")
    code = main(["run", "--input", str(tmp_path / "empty.jsonl"), str(tmp_path / "blank.jsonl"),
                 "--out", str(tmp_path / "run"), "--quiet", "--set", "runner.progress=false"])
    err = capsys.readouterr().err
    assert code == 1
    assert "error: the inputs hold no records" in err and "Traceback" not in err
    assert (tmp_path / "run" / "report.json").exists()  # the (empty) run is still written and reported


def test_a_run_whose_every_record_is_rejected_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # every record rejected at validation (empty answers) exited 0, so `curate run && curate train` went on
    rows = [{"instruction": f"Question {i}?", "input": "", "output": ""} for i in range(5)]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    code = main(["run", "--input", str(tmp_path / "d.jsonl"), "--out", str(tmp_path / "run"), "--quiet",
                 "--set", "runner.progress=false"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "error: none of the 5 input record(s) passed curation (empty_content 5;" in err
    assert len((tmp_path / "run" / "rejects.jsonl").read_text().splitlines()) == 5


def test_a_clone_without_git_lfs_is_named_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # Every data file is an LFS pointer: the run must not report success on zero readable records.
    pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"4d" * 32 + b"\nsize 12345678\n"
    (tmp_path / "data").mkdir()
    for name in ("train-00000-of-00001.parquet", "test.jsonl", "extra.csv"):
        (tmp_path / "data" / name).write_bytes(pointer)
    code = main(["run", "--input", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--quiet",
                 "--set", "runner.progress=false", "--export", "none"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "none of the 3 input record(s) or file(s) could be read" in err
    rejects = [json.loads(line) for line in (tmp_path / "run" / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 3 and all("Git LFS pointer" in r["detail"] and "git lfs pull" in r["detail"]
                                     for r in rejects)


def _thirty_questions(path: Path) -> None:
    rows = [{"messages": [{"role": "user", "content": f"Question {i} about item {i * 7}?"},
                          {"role": "assistant", "content": f"Answer {i}: item {i * 7} is {i * 13}."}]}
            for i in range(30)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_a_run_folder_inside_its_input_folder_never_reads_its_own_outputs(tmp_path: Path) -> None:
    # `--input proj --out proj` twice read the first run's splits and reports back in (in 30, then in 35)
    (tmp_path / "data").mkdir()
    _thirty_questions(tmp_path / "data" / "a.jsonl")
    outputs = []
    for _ in range(2):
        assert main(["run", "--input", str(tmp_path), "--out", str(tmp_path), "--quiet", "--export", "none",
                     "--set", "runner.progress=false"]) == 0
        report = json.loads((tmp_path / "report.json").read_text())
        assert report["records_in"] == 30
        outputs.append((tmp_path / "splits" / "train.jsonl").read_bytes())
    assert outputs[0] == outputs[1]
    assert any("left out" in w and "run folder" in w for w in report["warnings"])


def test_an_earlier_run_folder_inside_an_input_folder_is_no_input(tmp_path: Path) -> None:
    # `--input in1 --out in1/out`, then `--out in1/out2`: the first run's splits, rejects, manifest and reports were
    # read as records (records_in 30 -> 100+), with no more than a warning about report.html
    (tmp_path / "in1").mkdir()
    _thirty_questions(tmp_path / "in1" / "a.jsonl")
    args = ["--quiet", "--export", "none", "--set", "runner.progress=false"]
    assert main(["run", "--input", str(tmp_path / "in1"), "--out", str(tmp_path / "in1" / "out"), *args]) == 0
    assert main(["run", "--input", str(tmp_path / "in1"), "--out", str(tmp_path / "in1" / "out2"), *args]) == 0
    report = json.loads((tmp_path / "in1" / "out2" / "report.json").read_text())
    assert report["records_in"] == 30
    assert any("an earlier curate run's folder inside an input folder" in w and str(tmp_path / "in1" / "out") in w
               for w in report["warnings"])
    # its splits given as an input are read, as asked
    assert main(["run", "--input", str(tmp_path / "in1" / "out" / "splits"), "--out", str(tmp_path / "again"),
                 *args]) == 0
    assert json.loads((tmp_path / "again" / "report.json").read_text())["records_in"] > 0


def test_files_sharing_a_name_are_counted_apart_in_the_report(tmp_path: Path) -> None:
    # a hub repository's default/train/0000.parquet and default/test/0000.parquet merged into one "0000.parquet"
    for part, n in (("train", 12), ("extra", 7)):
        (tmp_path / "data" / part).mkdir(parents=True)
        rows = [{"messages": [{"role": "user", "content": f"{part} question number {i} about topic {i * 13}?"},
                              {"role": "assistant", "content": f"The {part} answer {i} is {i * 17}."}]}
                for i in range(n)]
        (tmp_path / "data" / part / "0000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    code = main(["run", "--input", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--quiet",
                 "--set", "runner.progress=false", "--export", "none"])
    assert code == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    sources: Counter[str] = Counter()
    for split in report["splits"].values():
        sources.update(split["sources"])
    assert sources == {"train/0000.jsonl": 12, "extra/0000.jsonl": 7}


def test_text_transcripts_in_an_input_folder_are_named_not_skipped_silently(tmp_path: Path) -> None:
    # WhatsApp/LiveChat .txt exports and Bot Framework .transcript files were left out of a folder walk with no
    # word in the report, the warnings or the manifest
    from curation.config import load_config
    from curation.pipeline.runner import run_pipeline

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "chats.jsonl").write_text('{"messages": [{"role": "user", "content": "Hi"}, '
                                        '{"role": "assistant", "content": "Hello"}]}\n')
    (folder / "whatsapp.txt").write_text("[12/03/2023, 10:15:32] Ann: hello\n")
    (folder / "bot.transcript").write_text("[]")
    (folder / "README.txt").write_text("what this folder is")
    config = load_config(None, values={"inputs": [str(folder)], "out": str(tmp_path / "run"), "export.formats": []})
    result = run_pipeline(config, quiet=True)
    [warning] = [w for w in result.warnings if "not read as data" in w]
    assert warning.startswith("2 file(s)") and "whatsapp.txt" in warning and "bot.transcript" in warning


CHAT = ('{"messages": [{"role": "user", "content": "Hi"}, '
        '{"role": "assistant", "content": "Hello, how can I help?"}]}\n')


def _folder_run_warnings(tmp_path: Path, files: dict[str, str | bytes]) -> list[str]:
    """The warnings of a run over one input folder holding ``files`` (name -> text or bytes)."""
    from curation.config import load_config
    from curation.pipeline.runner import run_pipeline

    folder = tmp_path / "in"
    folder.mkdir()
    for name, body in files.items():
        if isinstance(body, bytes):
            (folder / name).write_bytes(body)
        else:
            (folder / name).write_text(body)
    config = load_config(None, values={
        "inputs": [str(folder)], "out": str(tmp_path / "run"), "export.formats": [], "runner.progress": False,
        "language.enabled": False, "quality.enabled": False, "length.enabled": False})
    return run_pipeline(config, quiet=True).warnings


def test_a_run_names_what_its_input_folder_walk_left_out(tmp_path: Path) -> None:
    warnings = _folder_run_warnings(tmp_path, {"chats.jsonl": CHAT, "notes.txt": "User: hi\nBot: hello\n",
                                               "old.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"})
    assert any(w.startswith("1 file(s) in the input folders are not read as data") and "notes.txt" in w
               for w in warnings), warnings
    assert any(w.startswith("left out 1 file(s) in the input folders:") and "old.xls (old Excel: save as .xlsx or "
               "CSV)" in w for w in warnings), warnings


def test_a_chatgpt_exports_ratings_file_is_named_as_not_applied(tmp_path: Path) -> None:
    # message_feedback.json (thumbs up/down on answers) was left out of the folder walk without a word, so a
    # rated-down answer was trained with nothing said
    warnings = _folder_run_warnings(tmp_path, {
        "conversations.json": "[]", "chats.jsonl": CHAT,
        "message_feedback.json": '[{"id": "fb1", "conversation_id": "c1", "message_id": "a1", '
                                 '"rating": "thumbsDown"}]'})
    assert any("message_feedback.json (ChatGPT's thumbs up/down on answers, not applied" in w for w in warnings), \
        warnings
