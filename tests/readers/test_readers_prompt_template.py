"""`mapping.prompt_template`: a user turn written from a record's fields, for datasets whose request is data with
no instruction in it. Rows are built to the published columns of knkarthick/samsum (its first train row, CC BY-NC-ND
4.0, with the CRLF line breaks the Hub's copy has) and of a support-ticket table."""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from curation.readers.convert import convert_payload
from curation.readers.mapping import FieldMapping

SAMSUM = {"id": "13818513", "dialogue": "Amanda: I baked  cookies. Do you want some?\r\nJerry: Sure!\r\nAmanda: "
          "I'll bring you tomorrow :-)", "summary": "Amanda baked cookies and will bring Jerry some tomorrow."}


def convert(row: dict, mapping: FieldMapping | None) -> tuple:
    [item] = convert_payload(orjson.dumps(row), None, mapping, "x.jsonl", 4, 3)
    return item.record, item.error


def test_samsum_is_refused_with_the_template_to_write_and_read_with_it() -> None:
    record, (code, detail) = convert(SAMSUM, None)
    assert record is None and code == "unknown_format"
    assert "summarisation row (dialogue -> summary)" in detail and 'prompt_template: "Summarize this' in detail
    mapping = FieldMapping(prompt_template="Summarize this dialogue:\n\n{dialogue}", completion="summary")
    record, error = convert(SAMSUM, mapping)
    assert error is None and record["id"] == "13818513"
    assert record["messages"] == [
        {"role": "user", "content": "Summarize this dialogue:\n\n" + SAMSUM["dialogue"]},
        {"role": "assistant", "content": SAMSUM["summary"]}]
    assert "fields" not in record["metadata"]  # dialogue and summary are read, not left as fields


def test_template_from_several_fields_keeps_the_others_and_writes_non_text_as_json() -> None:
    row = {"subject": "Refund", "body": "I was charged twice.", "tags": ["billing", "urgent"], "reply": "Sorry! "
           "We refunded the second charge.", "agent": "Sam"}
    mapping = FieldMapping(prompt_template="Ticket {{{subject}}} [{tags}]: {body}", completion="reply")
    record, error = convert(row, mapping)
    assert error is None
    assert record["messages"][0]["content"] == 'Ticket {Refund} [["billing","urgent"]]: I was charged twice.'
    assert record["metadata"]["fields"] == {"agent": "Sam"}


def test_a_record_lacking_a_templated_field_is_refused_naming_it() -> None:
    mapping = FieldMapping(prompt_template="Summarize:\n{dialogue}", completion="summary")
    record, (code, detail) = convert({"summary": "s", "dialog": "typo'd column"}, mapping)
    assert record is None and code == "unknown_format"
    assert detail.startswith("line 4: mapping.prompt_template writes from {dialogue}, which this record lacks")
    assert convert({"summary": "s", "dialogue": ""}, mapping)[1][1].count("leaves empty") == 1


@pytest.mark.parametrize(("values", "message"), [
    ({"prompt_template": "{dialogue}"}, "needs completion"),
    ({"prompt_template": "{a}", "prompt": "b", "completion": "c"}, "not both"),
    ({"prompt_template": "Summarize this", "completion": "c"}, "names no field"),
    ({"prompt_template": "Summarize {dialogue", "completion": "c"}, "literal brace"),
    ({"prompt_template": "{dialogue:>10}", "completion": "c"}, "is not a field name"),
    ({"prompt_template": "{turns[0]}", "completion": "c"}, "is not a field name"),
])
def test_a_bad_template_is_a_config_error(values: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FieldMapping(**values)
