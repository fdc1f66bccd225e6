"""One record through the readers, for the layout tests: read cleanly, or refused with a reason."""

from __future__ import annotations

from typing import Any

import orjson

from curation.checks import check_record, has_error
from curation.readers.convert import convert_payload


def read(obj: dict[str, Any]) -> dict[str, Any]:
    """The one record ``obj`` reads to, with no reader error and no error finding."""
    items = convert_payload(orjson.dumps(obj), None, None, "x.jsonl", 1, 0)
    assert len(items) == 1 and items[0].error is None, items[0].error
    record = items[0].record
    assert not has_error(check_record(record)), check_record(record)
    return record


def refused(obj: dict[str, Any], line: int = 3) -> tuple[str, str]:
    """(reason code, detail) of a record the readers refuse, read as line ``line`` of a file."""
    items = convert_payload(orjson.dumps(obj), None, None, "x.jsonl", line, line - 1)
    assert len(items) == 1 and items[0].record is None, items[0].record
    return items[0].error
