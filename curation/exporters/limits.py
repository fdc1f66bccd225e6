"""Predict, before any work, which export targets the data will break by size, from the input's bytes.

A provider export holds about as many bytes as the canonical records it comes from (JSON in, JSON out), so
``input bytes x train share`` is the train file's size to within the share the filters remove: a warning
at start, not a refusal after the whole run. The fix it names is ``export.max_train_examples`` (a
deterministic sample per target) or a smaller train share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import readers as readers_mod

MB = 1024 * 1024
_SAMPLE = 1 << 20


def _records_per_byte(path: Path) -> float | None:
    """Lines per byte in the first MB of an uncompressed JSONL file (None when it cannot tell)."""
    if not path.is_file() or path.suffix != ".jsonl":
        return None
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE)
    lines = head.count(b"\n")
    return lines / len(head) if lines and head else None


def predict_limit_warnings(config: Any) -> list[str]:
    """One warning per format whose train file the run's inputs will likely make too big."""
    from . import get_exporter

    files = [p for spec in config.inputs for p in readers_mod.expand_inputs([spec.path])]
    total = sum(p.stat().st_size for p in files if p.is_file())
    if not total:
        return []
    density = [d for d in (_records_per_byte(p) for p in files) if d]
    records = int(total * sum(density) / len(density)) if density else None
    share = config.split.train
    predicted = total * share
    warnings = []
    from .base import ExportOptions

    for name in config.export.formats:
        target = getattr(get_exporter(name), "target", None)
        try:
            limit = getattr(target(ExportOptions()), "max_file_bytes", None) if callable(target) else None
        except Exception:  # noqa: BLE001 - a prediction never stops a run
            limit = None
        if not limit or predicted <= limit or name in config.export.max_train_examples:
            continue
        fit = f"about {int(records * share * limit / predicted):,} records fit; " if records else ""
        warnings.append(
            f"{name}: the train file will be about {predicted / MB:,.0f} MB ({total / MB:,.0f} MB of input x "
            f"{share:g} train share), over its {limit / MB:,.0f} MB limit; {fit}set export.max_train_examples: "
            f"{{{name}: N}} (`--set export.max_train_examples={{{name}: N}}`) to export a sample, or lower "
            "split.train")
    return warnings
