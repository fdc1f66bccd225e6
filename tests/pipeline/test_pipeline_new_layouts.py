"""`curate run` over a folder holding one file of each layout the readers learned in stops 24 and 25: every file passes
the file check (a reader test alone skips it: the double-encoded JSONL file was refused by `curate run` while
`read_path` read it), every record ends in a split or the rejects, and worker processes give the same bytes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from curation.cli import main

TOPICS = ["tides", "volcanoes", "glaciers", "monsoons", "earthquakes", "auroras", "deserts", "coral reefs"]
FILES = iter(range(100))


def _texts() -> list[tuple[str, str]]:
    """Six distinct exchanges per file, so that near-dedup keeps them all."""
    n = next(FILES)
    return [(f"Explain {TOPICS[(n + i) % 8]} to a child in lesson {n * 10 + i} of the course {n}.",
             f"Lesson {n * 10 + i}: {TOPICS[(n + i) % 8]} happen because the Earth keeps changing, number {i}.")
            for i in range(6)]


def _folder(root: Path) -> tuple[Path, int]:
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = root / "in"
    folder.mkdir()
    records = 0
    book = openpyxl.Workbook()
    book.active.append(["instruction", "output"])
    for q, a in _texts():
        book.active.append([q, a])
    book.save(folder / "sheet.xlsx")
    records += 6
    (folder / "semicolons.csv").write_text("prompt;completion\n" + "".join(
        f"{q};{a}\n" for q, a in _texts()), encoding="utf-8")
    records += 6
    (folder / "messages.csv").write_text("conversation_id,turn,role,content\n" + "".join(
        f'c{i},2,assistant,"{a}"\nc{i},1,user,"{q}"\n' for i, (q, a) in enumerate(_texts())), encoding="utf-8")
    records += 6  # conversations, not rows
    (folder / "responses.jsonl").write_bytes(b"".join(orjson.dumps({
        "request": {"instructions": "Answer briefly.", "input": q},
        "response": {"object": "response", "status": "completed", "output": [
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": a}]}]},
    }) + b"\n" for q, a in _texts()))
    records += 6
    (folder / "twice.jsonl").write_bytes(b"".join(orjson.dumps(orjson.dumps({"messages": [
        {"role": "user", "content": q}, {"role": "assistant", "content": a}]}).decode()) + b"\n" for q, a in _texts()))
    records += 6
    ((q, a), *_rest) = _texts()
    (folder / "chat.json").write_bytes(orjson.dumps([{"role": "user", "content": q},
                                                     {"role": "assistant", "content": a}]))
    records += 1
    elements = [orjson.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]})
                for q, a in _texts()]
    (folder / "stray.json").write_bytes(b"[" + elements[0] + b"}," + b",".join(elements[1:]) + b"]")
    records += 7  # six elements and the stray brace's reject
    turn = pa.struct([("role", pa.binary()), ("content", pa.binary())])
    pq.write_table(pa.table({"messages": pa.array(
        [[{"role": b"user", "content": q.encode()}, {"role": b"assistant", "content": a.encode()}]
         for q, a in _texts()], pa.list_(turn))}), folder / "spark.parquet")
    records += 6
    (folder / "chatgpt" / "conversations.json").parent.mkdir()
    (folder / "chatgpt" / "conversations.json").write_bytes(orjson.dumps([{
        "title": q[:20], "current_node": "a", "mapping": {
            "r": {"id": "r", "message": None, "parent": None, "children": ["u"]},
            "u": {"id": "u", "parent": "r", "children": ["a"], "message": {
                "author": {"role": "user"}, "recipient": "all", "content": {"content_type": "text", "parts": [q]}}},
            "a": {"id": "a", "parent": "u", "children": [], "message": {
                "author": {"role": "assistant"}, "recipient": "all", "content": {"content_type": "text",
                                                                                "parts": [a]}}}},
    } for q, a in _texts()], option=orjson.OPT_INDENT_2))
    records += 6
    (folder / "claude" / "conversations.json").parent.mkdir()
    (folder / "claude" / "conversations.json").write_bytes(orjson.dumps([{
        "uuid": f"u{i}", "name": q[:20], "chat_messages": [{"sender": "human", "text": q, "attachments": []},
                                                           {"sender": "assistant", "text": a}]}
        for i, (q, a) in enumerate(_texts())]))
    records += 6
    return folder, records


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    root = tmp_path_factory.mktemp("layouts")
    folder, records = _folder(root)
    for name, extra in (("inprocess", []), ("processes", ["--workers", "2", "--set", "runner.executor=processes"])):
        assert main(["run", "--input", str(folder), "--out", str(root / name), "--quiet", *extra]) == 0
    return root / "inprocess", root / "processes", records


def test_every_record_of_every_new_layout_ends_in_one_place(runs: tuple[Path, Path, int]) -> None:
    run, _, records = runs
    report = orjson.loads((run / "report.json").read_bytes())
    assert report["bad_files"] == []
    assert report["records_in"] == records
    kept = sum(len((run / "splits" / f"{s}.jsonl").read_bytes().splitlines()) for s in ("train", "validation"))
    rejects = [orjson.loads(line) for line in (run / "rejects.jsonl").read_bytes().splitlines()]
    assert kept + len(rejects) == records == report["records_out"] + report["rejected"]
    assert [r["reason"] for r in rejects] == ["not_json"]  # the stray brace, and nothing else


def test_worker_processes_write_the_same_bytes(runs: tuple[Path, Path, int]) -> None:
    inprocess, processes, _ = runs
    for name in ("splits/train.jsonl", "splits/validation.jsonl", "rejects.jsonl"):
        assert (inprocess / name).read_bytes() == (processes / name).read_bytes(), name
