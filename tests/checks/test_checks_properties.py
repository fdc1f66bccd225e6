"""Property test (hypothesis): ``check_record`` answers findings for any value, never an exception."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from curation.checks import CODES, Finding, check_record
from curation.readers import convert_payload

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from record_strategies import payloads, records  # noqa: E402

SETTINGS = settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@SETTINGS
@given(record=records)
def test_check_record_on_raw_shapes(record) -> None:  # noqa: ANN001
    findings = check_record(record)
    assert all(isinstance(f, Finding) and f.severity in ("error", "warning") for f in findings)


@SETTINGS
@given(payload=payloads)
def test_check_record_on_converted_records(payload) -> None:  # noqa: ANN001
    for item in convert_payload(payload, None):
        if item.record is None:
            continue
        findings = check_record(item.record, token_count=10, max_tokens=100)
        assert all(f.code in CODES for f in findings), [f.code for f in findings if f.code not in CODES]
