"""A table's empty cells (null in JSON Lines and Arrow, "" in CSV) are columns some other row uses: a mixed
SFT + preference export gives every SFT row null `chosen`/`rejected`. They must not decide the layout."""

from __future__ import annotations

from pathlib import Path

import orjson
from read_helpers import read

from curation.checks import check_record
from curation.readers import read_path
from curation.readers.convert import convert_payload

TURNS = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello, how can I help?"}]


def test_null_preference_columns_leave_a_conversation_a_conversation() -> None:
    record = read({"messages": TURNS, "chosen": None, "rejected": None, "prompt": None})
    assert record["messages"] == TURNS and "chosen" not in record


def test_empty_cells_do_not_hide_the_columns_that_hold_the_record() -> None:
    record = read({"instruction": "Say hi", "input": "", "output": "Hi there!", "chosen": "", "rejected": ""})
    assert record["messages"] == [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hi there!"}]
    record = read({"prompt": "Say hi", "completion": "Hi!", "messages": None})
    assert record["messages"][-1] == {"role": "assistant", "content": "Hi!"}


def test_a_row_that_is_empty_where_its_own_layout_needs_text_is_still_judged_as_that_layout() -> None:
    # an alpaca row with an empty answer is an empty answer (validation says so), not an unknown layout
    items = convert_payload(orjson.dumps({"instruction": "Say hi", "input": "", "output": ""}), None, None, "x", 1, 0)
    assert items[0].record is not None and items[0].record["metadata"]["source"]["format"] == "alpaca"
    assert "empty_content" in {f.code for f in check_record(items[0].record)}
    pair = {"chosen": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "rejected": None}
    items = convert_payload(orjson.dumps(pair), None, None, "x", 1, 0)
    assert items[0].record is not None and items[0].record["metadata"]["source"]["format"] == "preference"


def test_a_mixed_csv_export_reads_every_row_in_its_own_layout(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "prompt,chosen,rejected,instruction,output\n"
        '"What is 2+2?","4","5","",""\n'
        '"","","","Say hi","Hi there!"\n', encoding="utf-8")
    records = [item.record for item in read_path(path)]
    assert records[0]["chosen"] == [{"role": "assistant", "content": "4"}]
    assert records[1]["messages"][-1] == {"role": "assistant", "content": "Hi there!"}
