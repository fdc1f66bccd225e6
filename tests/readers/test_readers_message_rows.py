"""A flat message table (one row per message, naming its conversation), as a database or support tool exports
chats: grouped into conversations. Each row was an unknown_format reject ("no known format has these keys")."""

from __future__ import annotations

from pathlib import Path

import orjson

from curation.cli import main
from curation.readers import read_path

CSV = """conversation_id,turn,role,content,created_at,channel
c1,2,assistant,"Your order ships tomorrow, by courier.",2024-05-01T10:00:05,web
c2,1,user,Do you ship to Canada?,2024-05-01T11:00:00,email
c1,1,user,Where is my order 1234?,2024-05-01T10:00:00,web
c2,2,assistant,"Yes, in five to seven days.",2024-05-01T11:00:09,email
c1,10,assistant,You're welcome.,2024-05-01T10:01:03,web
c1,3,user,Thanks!,2024-05-01T10:01:00,web
"""


def test_rows_are_grouped_by_conversation_and_ordered_by_turn(tmp_path: Path) -> None:
    path = tmp_path / "chats.csv"
    path.write_text(CSV, encoding="utf-8")
    first, second = read_path(path)
    assert first.error is None and first.record["id"] == "c1" and first.index == 0
    # "10" after "3": a CSV cell's turn number is a number, not text
    assert [m["content"] for m in first.record["messages"]] == [
        "Where is my order 1234?", "Your order ships tomorrow, by courier.", "Thanks!", "You're welcome."]
    assert second.record["id"] == "c2" and [m["role"] for m in second.record["messages"]] == ["user", "assistant"]
    fields = first.record["metadata"]["fields"]
    assert fields["channel"] == "web"  # shared by every row: kept once
    assert fields["turn_fields"][0]["fields"] == {"turn": "1", "created_at": "2024-05-01T10:00:00"}


def test_without_a_turn_number_rows_keep_timestamp_or_file_order(tmp_path: Path) -> None:
    rows = [{"session_id": 7, "speaker": "user", "text": "b?", "timestamp": "2024-01-01T00:00:09"},
            {"session_id": 7, "speaker": "user", "text": "a?", "timestamp": "2024-01-01T00:00:01"},
            {"session_id": 7, "speaker": "assistant", "text": "yes", "timestamp": "2024-01-01T00:00:05"},
            {"thread_id": "t", "sender": "user", "message": "one"},
            {"thread_id": "t", "sender": "assistant", "message": "two"}]
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    by_time, by_file = read_path(path)
    assert [m["content"] for m in by_time.record["messages"]] == ["a?", "yes", "b?"]
    assert by_time.record["metadata"]["fields"]["session_id"] == 7
    assert [m["content"] for m in by_file.record["messages"]] == ["one", "two"]


def test_a_run_counts_conversations_and_keeps_each_in_one_split(tmp_path: Path) -> None:
    lines = []
    for c in range(30):
        lines.append(f"{c},1,user,What is {c} times {c + 7}?")
        lines.append(f"{c},2,assistant,{c} times {c + 7} is {c * (c + 7)}.")
    path = tmp_path / "chats.csv"
    path.write_text("conversation_id,turn,role,content\n" + "\n".join(reversed(lines)) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", "--input", str(path), "--out", str(out), "--quiet"]) == 0
    kept = [orjson.loads(line) for name in ("train", "validation")
            for line in (out / "splits" / f"{name}.jsonl").read_bytes().splitlines()]
    rejects = (out / "rejects.jsonl").read_bytes().splitlines()
    assert len(kept) + len(rejects) == 30 and len(kept) >= 25
    assert all([m["role"] for m in r["messages"]] == ["user", "assistant"] for r in kept)
    report = orjson.loads((out / "report.json").read_bytes())
    assert report["records_in"] == 30 and report["records_out"] == len(kept)  # conversations, not 60 rows


def test_rows_are_ordered_by_their_time_read_as_a_time(tmp_path) -> None:
    # "3/1/2024 9:58 AM" sorted as text after "3/1/2024 10:02 AM": the agent answered first and the customer's
    # turns were trimmed as trailing ones (too_few_turns); `sender_type` was no role column at all
    from curation.readers import read_path

    path = tmp_path / "warehouse.csv"
    path.write_text("conversation_id,sender_type,created_at,body\n"
                    'c-1,customer,3/1/2024 10:15 AM,"Thanks, that worked!"\n'
                    "c-1,customer,3/1/2024 9:58 AM,My invoice PDF is blank.\n"
                    "c-1,agent,3/1/2024 10:02 AM,Please try Settings > Billing.\n"
                    "c-2,agent,1709287200,Hello\nc-2,customer,1709287140,Hi there\n")
    first, second = list(read_path(path))
    assert [m["content"] for m in first.record["messages"]] == [
        "My invoice PDF is blank.", "Please try Settings > Billing.", "Thanks, that worked!"]
    assert [m["content"] for m in second.record["messages"]] == ["Hi there", "Hello"]  # epoch seconds as text


def test_dates_both_readings_fit_take_the_order_of_the_file_and_role_words_beat_names(tmp_path) -> None:
    # "12/03/2024 23:59" then "01/04/2024 00:01": day-first (12 March, 1 April) keeps the file's order, the US
    # reading (3 Dec, 4 Jan) reversed it; `sender` held names and `sender_type` the roles
    from curation.readers import read_path

    path = tmp_path / "rows.csv"
    path.write_text("conversation_id,sender,sender_type,created_at,body\n"
                    "c1,Jane Doe,user,12/03/2024 23:59,My order is late.\n"
                    "c1,Bob (support),assistant,01/04/2024 00:01,\"Sorry, it ships today.\"\n")
    [item] = read_path(path)
    assert [(m["role"], m["content"]) for m in item.record["messages"]] == [
        ("user", "My order is late."), ("assistant", "Sorry, it ships today.")]


def test_message_rows_inside_a_wrapper_are_grouped_into_conversations(tmp_path) -> None:
    # a Crisp API response {"data": [rows]}: two one-message records, both rejected; the same rows as JSONL grouped
    import json

    from curation.readers import read_path

    path = tmp_path / "crisp.json"
    path.write_text(json.dumps({"data": [{"session_id": "s1", "from": "user", "content": "hi"},
                                         {"session_id": "s1", "from": "assistant", "content": "hello"}]}))
    [item] = list(read_path(path))
    assert [(m["role"], m["content"]) for m in item.record["messages"]] == [("user", "hi"), ("assistant", "hello")]


# A help-desk database export with its own column names: none of the known ones, so each row was an
# unknown_format reject and a mapping could not name the conversation column.
DESK_CSV = """case_no,sent,who,msg,queue
A-7,2024-05-01 10:00:09,Agent,"Hi Sam, a new one ships today.",billing
B-2,2024-05-01 11:00:00,Client,Can I change my address?,shipping
A-7,2024-05-01 10:00:00,Client,My charger broke after a week.,billing
B-2,2024-05-01 11:02:00,Agent,"Yes: Settings, then Addresses.",shipping
A-7,2024-05-01 10:05:00,Client,Thanks!,billing
"""
DESK_MAPPING = {"conversation": "case_no", "order": "sent", "role": "who", "content": "msg",
                "roles": {"Agent": "assistant", "Client": "user"}}


def test_a_mapping_names_the_conversation_order_role_and_text_columns_of_a_message_table(tmp_path: Path) -> None:
    from curation.readers import FieldMapping

    path = tmp_path / "desk.csv"
    path.write_text(DESK_CSV, encoding="utf-8")
    first, second = read_path(path, mapping=FieldMapping(**DESK_MAPPING))
    assert first.error is None and first.record["id"] == "A-7" and first.index == 0
    assert [(m["role"], m["content"]) for m in first.record["messages"]] == [
        ("user", "My charger broke after a week."), ("assistant", "Hi Sam, a new one ships today."),
        ("user", "Thanks!")]
    assert first.record["metadata"]["fields"]["queue"] == "billing"
    assert [m["role"] for m in second.record["messages"]] == ["user", "assistant"]
    # the order column is the mapping's: a column of another name is not read as the order
    shuffled = DESK_CSV.replace("sent,", "stamp,")
    path.write_text(shuffled, encoding="utf-8")
    first, _ = read_path(path, mapping=FieldMapping(**{**DESK_MAPPING, "order": "stamp"}))
    assert first.record["messages"][0]["content"] == "My charger broke after a week."
    # without the mapping the rows are refused one by one, as before, and say so
    assert all(item.error is not None and item.error[0] == "unknown_format" for item in read_path(path))


def test_a_run_groups_a_mapped_message_table_with_either_executor(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "desk.csv"
    lines = ["case_no,sent,who,msg"]
    for c in range(24):
        lines.append(f"K{c},2024-05-01 10:{c:02d}:30,Agent,Case {c}: the refund of {c * 3} euros is on its way.")
        lines.append(f"K{c},2024-05-01 10:{c:02d}:00,Client,Where is my refund for order {c}?")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outputs = []
    for executor in ("inprocess", "processes"):
        out = tmp_path / executor
        config = tmp_path / f"{executor}.yaml"
        config.write_text(yaml.safe_dump({
            "inputs": [{"path": str(path), "mapping": {k: v for k, v in DESK_MAPPING.items() if k != "order"}
                        | {"order": "sent"}}],
            "out": str(out), "export": {"formats": []}, "runner": {"executor": executor, "workers": 2}}))
        assert main(["run", str(config), "--quiet"]) == 0
        report = orjson.loads((out / "report.json").read_bytes())
        assert report["records_in"] == 24  # conversations, not 48 rows
        kept = [orjson.loads(line) for name in ("train", "validation")
                for line in (out / "splits" / f"{name}.jsonl").read_bytes().splitlines()]
        assert kept and all([m["role"] for m in r["messages"]] == ["user", "assistant"] for r in kept)
        outputs.append(b"".join((out / "splits" / f"{name}.jsonl").read_bytes() for name in ("train", "validation")))
    assert outputs[0] == outputs[1]
