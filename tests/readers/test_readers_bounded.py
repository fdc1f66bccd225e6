"""Every reader loop makes progress or raises: malformed arrays, FIFOs, devices, endless lines, deep nests.

Each case runs in a forked child with a time limit (the ``bounded`` fixture), so a regression fails
instead of hanging the suite.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import curation.readers.containers as containers
from curation.cli import main
from curation.errors import InputError
from curation.readers import check_readable, expand_inputs, read_path

MSG = b'{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}'
MALFORMED_ARRAYS = [b"[}", b'[{"a":1}}', b"[]]", b"[{}}}", b"[" + MSG + b"}", b"[" + MSG + b",}" + MSG + b"]",
                    b"[" + MSG + b"]]", b"[\n  " + MSG + b"\n}\n]", b"[:]", b'["a":1]']


def _read_all(path: str, fmt: str | None) -> list[tuple[str | None, str | None]]:
    return [(item.error[0] if item.error else None, item.error[1] if item.error else None)
            for item in read_path(path, format=fmt)]


@pytest.mark.parametrize("data", MALFORMED_ARRAYS, ids=[d[:20].decode() for d in MALFORMED_ARRAYS])
@pytest.mark.parametrize("fmt", [None, "openai"])
def test_malformed_arrays_end_in_a_reason(tmp_path: Path, bounded, data: bytes, fmt: str | None) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(data)
    started = time.perf_counter()
    items = bounded(_read_all, str(path), fmt, timeout=10)
    assert time.perf_counter() - started < 5
    assert isinstance(items, list) and items, items
    codes = [code for code, _ in items]
    assert all(code is None or code in ("not_json", "data_type", "unknown_format", "empty_record", "missing") or
               code.endswith("format") for code in codes), items
    assert len(items) <= 3  # the stray bracket ends the read: no endless stream of rejects


def test_stray_bracket_names_the_byte_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b'[{"a":1}}')
    items = list(read_path(path))
    assert items[-1].error is not None
    code, detail = items[-1].error
    assert code == "not_json"
    assert "unexpected '}' at byte 8" in detail and "fix the brackets" in detail


def _cli(args: list[str]) -> int:
    return main(args)


@pytest.mark.parametrize("forced", [False, True])
def test_cli_run_on_a_two_byte_file_finishes(tmp_path: Path, bounded, forced: bool) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b"[}")
    out = tmp_path / "run"
    config = tmp_path / "run.yaml"
    config.write_text(f"inputs:\n  - path: {path}\n" + ("    format: openai\n" if forced else ""), encoding="utf-8")
    code = bounded(_cli, ["run", str(config), "--out", str(out), "-q", "--export", "none"], timeout=60)
    assert code in (0, 1, 2)
    assert (out / "rejects.jsonl").stat().st_size < 10_000  # one reject, not hundreds of MB


def test_cli_inspect_on_a_two_byte_file_finishes(tmp_path: Path, bounded) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b"[}")
    # it hung once; it finishes now, and a file of no valid record exits 1 as every command's contract says
    assert bounded(_cli, ["inspect", str(path)], timeout=30) == 1


def test_fifo_and_devices_are_refused(tmp_path: Path, bounded) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero"), Path("/dev/null")):
        result = bounded(check_readable, str(path), timeout=5)
        assert result[0] == "raised" and "InputError" in result[1], result
        assert "regular file" in result[1] or "FIFO" in result[1] or "device" in result[1]
    with pytest.raises(InputError, match="FIFO"):
        check_readable(fifo)


def test_endless_line_is_refused_with_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(containers, "MAX_RECORD_BYTES", 1 << 16)
    path = tmp_path / "x.jsonl"
    path.write_bytes(MSG + b"\n" + b'{"messages": "' + b"a" * 500_000 + b'"}\n' + MSG + b"\n")
    items = list(read_path(path))
    assert [i.error[0] if i.error else None for i in items] == [None, "record_too_large", None]
    assert items[1].line == 2 and "64 KiB" not in items[1].error[1] and "limit" in items[1].error[1]
    array = tmp_path / "x.json"
    array.write_bytes(b"[" + MSG + b', {"messages": "' + b"a" * 500_000 + b'"}]')
    items = list(read_path(array))
    assert [i.error[0] if i.error else None for i in items] == [None, "record_too_large"]


def test_deep_nesting_is_one_reject(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    for depth in (100, 300, 2000):
        deep = b'{"messages": [{"role": "user", "content": "x", "extra": ' + b"[" * depth + b"]" * depth + b"}]}"
        path.write_bytes(MSG + b"\n" + deep + b"\n")
        items = list(read_path(path))
        assert items[0].error is None
        assert items[1].error is not None and items[1].error[0] in ("too_deep", "not_json"), items[1].error


def test_symlink_loop_is_read_once(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(MSG + b"\n")
    (folder / "self").symlink_to(".")
    (folder / "up").symlink_to("..")
    assert expand_inputs([folder]) == [folder / "a.jsonl"]
    assert expand_inputs([folder / "a.jsonl", folder / "self" / "a.jsonl"]) == [folder / "a.jsonl"]


def test_a_dangling_or_looping_link_to_a_data_file_is_a_named_file_reject(tmp_path: Path) -> None:
    # Both were left out of the walk without a word: the run said nothing about a file it never read.
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(MSG + b"\n")
    (folder / "gone.jsonl").symlink_to(tmp_path / "moved" / "gone.jsonl")
    (folder / "self.jsonl").symlink_to("self.jsonl")
    (folder / "notes.txt.lnk").symlink_to("nowhere")  # not a data file's name: not listed
    assert expand_inputs([folder]) == [folder / "a.jsonl", folder / "gone.jsonl", folder / "self.jsonl"]
    for name, target in (("gone.jsonl", tmp_path / "moved" / "gone.jsonl"), ("self.jsonl", "self.jsonl")):
        with pytest.raises(InputError) as err:
            check_readable(folder / name)
        assert str(err.value).startswith(f"{folder / name}: a symbolic link to {target}, which does not exist")
    with pytest.raises(InputError, match="a symbolic link to"):
        expand_inputs([folder / "gone.jsonl"])
