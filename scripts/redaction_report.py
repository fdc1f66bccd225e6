"""How often redaction fires on real data, and on what: the false-positive check for the redact stage.

    python scripts/redaction_report.py [--show] [--baseline REV] [PATH ...]

Reads every record of tests/data/real (or the given paths), runs the redact stage with its defaults over
each (the stage as of git revision REV with ``--baseline``, enabled, for comparison) and prints how many
records got a redaction, per kind; ``--show`` prints each match with its context, to look at them.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import orjson

from curation.readers import expand_inputs, read_path

REPO = Path(__file__).resolve().parents[1]


def _stage(baseline: str | None):  # noqa: ANN202 - a RedactStage of this tree or of REV
    if baseline is None:
        from curation.pipeline.stages.redact import RedactConfig, RedactStage

        return RedactStage(RedactConfig())
    source = subprocess.run(["git", "show", f"{baseline}:curation/pipeline/stages/redact.py"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "redact_baseline.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("redact_baseline", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["redact_baseline"] = module  # pydantic resolves the annotations through it
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.RedactStage(module.RedactConfig(enabled=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(REPO / "tests" / "data" / "real")])
    parser.add_argument("--show", action="store_true", help="print every redacted string, before and after")
    parser.add_argument("--baseline", help="git revision whose redact stage to measure instead")
    args = parser.parse_args(argv)
    stage = _stage(args.baseline)
    records = redacted = 0
    kinds: Counter[str] = Counter()
    for path in expand_inputs(args.paths):
        for item in read_path(path):
            if item.record is None:
                continue
            records += 1
            before = copy.deepcopy(item.record)
            stage.process(item.record)
            counts = item.record.get("metadata", {}).get("redactions") or {}
            if not counts:
                continue
            redacted += 1
            kinds.update(counts)
            if args.show:
                print(f"--- {item.where} {dict(counts)}")
                old, new = orjson.dumps(before).decode(), orjson.dumps(item.record).decode()
                i = next((k for k, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), 0)
                print(f"    before: ...{old[max(0, i - 60):i + 60]!r}")
                print(f"    after:  ...{new[max(0, i - 60):i + 60]!r}")
    print(f"records: {records:,}; with a redaction: {redacted:,} ({redacted / max(1, records):.2%}); "
          f"by kind: {dict(kinds.most_common())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
