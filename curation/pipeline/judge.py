"""One judgement for `curate inspect` and `curate run`: repair, then validate, then one reason code.

Both commands call these functions, so the same file and config give the same per-code counts: the
repair stages (normalise: role aliases such as ``Customer``, zero-width characters, whitespace) run
before validation in both, and a record with errors is counted under its first error's code in both.
"""

from __future__ import annotations

from typing import Any

from ..checks import Finding
from .base import RecordStage


def repair_stages(stages: list[RecordStage]) -> list[RecordStage]:
    """The stages that repair rather than judge (they run before validation)."""
    return [stage for stage in stages if stage.before_validation]


def apply_repair(stage: RecordStage, record: dict[str, Any]) -> None:
    """Run one repair stage on a record; a crash leaves the record as it was read, flagged
    ``<stage>_error``, and validation judges it as it is."""
    try:
        stage.process(record)  # repairs only; a repair stage never drops
    except Exception:  # noqa: BLE001 - validation judges the record as it is; the flag says why
        meta = record.setdefault("metadata", {})
        meta["flags"] = sorted(set(meta.get("flags") or []) | {f"{stage.name}_error"})


def repair(record: dict[str, Any], stages: list[RecordStage]) -> None:
    """Every repair stage on one record, in order (inspect; the runner goes stage by stage over a batch)."""
    for stage in stages:
        if stage.before_validation:
            apply_repair(stage, record)


def reject_reason(findings: list[Finding]) -> tuple[str, str] | None:
    """The reason code and detail a record with error findings is rejected with (None: valid).

    The code is the first error's; the detail names up to five errors with the message they sit in.
    """
    errors = [f for f in findings if f.severity == "error"]
    if not errors:
        return None
    detail = "; ".join(
        f"{f.code}: {f.message}" + (f" (message {f.message_index})" if f.message_index is not None else "")
        for f in errors[:5]
    )
    return errors[0].code, detail
