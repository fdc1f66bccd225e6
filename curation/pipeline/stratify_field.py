"""``split.stratify_by`` must name a field records will have: checked before any work.

The stages write ``language``, ``turns``, ``tokens``, ``quality`` and ``source`` (the input file); any other
dotted path must occur in the metadata of the input records. A field found in none of the first records
is a typo or a field the data lacks; either way every record would land in one stratum, so it is an error
that names the field, the nearest known one and the fields the records do carry.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Any

from .. import readers as readers_mod
from ..errors import ConfigError
from ..suggest import did_you_mean

STAGE_FIELDS = ("source", "language", "language_score", "turns", "tokens", "quality")
SAMPLE = 500


def _paths(node: Any, prefix: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}{key}"
            out.append(path)
            out += _paths(value, path + ".")
    return out


def check_stratify_field(field: str | None, files: list[tuple[Path, str | None, Any, str]]) -> None:
    """Raise ConfigError when ``field`` occurs in no stage output and in none of the first input records."""
    if not field or field in STAGE_FIELDS:
        return
    seen: set[str] = set()
    for path, fmt, mapping, container in files:
        for item in islice(readers_mod.read_path(path, fmt, mapping, container), SAMPLE):
            meta = (item.record or {}).get("metadata")
            seen.update(_paths(meta) if isinstance(meta, dict) else [])
            if field in seen:
                return
    known = sorted(set(STAGE_FIELDS) | seen)
    raise ConfigError(
        f"unknown field {field!r}{did_you_mean(field, known)}: no stage writes it and none of the first "
        f"{SAMPLE} input records has it in metadata", where="split.stratify_by",
        hint=f"use one of: {', '.join(known[:20])}")
