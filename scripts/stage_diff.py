"""Redact and normalise as of a git revision against this tree: outputs must be byte-identical, CPU per record.

    python scripts/stage_diff.py [--baseline REV] [--reps 3] [PATH ...]

Runs both stages of REV (default HEAD) and of the working tree on every record of tests/data/real (or the
given files), the redact stage under several configs and both on raw and on normalised records, and prints
per file the records whose output (orjson bytes, metadata counts included) differs, and the CPU time
(process_time, best of --reps) per record of each stage before and after. Exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

from curation.pipeline.stages import normalise as normalise_now
from curation.pipeline.stages import redact as redact_now
from curation.readers import read_path

REPO = Path(__file__).resolve().parents[1]
# Configs whose code paths differ: roles, everywhere, placeholder, kinds, local IPs, tool arguments.
REDACT_CONFIGS: list[dict[str, Any]] = [
    {}, {"keep_local_ips": False}, {"roles": ["user"]}, {"everywhere": False}, {"placeholder": "{kind}"},
    {"kinds": ["phone", "email"]}, {"tool_arguments": False, "everywhere": False},
]


def _module_at(revision: str, name: str) -> ModuleType:
    source = subprocess.run(["git", "show", f"{revision}:curation/pipeline/stages/{name}.py"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / f"{name}_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"{name}_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"{name}_baseline"] = module  # pydantic resolves the annotations through it
    spec.loader.exec_module(module)
    return module


def _run(stage: Any, records: list[dict[str, Any]]) -> tuple[list[bytes], float]:
    batch = copy.deepcopy(records)
    start = time.process_time()
    for record in batch:
        stage.process(record)
    return [orjson.dumps(r) for r in batch], time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--baseline", default="HEAD")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    old_norm, old_redact = _module_at(args.baseline, "normalise"), _module_at(args.baseline, "redact")
    paths = args.paths or sorted((REPO / "tests" / "data" / "real").rglob("*.json*"))
    differences = 0
    for path in paths:
        records = [item.record for item in read_path(path) if item.record is not None]
        if not records:
            continue
        before, after = old_norm.NormaliseStage(), normalise_now.NormaliseStage()
        normalised, _ = _run(before, records)
        diffs = sum(a != b for a, b in zip(normalised, _run(after, records)[0], strict=True))
        prepared = [orjson.loads(r) for r in normalised]
        for config in REDACT_CONFIGS:
            for base in (records, prepared):
                old_out = _run(old_redact.RedactStage(old_redact.RedactConfig(**config)), base)[0]
                new_out = _run(redact_now.RedactStage(redact_now.RedactConfig(**config)), base)[0]
                diffs += sum(a != b for a, b in zip(old_out, new_out, strict=True))
        differences += diffs
        cost = {}
        for label, stage, base in (("normalise before", before, records), ("normalise after", after, records),
                                   ("redact before", old_redact.RedactStage(), prepared),
                                   ("redact after", redact_now.RedactStage(), prepared)):
            cost[label] = min(_run(stage, base)[1] for _ in range(args.reps)) / len(base) * 1e6
        print(f"{path.name[:40]:<40} {len(records):>6} records  differences {diffs}  "
              f"normalise {cost['normalise before']:6.1f} -> {cost['normalise after']:5.1f} us  "
              f"redact {cost['redact before']:6.1f} -> {cost['redact after']:5.1f} us", flush=True)
    print(f"differences in all: {differences}")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
