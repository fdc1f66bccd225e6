"""Property tests (hypothesis) over the readers: any payload ends as a record or a reason, never an exception.

Strategies build record-shaped JSON (keys every input format uses, values of any JSON type, nested a few
levels), so the converters' and checks' corners are reached quickly; each target runs 2,000 examples.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.readers import BrokenPayload, convert_payload
from curation.readers.containers import detect_container, iter_payloads
from curation.readers.formats import FORMAT_NAMES

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from record_strategies import files, payloads  # noqa: E402

FOLDER = Path(tempfile.mkdtemp(prefix="curation-props-"))
SETTINGS = settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@SETTINGS
@given(payload=payloads, fmt=st.sampled_from([None, *FORMAT_NAMES]))
def test_convert_payload_never_raises(payload, fmt) -> None:  # noqa: ANN001
    items = convert_payload(payload, fmt, path="x.jsonl", line=1, index=0)
    assert items
    for item in items:
        assert (item.record is None) != (item.error is None)
        if item.record is not None:
            assert isinstance(item.record.get("id"), str)
            orjson.dumps(item.record)  # what the runner writes must serialise
        else:
            assert item.error[0] and item.error[1]


@SETTINGS
@given(data=st.one_of(files, st.binary(max_size=64)),
       suffix=st.sampled_from([".jsonl", ".json", ".csv", ".arrow", ".parquet", ".tsv"]))
def test_container_detection_and_streaming_terminate(data: bytes, suffix: str) -> None:
    path = FOLDER / f"x{suffix}"  # one folder for all examples: a fresh tmp_path each would cost more than the test
    path.write_bytes(data)
    try:
        container = detect_container(path)
        payloads_read = list(iter_payloads(path, container))
    except (OSError, ValueError, EOFError) as exc:  # a reader error the CLI turns into one line (see input tests)
        assert str(exc)
        return
    # Progress: never more payloads than bytes (the '[}' hang produced an endless stream of empty ones).
    assert len(payloads_read) <= len(data) + 1
    for _line, _index, payload in payloads_read:
        items = convert_payload(payload, None, path=str(path))
        assert items and all((i.record is None) != (i.error is None) for i in items)
        if isinstance(payload, BrokenPayload):
            assert all(i.error is not None for i in items)
