"""Containers and file handling: compression, BOM, blank lines, broken lines, binary and empty files,
huge lines, directories, JSON array vs single object, parquet / CSV / Arrow / save_to_disk."""

from __future__ import annotations

import bz2
import gzip
import os
from pathlib import Path

import orjson
import pytest
import zstandard

import curation.readers.containers as containers
from curation.errors import InputError
from curation.readers import (
    check_readable,
    detect_container,
    expand_inputs,
    iter_payloads,
    open_binary,
    read_path,
)

REC = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
LINE = orjson.dumps(REC) + b"\n"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "compress",
    [gzip.compress, zstandard.ZstdCompressor().compress, bz2.compress, lambda b: b],
    ids=["gzip", "zstd", "bz2", "plain"],
)
def test_compression_by_magic_not_extension(tmp_path: Path, compress) -> None:
    path = _write(tmp_path / "data.jsonl", compress(LINE * 3))  # extension says nothing about compression
    with open_binary(path) as fh:
        assert fh.read() == LINE * 3
    items = list(read_path(path))
    assert [i.line for i in items] == [1, 2, 3]
    assert all(i.record["messages"] == REC["messages"] for i in items)


def test_zstd_lines_and_multiple_frames(tmp_path: Path) -> None:
    cctx = zstandard.ZstdCompressor()
    path = _write(tmp_path / "x.zst", cctx.compress(LINE * 2) + cctx.compress(LINE))
    assert len(list(read_path(path))) == 3


def test_bom_and_blank_lines_keep_true_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path / "b.jsonl", b"\xef\xbb\xbf" + LINE + b"\n   \n" + LINE + b"\r\n\n" + LINE.rstrip())
    items = list(read_path(path))
    assert [(i.line, i.index) for i in items] == [(1, 0), (4, 1), (7, 2)]
    assert all(i.error is None for i in items)


def test_broken_lines_get_reason_codes(tmp_path: Path) -> None:
    bad_json = b'{"messages": [{"role": "user" "content": "x"}]}\n'
    truncated = LINE[:25] + b"\n"
    bad_utf8 = b'{"messages": [{"role": "user", "content": "caf\xe9"}]}\n'
    path = _write(tmp_path / "m.jsonl", LINE + bad_json + truncated + bad_utf8 + b"[1, 2]\n" + b'{"foo": 1}\n' + LINE)
    items = list(read_path(path))
    assert [i.error[0] if i.error else None for i in items] == [
        None,
        "not_json",
        "not_json",
        "invalid_utf8",
        "data_type",
        "unknown_format",
        None,
    ]
    assert items[1].error[1] == "line 2: Expecting ',' delimiter at column 31"
    assert items[1].record is None and items[1].where.endswith("m.jsonl:2")
    assert items[2].error[1] == "line 3: Unterminated string starting at column 22"
    assert items[3].error[1].startswith("line 4: invalid UTF-8 byte 0xe9 at byte 46 (the text looks like Windows-1252")
    assert "a JSON array" in items[4].error[1]
    assert "foo" in items[5].error[1]


def test_empty_and_whitespace_files_give_zero_records(tmp_path: Path) -> None:
    for name, data in [("e.jsonl", b""), ("w.jsonl", b"\n \n"), ("e.json", b""), ("a.json", b"[]")]:
        path = _write(tmp_path / name, data)
        check_readable(path)
        assert list(read_path(path)) == []


def test_binary_and_non_json_files_are_input_errors(tmp_path: Path) -> None:
    binary = _write(tmp_path / "model.jsonl", b"\x00\x01\x02PK\x00" * 100)
    with pytest.raises(InputError, match="binary file") as err:
        check_readable(binary)
    assert err.value.hint and str(binary) in str(err.value)
    gz_binary = _write(tmp_path / "x.jsonl.gz", gzip.compress(b"\x00" * 50))
    with pytest.raises(InputError, match="binary file"):
        check_readable(gz_binary)
    prose = _write(tmp_path / "notes.jsonl", b"Dear team,\nhere are the chats\n")
    with pytest.raises(InputError, match="not JSON"):
        check_readable(prose)
    utf32 = _write(tmp_path / "u.jsonl", '{"a": 1}\n'.encode("utf-32"))
    with pytest.raises(InputError, match="UTF-32"):
        check_readable(utf32)
    broken_gz = _write(tmp_path / "cut.jsonl.gz", gzip.compress(LINE * 100)[:30])
    with pytest.raises(InputError, match="cannot"):
        check_readable(broken_gz)


def test_a_broken_first_line_is_not_fatal(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.jsonl", b"oops not json\n" + LINE)
    check_readable(path)
    assert [i.error[0] if i.error else None for i in read_path(path)] == ["not_json", None]


def test_a_truncated_first_object_line_stays_jsonl(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.jsonl", LINE[:30] + b"\n" + LINE + LINE)
    assert detect_container(path) == "jsonl"
    assert [i.error[0] if i.error else None for i in read_path(path)] == ["not_json", None, None]
    broken_pretty = _write(tmp_path / "p.json", b'{\n  "messages": [\n    {"role": "user",}\n  ]\n}\n')
    assert detect_container(broken_pretty) == "json_object"
    (item,) = read_path(broken_pretty)
    assert item.error[0] == "not_json" and item.error[1].startswith("element 0: ")


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "p.jsonl", LINE)
    real_open = open

    def deny(file, *args, **kwargs):  # tests run as root, where chmod 000 does not stop reads
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(InputError, match="permission denied") as err:
        check_readable(path)
    assert "chmod" in err.value.hint


def test_missing_paths_and_empty_directories(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file") as err:
        expand_inputs([tmp_path / "nope.jsonl"])
    assert err.value.where.endswith("nope.jsonl") and err.value.hint
    with pytest.raises(InputError, match="no such file"):
        check_readable(tmp_path / "nope.jsonl")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("nothing")
    with pytest.raises(InputError, match="no readable data files") as err:
        expand_inputs([tmp_path / "empty"])
    assert ".jsonl" in err.value.hint
    with pytest.raises(InputError, match="no readable data files"):
        check_readable(tmp_path / "empty")
    with pytest.raises(InputError, match="no input"):
        expand_inputs([])


def test_directory_expansion_sorted_recursive(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "b" / "deep").mkdir(parents=True)
    (root / ".git").mkdir()
    for rel in ["z.jsonl", "a.json", "b/c.jsonl.gz", "b/deep/d.parquet", "b/notes.txt", ".git/x.jsonl", "e.csv"]:
        (root / rel).write_bytes(b"")
    hf = root / "b" / "hf"
    hf.mkdir()
    (hf / "dataset_info.json").write_text("{}")
    (hf / "state.json").write_text("{}")
    (hf / "data-00000-of-00001.arrow").write_bytes(b"")
    single = tmp_path / "single.jsonl"
    single.write_bytes(LINE)
    got = expand_inputs([root, single, root / "z.jsonl"])
    assert [p.relative_to(tmp_path).as_posix() for p in got] == [
        "data/a.json",
        "data/b/c.jsonl.gz",
        "data/b/deep/d.parquet",
        "data/b/hf",
        "data/e.csv",
        "data/z.jsonl",
        "single.jsonl",
    ]
    assert expand_inputs([single, root]) == got  # order of arguments does not matter


def test_a_hub_folder_walk_leaves_out_its_metadata_files(tmp_path: Path) -> None:
    # A dataset repository downloaded from the Hub holds dataset_infos.json beside its data: it was read as a
    # record and came out as an unknown_format reject in every run over the folder.
    (tmp_path / "data").mkdir()
    _write(tmp_path / "data" / "train.jsonl", b'{"messages": [{"role": "user", "content": "q"}]}\n')
    _write(tmp_path / "dataset_infos.json", b'{"default": {"features": {}, "splits": {}}}')
    _write(tmp_path / "Dataset_Info.json", b'{"features": {}}')
    assert expand_inputs([tmp_path]) == [tmp_path / "data" / "train.jsonl"]
    assert expand_inputs([tmp_path / "dataset_infos.json"]) == [tmp_path / "dataset_infos.json"]  # named: read


def test_huge_single_line(tmp_path: Path) -> None:
    big = "x" * (50 << 20)
    record = {"messages": [{"role": "user", "content": "summarise"}, {"role": "assistant", "content": big}]}
    data = orjson.dumps(record)
    path = _write(tmp_path / "big.jsonl", LINE + data + b"\n" + LINE)
    items = list(read_path(path))
    assert [i.line for i in items] == [1, 2, 3]
    assert len(items[1].record["messages"][1]["content"]) == 50 << 20
    array = _write(tmp_path / "big.json", b"[" + LINE + b"," + data + b"," + LINE + b"]")
    payloads = [p for _, _, p in iter_payloads(array)]
    assert len(payloads) == 3 and len(payloads[1]) == len(data)


def test_json_array_vs_single_object_vs_jsonl(tmp_path: Path) -> None:
    pretty = orjson.dumps(REC, option=orjson.OPT_INDENT_2)
    single = _write(tmp_path / "one.json", pretty)
    assert detect_container(single) == "json_object"
    assert len(list(read_path(single))) == 1
    array = _write(tmp_path / "arr.jsonl", orjson.dumps([REC, REC], option=orjson.OPT_INDENT_2))
    assert detect_container(array) == "json"  # content decides, not the .jsonl extension
    assert [(i.line, i.index) for i in read_path(array)] == [(None, 0), (None, 1)]
    lines = _write(tmp_path / "lines.json", LINE * 2)
    assert detect_container(lines) == "jsonl"
    one_line = _write(tmp_path / "one_line.json", LINE)
    assert detect_container(one_line) == "jsonl" and len(list(read_path(one_line))) == 1
    arrays_per_line = _write(tmp_path / "arrays.jsonl", b"[1]\n[2]\n")
    assert detect_container(arrays_per_line) == "jsonl"
    assert [i.error[0] for i in read_path(arrays_per_line)] == ["data_type", "data_type"]


ARRAY_CASES = [
    b'[{"a":1},{"b":2}]',
    b'[1, "x]", {"c":[1,2]}, null]',
    b'[{"a":"}\\n]"} ,\n {"b": 2}\n]',
    b' \n [\n  {\n    "x": "y"\n  },\n  {\n    "x": "}\\"\\\\"\n  }\n]\n',
    b'[{"a":1},\n{"b":[2]}]\n',
    b'[\n{"a": "q\\\\"},\n{"a": "[1, 2]"}\n]',
]


@pytest.mark.parametrize("data", ARRAY_CASES)
@pytest.mark.parametrize("chunk", [1 << 20, 7])
def test_json_array_elements_match_whole_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, chunk: int
) -> None:
    monkeypatch.setattr(containers, "_CHUNK", chunk)  # tiny chunks force every read-more path
    path = _write(tmp_path / "a.json", data)
    got = [orjson.loads(p) for _, _, p in iter_payloads(path, "json")]
    assert got == orjson.loads(data)


def test_json_array_streaming_on_real_file(real_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = real_dir / "lm-sys__FastChat" / "dummy_conversation.json"
    monkeypatch.setattr(containers, "_CHUNK", 4096)
    got = [orjson.loads(p) for _, _, p in iter_payloads(path)]
    assert got == orjson.loads(path.read_bytes())


def test_truncated_and_holey_arrays(tmp_path: Path) -> None:
    cut = _write(tmp_path / "cut.json", b'[{"messages": []}, {"messages": [{"role": "us')
    items = list(read_path(cut))
    assert items[0].error is None and items[1].error[0] == "not_json"
    assert items[1].error[1].startswith("element 1:")
    holes = _write(tmp_path / "holes.json", b'[{"messages": []},,{"messages": []}]')
    assert [i.error[0] if i.error else None for i in read_path(holes)] == [None, "not_json", None]


_RECORD = b'{"messages": [{"role": "user", "content": "q%d"}, {"role": "assistant", "content": "a%d"}]}'


def _firsts(path: Path) -> list[str | None]:
    return [i.record["messages"][0]["content"] if i.record else i.error[0] for i in read_path(path)]


@pytest.mark.parametrize(("name", "body", "broken"), [
    # one '}' too many after an element, then more elements: they were all dropped into one reject
    ("brace", b"[\n%s},\n%s,\n%s\n]" % (_RECORD % (1, 1), _RECORD % (2, 2), _RECORD % (3, 3)), "a stray '}'"),
    ("braces", b"[%s}} , %s, %s]" % (_RECORD % (1, 1), _RECORD % (2, 2), _RECORD % (3, 3)), "a stray '}'"),
    ("bracket", b"[\n%s],\n%s,\n%s\n]" % (_RECORD % (1, 1), _RECORD % (2, 2), _RECORD % (3, 3)), "a stray ']'"),
    # two dumps appended to one file
    ("two_arrays", b"[\n  %s\n]\n[\n  %s,\n  %s\n]\n" % (_RECORD % (1, 1), _RECORD % (2, 2), _RECORD % (3, 3)),
     "a second array starts"),
])
def test_a_stray_bracket_in_a_json_array_is_one_reject_and_the_later_elements_are_read(
    tmp_path: Path, name: str, body: bytes, broken: str,
) -> None:
    path = _write(tmp_path / f"{name}.json", body)
    assert _firsts(path) == ["q1", "not_json", "q2", "q3"]
    detail = list(read_path(path))[1].error[1]
    assert detail.startswith(f"element 1: {broken}") and "the elements after it are read" in detail
    # garbage after the close still stops there, with the reason
    tail = _write(tmp_path / "tail.json", b"[%s]\n%%%%EOF" % (_RECORD % (1, 1)))
    assert _firsts(tail) == ["q1", "not_json"]


def test_a_json_file_holding_one_conversation_as_bare_turns_is_one_record(tmp_path: Path) -> None:
    # A chat exported as a list of its messages was read as one record per message, each unknown_format.
    path = tmp_path / "chat.json"
    path.write_text('[\n {"role": "system", "content": "Be brief."},\n {"role": "user", "content": "2+2?"},\n'
                    ' {"role": "assistant", "content": "4."}\n]\n')
    (item,) = read_path(path)
    assert item.error is None and item.format == "openai"
    assert [m["role"] for m in item.record["messages"]] == ["system", "user", "assistant"]
    share = _write(tmp_path / "share.jsonl", b'[{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]\n')
    (item,) = read_path(share)
    assert item.error is None and item.record["messages"][1] == {"role": "assistant", "content": "yo"}
    # a list of prompts with no answer among them is not one conversation: each stays its own element
    prompts = _write(tmp_path / "prompts.json",
                     b'[{"role": "user", "content": "q1"}, {"role": "user", "content": "q2"}]')
    assert len(list(read_path(prompts))) == 2
    # a flat message table (each row names its conversation) is grouped by that name, not by the file
    table = _write(tmp_path / "table.json", b'[{"conversation_id": 1, "role": "user", "content": "hi"},'
                                            b' {"conversation_id": 2, "role": "user", "content": "hey"},'
                                            b' {"conversation_id": 1, "role": "assistant", "content": "yo"}]')
    assert [[m["content"] for m in i.record["messages"]] for i in read_path(table)] == [["hi", "yo"], ["hey"]]


def _rows() -> list[dict]:
    return [
        {"id": "r1", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]},
        {
            "id": "r2",
            "messages": [{"role": "user", "content": "a", "name": "bob"}, {"role": "assistant", "content": "b"}],
        },
    ]


def test_parquet_rows_drop_struct_nulls(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "x.bin"  # parquet is recognised by its magic bytes
    pq.write_table(pa.Table.from_pylist(_rows()), path)
    assert detect_container(path) == "parquet"
    check_readable(path)
    items = list(read_path(path))
    assert [i.record["id"] for i in items] == ["r1", "r2"]
    # the struct column gives every message a "name": null; canonical records leave it out
    assert items[0].record["messages"][0] == {"role": "user", "content": "hi"}
    assert items[1].record["messages"][0]["name"] == "bob"
    assert items[0].line is None and items[1].index == 1


def test_parquet_text_written_as_plain_binary_reads_as_text(tmp_path: Path) -> None:
    # Spark and Hive write strings as BYTE_ARRAY without the UTF8 mark, so pyarrow hands back bytes: every
    # row of such a table was refused as "binary data (an image or audio)".
    import pyarrow as pa
    import pyarrow.parquet as pq

    turn = pa.struct([("role", pa.binary()), ("content", pa.large_binary())])
    table = pa.table({
        "id": pa.array([b"s1", b"s2"], pa.binary()),
        "messages": pa.array([[{"role": b"user", "content": "Grüße?".encode()},
                               {"role": b"assistant", "content": b"Hallo."}]] * 2, pa.list_(turn)),
    })
    pq.write_table(table, tmp_path / "spark.parquet")
    items = list(read_path(tmp_path / "spark.parquet"))
    assert [i.error for i in items] == [None, None]
    assert [i.record["id"] for i in items] == ["s1", "s2"]
    assert items[0].record["messages"] == [{"role": "user", "content": "Grüße?"},
                                           {"role": "assistant", "content": "Hallo."}]



def test_parquet_binary_text_in_windows_1252_is_an_encoding_reject_not_an_image(tmp_path: Path) -> None:
    # Latin-1 bytes in a binary column were refused as "binary data (an image or audio embedded in the table)"
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"instruction": pa.array(["Caf\u00e9 cr\u00e8me?".encode("cp1252")], pa.binary()),
                      "output": pa.array(["Oui."])})
    pq.write_table(table, tmp_path / "latin.parquet")
    (item,) = read_path(tmp_path / "latin.parquet")
    assert item.error[0] == "invalid_utf8", item.error
    assert "instruction" in item.error[1] and "Windows-1252" in item.error[1]
    # an embedded PNG is still binary data, named as such
    png = pa.table({"instruction": pa.array(["Describe it."]), "output": pa.array(["A cat."]),
                    "image": pa.array([b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xe9\xe8"], pa.binary())})
    pq.write_table(png, tmp_path / "png.parquet")
    (item,) = read_path(tmp_path / "png.parquet")
    assert item.error[0] == "embedded_media" and "binary data" in item.error[1]

def test_parquet_decimal_and_duration_columns_are_numbers_and_an_image_is_refused_by_name(tmp_path: Path) -> None:
    # A decimal score or a duration refused every row, and a row with a duration named the timestamp beside it
    # as the culprit: orjson writes datetimes, so only the duration was at fault.
    import datetime
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    table = pa.table({
        "messages": [messages],
        "score": pa.array([Decimal("0.25")], pa.decimal128(5, 2)),
        "votes": pa.array([Decimal("12")], pa.decimal128(10, 0)),
        "at": pa.array([datetime.datetime(2024, 1, 1)], pa.timestamp("us")),
        "took": pa.array([datetime.timedelta(milliseconds=1500)], pa.duration("ms")),
    })
    pq.write_table(table, tmp_path / "scored.parquet")
    (item,) = read_path(tmp_path / "scored.parquet")
    assert item.error is None
    fields = item.record["metadata"]["fields"]
    assert fields["score"] == 0.25 and fields["votes"] == 12 and type(fields["votes"]) is int
    assert fields["took"] == 1.5
    assert orjson.loads(orjson.dumps(fields["at"])) == "2024-01-01T00:00:00"

    image = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    table = pa.table({"messages": [messages], "at": pa.array([datetime.date(2024, 1, 1)]),
                      "images": pa.array([[{"bytes": b"\x89PNG\r\n", "path": "a.png"}]], pa.list_(image))})
    pq.write_table(table, tmp_path / "vision.parquet")
    (item,) = read_path(tmp_path / "vision.parquet")
    code, detail = item.error
    assert code == "embedded_media" and "images[0].bytes holds binary data" in detail


def test_a_row_value_json_cannot_carry_is_named_not_the_datetime_before_it() -> None:
    import datetime

    from curation.readers.convert import convert_payload

    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
           "at": datetime.datetime(2024, 1, 1), "tags": {"a"}}
    (item,) = convert_payload(row, None, None, "t.parquet", None, 3)
    assert item.error == ("data_type", "element 3: tags holds a value JSON cannot carry (a set); cast that column "
                                       "to a string or number before saving the table")


def test_csv_with_json_and_alpaca_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        'instruction,input,output,topic\nTranslate,"Bonjour, le monde",Hello world,lang\nAdd numbers,,4,math\n',
        encoding="utf-8-sig",
    )
    check_readable(path)
    items = list(read_path(path))
    assert [i.format for i in items] == ["alpaca", "alpaca"]
    assert items[0].record["messages"][0]["content"] == "Translate\n\nBonjour, le monde"
    assert items[1].record["metadata"]["fields"] == {"topic": "math"}
    msgs = tmp_path / "m.tsv.gz"
    msgs.write_bytes(gzip.compress(b'id\tmessages\n7\t[{"role": "user", "content": "q"}]\n'))
    (item,) = read_path(msgs)
    assert item.record["id"] == "7" and item.record["messages"] == [{"role": "user", "content": "q"}]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_csv_saved_with_another_separator_reads_by_its_header(tmp_path: Path, sep: str) -> None:
    # Excel in most European locales saves "CSV" with semicolons: each row was one unknown_format reject
    # whose single key was the whole header ("instruction;input;output").
    path = tmp_path / "export.csv"
    path.write_text(sep.join(["instruction", "input", "output"]) + "\n"
                    + sep.join(["Translate", '"Bonjour, le monde"', "Hello, world"]) + "\n", encoding="utf-8")
    (item,) = read_path(path)
    assert item.format == "alpaca"
    assert item.record["messages"] == [{"role": "user", "content": "Translate\n\nBonjour, le monde"},
                                       {"role": "assistant", "content": "Hello, world"}]


def test_a_csv_row_with_more_cells_than_the_header_names_the_unquoted_separator(tmp_path: Path) -> None:
    # csv puts the extra cells under the key None, and the reject read "a non-string key None; cast that column".
    path = tmp_path / "export.csv"
    path.write_text("prompt;completion\nHow far is the Moon?;About 384,400 km; it varies\nOk?;Yes\n",
                    encoding="utf-8")
    first, second = read_path(path)
    assert first.error == ("data_type", "line 2: 1 more cell(s) than the header's 2 column(s): a cell holding the "
                                        "separator ';' must be quoted (\"...\"), as spreadsheet exports do")
    assert second.error is None


def test_a_record_written_with_json_dumps_twice_is_read(tmp_path: Path) -> None:
    record = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    path = _write(tmp_path / "twice.jsonl", orjson.dumps(orjson.dumps(record).decode()) + b"\n"
                  + orjson.dumps("just a sentence") + b"\n")
    check_readable(path)  # the file check let no line that opens with '"' through
    first, second = read_path(path)
    assert first.error is None and first.record["messages"] == record["messages"]
    assert second.error[0] == "data_type"  # a JSON string that holds no record is still refused


def test_a_windows_1252_csv_row_is_an_invalid_utf8_reject_not_text_full_of_replacement_chars(tmp_path: Path) -> None:
    # An Excel export in Windows-1252: its rows were read with every accented letter turned into U+FFFD and
    # went on into the training data without a word.
    path = tmp_path / "export.csv"
    path.write_bytes('prompt,completion\n"Café crème?","Bien sûr, voilà “ceci”."\nPlain row,Plain answer\n'
                     .encode("cp1252"))
    first, second = read_path(path)
    assert first.error is not None and first.error[0] == "invalid_utf8"
    assert "line 2: column 'prompt': invalid UTF-8 byte 0xe9" in first.error[1]
    assert "iconv -f CP1252 -t UTF-8" in first.error[1] and "Save As 'CSV UTF-8' or .xlsx" in first.error[1]
    assert second.error is None and second.record["messages"][0]["content"] == "Plain row"
    assert "\ufffd" not in str(second.record)


@pytest.mark.parametrize(("text", "encoding", "iconv"), [
    # BELLE's zh_seed_tasks saved by a Chinese Excel as "CSV": the hint said Windows-1252, whose iconv makes
    # mojibake of it
    ("请以下面词语为主题写一首诗,夏天", "gbk", "GB18030"),
    ("日本の首都はどこですか。東京です。", "cp932", "CP932"),
    ("한국어 텍스트입니다 안녕하세요 반갑습니다", "cp949", "CP949"),
    ("請以下面詞語為主題寫一首詩", "big5", "BIG5"),
    ("Café crème brûlée, naïve résumé", "cp1252", "CP1252"),
    ("Erklären Sie die Größe des Bären", "cp1252", "CP1252"),  # "ä" + "r" also reads as one GBK character
    ("Quel plat est célèbre pour la crème brûlée?", "cp1252", "CP1252"),
])
def test_a_legacy_encoded_csv_names_its_own_encoding(tmp_path: Path, text: str, encoding: str, iconv: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(f"prompt,completion\n{text},{text}\n".encode(encoding))
    [item] = read_path(path)
    assert item.error[0] == "invalid_utf8" and f"iconv -f {iconv} -t UTF-8" in item.error[1]


def test_an_invalid_utf8_jsonl_line_names_the_likely_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(LINE + orjson.dumps(REC).replace(b"hello", "héllo".encode("latin-1")) + b"\n")
    good, bad = read_path(path)
    assert good.error is None
    assert bad.error is not None and bad.error[0] == "invalid_utf8"
    assert bad.error[1].startswith("line 2: invalid UTF-8 byte 0xe9") and "Windows-1252" in bad.error[1]


def test_save_to_disk_and_arrow(tmp_path: Path) -> None:
    from datasets import Dataset, DatasetDict

    ds = Dataset.from_list(_rows())
    folder = tmp_path / "hf"
    ds.save_to_disk(str(folder))
    assert expand_inputs([folder]) == [folder]
    check_readable(folder)
    assert detect_container(folder) == "hf_disk"
    assert [i.record["id"] for i in read_path(folder)] == ["r1", "r2"]
    both = tmp_path / "hfdict"
    DatasetDict({"train": ds, "test": ds.select([1])}).save_to_disk(str(both))
    assert [i.record["id"] for i in read_path(both)] == ["r1", "r2", "r2"]
    (arrow,) = sorted(folder.glob("*.arrow"))
    assert [i.record["id"] for i in read_path(arrow)] == ["r1", "r2"]


def test_nested_hf_folder_in_directory(tmp_path: Path) -> None:
    from datasets import Dataset

    Dataset.from_list(_rows()).save_to_disk(str(tmp_path / "root" / "hf"))
    _write(tmp_path / "root" / "a.jsonl", LINE)
    got = expand_inputs([tmp_path / "root"])
    assert [p.name for p in got] == ["a.jsonl", "hf"]
    assert os.path.isdir(got[1])


@pytest.mark.parametrize("compress", [gzip.compress, zstandard.ZstdCompressor().compress, bz2.compress],
                         ids=["gzip", "zstd", "bz2"])
def test_a_truncated_archive_is_a_broken_file_not_a_short_one(tmp_path: Path, compress) -> None:
    # zstandard's stream reader ends quietly at the cut: half the records vanished with exit 0
    packed = compress(LINE * 2000)
    path = _write(tmp_path / "cut.jsonl.x", packed[: len(packed) // 2])
    with pytest.raises(EOFError, match="ended before the end-of-stream marker"):
        with open_binary(path) as fh:
            fh.read()
    two_frames = _write(tmp_path / "two.jsonl.x", compress(LINE) + compress(LINE * 2))
    with open_binary(two_frames) as fh:
        assert fh.read() == LINE * 3  # concatenated frames (zstd -c a b) read through


_UTF16_BODIES = {
    "jsonl": LINE.decode() * 3,
    "json": "[" + ",".join([LINE.decode().strip()] * 3) + "]",
    "csv": "instruction,output\r\nSay hi,h\u00e9llo \u4f60\u597d\r\n",
}


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("suffix", ["jsonl", "json", "csv", "jsonl.gz"])
def test_utf16_files_are_read_as_text(tmp_path: Path, codec: str, suffix: str) -> None:
    # Windows PowerShell's `>` and Out-File write UTF-16 (with a byte-order mark; some tools without one): such a
    # file was one utf16_file reject telling the user to convert it
    data = _UTF16_BODIES[suffix.removesuffix(".gz")].encode(codec)
    path = _write(tmp_path / f"x.{suffix}", gzip.compress(data) if suffix.endswith(".gz") else data)
    check_readable(path)
    items = list(read_path(path))
    assert [i.error for i in items] == [None] * (1 if suffix == "csv" else 3)
    if suffix == "csv":
        assert items[0].record["messages"][1]["content"] == "h\u00e9llo \u4f60\u597d"
    else:
        (plain,) = read_path(_write(tmp_path / "plain.jsonl", LINE))
        assert items[0].record["messages"] == plain.record["messages"]


def test_one_stray_nul_byte_rejects_its_line_not_the_whole_file(tmp_path: Path) -> None:
    broken = LINE.replace(b"hello", b"hel\x00lo")
    path = _write(tmp_path / "x.jsonl", LINE + broken + LINE.replace(b"hi", b"hey"))
    check_readable(path)
    items = list(read_path(path))
    assert [i.error is None for i in items] == [True, False, True]
    assert items[1].error[0] == "not_json" and items[1].line == 2
    png = _write(tmp_path / "image.jsonl", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)))
    with pytest.raises(InputError) as refused:
        check_readable(png)
    assert refused.value.code == "binary_file"


def test_lone_cr_line_endings_are_named_and_pretty_json_with_cr_still_reads(tmp_path: Path) -> None:
    # Classic Mac line endings turned a whole JSONL file into one not_json reject.
    path = _write(tmp_path / "x.jsonl", LINE.replace(b"\n", b"\r") * 3)
    with pytest.raises(InputError) as refused:
        check_readable(path)
    assert refused.value.code == "not_json_file" and "lone CR" in str(refused.value) and "tr '\\r' '\\n'" in str(
        refused.value)
    pretty = _write(tmp_path / "p.json", orjson.dumps([REC, REC], option=orjson.OPT_INDENT_2).replace(b"\n", b"\r"))
    check_readable(pretty)
    assert [i.error for i in read_path(pretty)] == [None, None]


def test_an_excel_workbook_is_read_sheet_by_sheet(tmp_path: Path) -> None:
    # A chat export saved from Excel was a binary_file (or invalid_utf8) reject that told the user nothing.
    import datetime

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([])  # a blank row before the header, as hand-made sheets have
    sheet.append(["prompt", "completion", "rating", None, "prompt"])
    sheet.append(["What is 2+2?", "4.", 5, None, "dup"])
    sheet.append([None, None, None])
    sheet.append(["Capital of France?", "Paris.", 4.5, None, None])
    more = book.create_sheet("more")
    more.append(["messages", "when"])
    more.append(['[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]',
                 datetime.datetime(2024, 5, 1, 10, 0)])
    path = tmp_path / "export.xlsx"
    book.save(path)
    assert detect_container(path) == "xlsx"
    check_readable(path)
    items = list(read_path(path))
    assert [i.error for i in items] == [None, None, None]
    assert [i.index for i in items] == [0, 1, 2]
    assert [i.line for i in items] == [3, 5, 2]  # the row numbers Excel shows, blank rows counted
    assert items[0].record["messages"] == [{"role": "user", "content": "What is 2+2?"},
                                           {"role": "assistant", "content": "4."}]
    assert items[0].record["metadata"]["fields"] == {"rating": 5, "prompt_5": "dup"}
    assert items[2].record["messages"][1] == {"role": "assistant", "content": "yo"}
    assert expand_inputs([tmp_path]) == [path]


def test_other_archives_and_old_excel_files_are_named(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "data.zip", "w") as archive:
        archive.writestr("train.jsonl", '{"messages": []}\n')
    with pytest.raises(InputError, match="a zip archive, not a data file") as err:
        check_readable(tmp_path / "data.zip")
    assert err.value.code == "binary_file" and "unzip data.zip -d DIR" in str(err.value)
    with pytest.raises(InputError, match="not a readable Excel workbook"):
        check_readable(_write(tmp_path / "cut.xlsx", b"PK\x03\x04" + b"\x00" * 40))
    old = _write(tmp_path / "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    with pytest.raises(InputError, match=r"Excel 97-2003 workbook \(\.xls\)"):
        check_readable(old)


def test_a_datasets_folder_whose_splits_have_different_columns_reads_every_split(tmp_path: Path) -> None:
    # The columns to convert were decided from the first batch only: a binary column in `train` alone raised
    # KeyError on the `test` rows and the whole folder became one unreadable_file reject.
    from datasets import Dataset, DatasetDict, Features, Value

    train = Dataset.from_dict({"instruction": ["a"], "output": ["x"], "blob": [b"ok"]},
                              features=Features({"instruction": Value("string"), "output": Value("string"),
                                                 "blob": Value("binary")}))
    test = Dataset.from_dict({"instruction": ["c"], "output": ["z"]})
    DatasetDict({"train": train, "test": test}).save_to_disk(tmp_path / "ds")
    items = list(read_path(tmp_path / "ds"))
    assert [i.error for i in items] == [None, None]
    assert items[0].record["metadata"]["fields"] == {"blob": "ok"}


def test_map_cells_and_decimals_past_64_bits(tmp_path: Path) -> None:
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "messages": [[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]],
        "tags": pa.array([[(b"lang", b"en")]], pa.map_(pa.binary(), pa.binary())),  # Spark's map<string,string>
        "big": pa.array([Decimal(2**70 + 1)], pa.decimal128(38, 0)),
    })
    pq.write_table(table, tmp_path / "spark.parquet")
    (item,) = read_path(tmp_path / "spark.parquet")
    assert item.error is None
    assert item.record["metadata"]["fields"] == {"tags": [["lang", "en"]], "big": str(2**70 + 1)}


def test_a_run_of_bracket_breaks_is_one_reject_and_the_rejects_are_capped(tmp_path: Path) -> None:
    # '[...]' then 300,000 '[]' gave 300,000 not_json rejects (674 MB of rejects for a 600 KB file).
    storm = _write(tmp_path / "storm.json", b"[%s]" % (_RECORD % (1, 1)) + b"[]" * 300_000)
    items = list(read_path(storm))
    assert [i.error[0] if i.error else None for i in items] == [None, "not_json"]
    assert "300,000" in items[1].error[1]
    # breaks with elements between them are each named, up to a cap; past it one reject says so and every later
    # element is still read (5,000 arrays appended: all 5,000 records)
    many = _write(tmp_path / "many.json", b"[" + b"],".join(_RECORD % (n, n) for n in range(500)) + b"]")
    items = list(read_path(many))
    broken = [i for i in items if i.error]
    assert len(broken) == 101 and "not one JSON array" in broken[-1].error[1]
    assert sum(1 for i in items if i.record) == 500
    appended = _write(tmp_path / "appended.json", b"".join(b"[%s]" % (_RECORD % (n, n)) for n in range(5000)))
    assert sum(1 for i in read_path(appended) if i.record) == 5000
    braces = _write(tmp_path / "braces.json", b"[" + b"},".join(_RECORD % (n, n) for n in range(2000)) + b"]")
    assert sum(1 for i in read_path(braces) if i.record) == 2000


def test_a_comma_after_the_closing_bracket_rejects_nothing(tmp_path: Path) -> None:
    # "[...]," at the end of a file: no element follows, so no reject saying "the elements after it are read"
    path = _write(tmp_path / "trail.json", b"[%s, %s],\n" % (_RECORD % (1, 1), _RECORD % (2, 2)))
    assert _firsts(path) == ["q1", "q2"]


def test_a_second_array_after_a_comma_is_read_as_elements(tmp_path: Path) -> None:
    # "[...],\n[...]": the second array was one nested element, refused as data_type
    body = b"[%s],\n[%s, %s]\n" % (_RECORD % (1, 1), _RECORD % (2, 2), _RECORD % (3, 3))
    path = _write(tmp_path / "comma.json", body)
    items = list(read_path(path))
    assert _firsts(path) == ["q1", "not_json", "q2", "q3"]
    assert items[1].error[1].startswith("element 1: a second array starts")


_USER = b'{"role": "user", "content": "%s"}'
_BOT = b'{"role": "assistant", "content": "%s"}'


def test_bare_turn_chats_appended_to_one_file_are_one_record_each(tmp_path: Path) -> None:
    # two exported chats in one file fell back to one unknown_format reject per message
    one = b"[%s, %s]" % (_USER % b"q1", _BOT % b"a1")
    two = b"[%s, %s]" % (_USER % b"q2", _BOT % b"a2")
    for name, body in [("appended", one + two), ("comma", one + b",\n" + two), ("newline", one + b"\n" + two)]:
        items = list(read_path(_write(tmp_path / f"{name}.json", body)))
        # one chat per line is JSONL of turn lists, nothing broken; otherwise the break between them is named
        between = [] if name == "newline" else ["not_json"]
        assert [i.error[0] if i.error else [m["content"] for m in i.record["messages"]] for i in items] == [
            ["q1", "a1"], *between, ["q2", "a2"]], name


def test_bare_turns_with_a_timestamp_or_an_id_are_one_conversation(tmp_path: Path) -> None:
    path = _write(tmp_path / "chat.json",
                  b'[{"id": "m1", "role": "user", "content": "2+2?", "timestamp": "2026-01-01T10:00:00Z"},'
                  b' {"id": "m2", "role": "assistant", "content": "4.", "timestamp": "2026-01-01T10:00:02Z"}]')
    (item,) = read_path(path)
    assert item.error is None
    assert [(m["role"], m["content"]) for m in item.record["messages"]] == [("user", "2+2?"), ("assistant", "4.")]


def test_a_stray_bracket_inside_one_bare_turn_chat_does_not_split_it(tmp_path: Path) -> None:
    # only "arrays appended" ends a chat: a stray ']' or '}' between its turns made the question one
    # unknown_format reject and the answer a record of its own
    for name, body in [("bracket", b"[%s], %s]" % (_USER % b"q1", _BOT % b"a1")),
                       ("brace", b"[%s}, %s]" % (_USER % b"q1", _BOT % b"a1"))]:
        items = list(read_path(_write(tmp_path / f"{name}.json", body)))
        assert [i.error[0] if i.error else [m["content"] for m in i.record["messages"]] for i in items] == [
            ["q1", "a1"], "not_json"], name


def test_empty_arrays_and_empty_slots_between_records_are_one_reject_a_run(tmp_path: Path) -> None:
    # '[rec],[],[rec2]' refused the second array whole as one data_type element (rec2 lost); ',[]' x 300,000
    # and '[rec' + 300,000 commas gave 300,000 rejects each
    lost = _write(tmp_path / "lost.json", b"[%s],[],[%s]" % (_RECORD % (1, 1), _RECORD % (2, 2)))
    assert _firsts(lost) == ["q1", "not_json", "q2"]
    storm = _write(tmp_path / "storm.json", b"[%s]" % (_RECORD % (1, 1)) + b",[]" * 300_000)
    items = list(read_path(storm))
    assert [i.error[0] if i.error else None for i in items] == [None, "not_json"]
    assert "300,000 breaks" in items[1].error[1]
    commas = _write(tmp_path / "commas.json", b"[%s" % (_RECORD % (1, 1)) + b"," * 300_000)
    items = list(read_path(commas))
    assert [i.error[0] if i.error else None for i in items] == [None, "not_json"]
    assert "299,999 empty slots" in items[1].error[1]
    # a single empty slot is one reject as before, the records around it read
    one = _write(tmp_path / "one.json", b"[%s,,%s]" % (_RECORD % (1, 1), _RECORD % (2, 2)))
    assert _firsts(one) == ["q1", "not_json", "q2"]


def test_past_the_break_cap_appended_bare_turn_chats_stay_one_record_each(tmp_path: Path) -> None:
    # past 100 breaks no reject names a break, and the chats after it ran together into one record
    chats = b"".join(b"[%s, %s]" % (_USER % b"q%d" % n, _BOT % b"a%d" % n) for n in range(300))
    items = list(read_path(_write(tmp_path / "chats.json", chats)))
    records = [i.record for i in items if i.record]
    assert [r["messages"][0]["content"] for r in records] == [f"q{n}" for n in range(300)]
    assert all(len(r["messages"]) == 2 for r in records)
    assert sum(1 for i in items if i.error) == 101


def test_a_csv_quote_that_is_never_closed_is_named_not_read_as_one_cell(tmp_path: Path) -> None:
    # the csv module read every line after the stray quote into one cell: one "valid" record whose answer was
    # the rest of the file
    path = _write(tmp_path / "q.csv", b'question,answer\nHi?,Hello.\nWhat?,"unterminated\nSay,x\nMore,y\n')
    items = list(read_path(path))
    assert items[0].error is None and items[0].record["messages"][1]["content"] == "Hello."
    assert items[1].error is not None and items[1].error[0] == "data_type"
    assert "line 3" in items[1].error[1] and "never closed" in items[1].error[1]
    assert len(items) == 2
    # a quoted cell over several lines, closed, is one cell as before
    fine = _write(tmp_path / "fine.csv", b'question,answer\nWhat?,"two\nlines, ""quoted"""\nSay,x\n')
    assert [i.record["messages"][1]["content"] for i in read_path(fine)] == ['two\nlines, "quoted"', "x"]


def test_spreadsheet_headers_in_capitals_or_with_spaces_are_read(tmp_path: Path) -> None:
    # a hand-made sheet names its columns "Question", "Answer", "Instruction", "Output": every row was
    # unknown_format
    for header, kind in [(b"Question,Answer,Category", "pair"), (b"Instruction,Input,Output,Category", "alpaca"),
                         (b"Prompt,Response,Category", "pair"), (b" User , Assistant ,Category", "pair")]:
        row = b"What is 2+2?,It is 4.,math" if kind == "pair" else b"What is 2+2?,,It is 4.,math"
        (item,) = read_path(_write(tmp_path / "sheet.csv", header + b"\r\n" + row + b"\r\n"))
        assert item.error is None, (header, item.error)
        assert item.format == kind
        assert [m["content"] for m in item.record["messages"]] == ["What is 2+2?", "It is 4."]
        assert item.record["metadata"]["fields"] == {"Category": "math"}  # columns it does not read keep their name
    # two columns that fold to one name are not guessed at
    (both,) = read_path(_write(tmp_path / "both.csv", b"Question,question,Answer\r\na,b,c\r\n"))
    assert both.error is not None and both.error[0] == "unknown_format"


def test_a_polars_parquet_with_a_categorical_inside_its_messages_is_read_whole(tmp_path: Path) -> None:
    # Read in batches that crossed row groups, such a (valid) file failed after its first 1,000 rows: the rest
    # was one unreadable_file reject, and the run went on with a quarter of the data.
    import polars as pl

    rows = [{"messages": [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"a {i}"}]}
            for i in range(2600)]
    frame = pl.DataFrame(rows).with_columns(pl.col("messages").list.eval(pl.struct(
        pl.element().struct.field("role").cast(pl.Categorical), pl.element().struct.field("content"))))
    path = tmp_path / "chats.parquet"
    frame.write_parquet(path, row_group_size=1500)
    items = list(read_path(path))
    assert len(items) == 2600 and [i for i in items if i.error] == []
    assert items[2599].record["messages"][0] == {"role": "user", "content": "question 2599"}


def test_spreadsheet_csv_quirks_sep_line_blank_rows_and_repeated_headers(tmp_path: Path) -> None:
    # Excel's "sep=;" first line (every row was a data_type reject), Google Sheets' trailing ",," rows (an
    # empty_content reject each) and a repeated column name (the last, empty column hid the first)
    sep = tmp_path / "excel.csv"
    sep.write_bytes(b"sep=;\r\ninstruction;input;output\r\nName a colour.;;Blue.\r\nName a fruit.;;Apple.\r\n")
    items = list(read_path(sep))
    assert [i.record["messages"][1]["content"] for i in items] == ["Blue.", "Apple."]
    assert [i.index for i in items] == [0, 1]
    blank = tmp_path / "sheet.csv"
    blank.write_text("instruction,input,output\nName a colour.,,Blue.\n,,\n, ,\nName a fruit.,,Apple.\n,,\n")
    assert [i.record["messages"][0]["content"] for i in read_path(blank)] == ["Name a colour.", "Name a fruit."]
    twice = tmp_path / "dup.csv"
    twice.write_text("instruction,input,output,output\nName a colour.,,Blue.,\n")
    (item,) = read_path(twice)
    assert item.record["messages"][1]["content"] == "Blue."
    assert item.record["metadata"]["fields"]["output_4"] == ""
    broken = tmp_path / "broken.csv"
    broken.write_text("sep=,\ninstruction,output\nok,fine\na,b,c\n")
    errors = [i.error for i in read_path(broken) if i.error]
    assert errors and errors[0][1].startswith("line 4:")  # the file's own line numbers, sep line counted


def test_a_dataset_dict_folder_is_one_input_per_split(tmp_path: Path) -> None:
    # DatasetDict.save_to_disk: its test and validation splits were read into train with no word, and every
    # record's source was the folder
    import datasets

    def chats(n: int, tag: str) -> datasets.Dataset:
        return datasets.Dataset.from_list([{"messages": [{"role": "user", "content": f"{tag} question {i}"},
                                                         {"role": "assistant", "content": f"answer {i}"}]}
                                           for i in range(n)])

    folder = tmp_path / "dd"
    datasets.DatasetDict({"train": chats(5, "train"), "test": chats(2, "test")}).save_to_disk(str(folder))
    inputs = expand_inputs([folder])
    assert inputs == [folder / "test", folder / "train"]
    assert [len(list(read_path(p))) for p in inputs] == [2, 5]
    from curation.pipeline.runner import _held_out_input_warnings

    warned = _held_out_input_warnings([(p, None, None, None) for p in inputs])
    assert len(warned) == 1 and f"input {folder / 'test'} is named like a held-out split" in warned[0]


def test_a_datasets_cache_folder_leaves_out_the_caches_of_map_and_filter(tmp_path: Path) -> None:
    # load_dataset(..., cache_dir=C).map(...).filter(...) leaves cache-*.arrow files beside the dataset: read,
    # they gave 255 exact duplicates and 256 unknown_format rows (a filter's cache is a column of indices)
    data = tmp_path / "c" / "json" / "default" / "0.0.0"
    data.mkdir(parents=True)
    (data / "json-train.arrow").write_bytes(b"")
    (data / "cache-1a2b3c.arrow").write_bytes(b"")
    (data / "cache-4d5e6f.arrow").write_bytes(b"")
    assert expand_inputs([tmp_path / "c"]) == [data / "json-train.arrow"]


def test_excel_unicode_text_export_is_read_as_tsv(tmp_path: Path) -> None:
    # Excel's "Unicode Text (*.txt)": UTF-16 with a BOM, tab-separated; it was 109 not_json rejects, one per line
    path = tmp_path / "export.txt"
    path.write_bytes("instruction\tinput\toutput\r\n请写一首诗\t\t夏天来了\r\nSay hi\t\tHello\r\n".encode("utf-16"))
    assert detect_container(path) == "tsv"
    items = list(read_path(path))
    assert [i.error for i in items] == [None, None]
    assert items[0].record["messages"][1] == {"role": "assistant", "content": "夏天来了"}


def test_excel_unicode_text_export_is_read_by_inspect_run_and_a_folder_walk(tmp_path: Path) -> None:
    # read_path read it, but `curate inspect`/`run` refused it (check_readable: "no line starts with '{'"), and a
    # folder walk left it out with advice to convert a chat transcript
    from curation.cli import main
    from curation.readers import check_readable, skipped_files

    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "export.txt"
    path.write_bytes("instruction\tinput\toutput\r\nSay hi\t\tHello\r\nSay bye\t\tGoodbye\r\n".encode("utf-16"))
    (folder / "notes.txt").write_text("Ann: hi\nBob: hello\n", encoding="utf-8")
    check_readable(path)
    assert expand_inputs([folder]) == [path] and skipped_files([folder]).unread == [folder / "notes.txt"]
    assert main(["inspect", str(path)]) == 0
    assert main(["run", "--input", str(folder), "--out", str(tmp_path / "run"), "--quiet", "--export", "none"]) == 0
    report = orjson.loads((tmp_path / "run" / "report.json").read_bytes())
    assert report["records_in"] == 2


def test_a_bad_csv_row_over_several_lines_is_named_at_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "poems.csv"
    path.write_bytes('prompt,completion\n"Write a poem","Summer\nis here, caf\xe9"\nok,fine\n'.encode("latin-1"))
    first, second = read_path(path)
    assert first.error[0] == "invalid_utf8" and first.error[1].startswith("line 2:"), first.error
    assert second.error is None


@pytest.mark.parametrize("text", [
    "[12/03/2023, 10:15:32] Ann: hello\n[12/03/2023, 10:16:01] Bob: hi there\n",  # WhatsApp on iOS
    "12/03/2023, 10:15 - Ann: hello\n12/03/2023, 10:16 - Bob: hi\n",  # and on Android
])
def test_a_chat_apps_text_export_is_named_as_one(tmp_path: Path, text: str) -> None:
    # the iOS lines open with "[" and were read as broken JSON arrays ("Extra data at column 3")
    path = _write(tmp_path / "chat.txt", text.encode())
    with pytest.raises(InputError, match="a chat app's text export") as err:
        check_readable(path)
    assert err.value.code == "not_json_file" and "convert it to JSONL" in str(err.value)


def test_a_folder_walk_names_the_xls_archives_and_hidden_files_it_leaves_out(tmp_path: Path) -> None:
    from curation.readers import skipped_files

    folder = tmp_path / "in"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / "chats.jsonl").write_text('{"messages": [{"role": "user", "content": "Hi"}]}\n')
    (folder / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    (folder / "data.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    assert [(p.name, why) for p, why in skipped_files([folder]).left_out] == [
        (".DS_Store", "hidden file"), (".git", "hidden folder"),
        ("data.zip", "an archive, not read: extract it and pass the folder"),
        ("old.xls", "old Excel: save as .xlsx or CSV")]


def test_a_csv_without_a_header_line_loses_no_row(tmp_path: Path) -> None:
    # hendrycks/test's MMLU CSVs have no header: the first question was taken for column names, so 3 rows gave 2
    # rejects and the first record was in neither the splits nor the rejects
    path = tmp_path / "abstract_algebra_test.csv"
    path.write_text("\"Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\","
                    "0,4,2,6,B\n"
                    "\"Let p = (1, 2, 5, 4)(2, 3) in S_5 . Find the index of <p> in S_5.\",8,2,24,120,C\n"
                    "Statement 1 | Every element of a group generates a cyclic subgroup.,\"True, True\","
                    "\"False, False\",\"True, False\",\"False, True\",A\n", encoding="utf-8")
    items = list(read_path(path))
    assert [item.record["messages"][1]["content"] for item in items] == ["B. 4", "C. 24", "A. True, True"]
    other = tmp_path / "notes.csv"
    other.write_text("A sentence of data that has no header above it,1,2\nanother row of the same kind here,3,4\n",
                     encoding="utf-8")
    refusals = [item.error for item in read_path(other)]
    assert len(refusals) == 2 and all(code == "unknown_format" and "has no header line" in detail
                                      for code, detail in refusals)
    # a header of long names (a form export's questions) is still a header
    form = tmp_path / "form.csv"
    form.write_text("How satisfied are you with the answer you got?,What did the assistant reply?\n"
                    "very,Hello there\n", encoding="utf-8")
    assert [item.error[1].split("(")[1].split(")")[0] for item in read_path(form)] == [
        "How satisfied are you with the answer you got?, What did the assistant reply?"]
