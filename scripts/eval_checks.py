"""Precision and recall of the placeholder and quality checks on the labelled real snippets.

Each row of ``tests/data/labelled/checks.jsonl`` is one real reply labelled ``bad`` (the check should
fire) or ``ok`` (it must not). A reply is judged the way the pipeline judges it: as the assistant turn of a
one-turn conversation, through :class:`QualityStage` with default thresholds and only that check on, and
for ``unfilled_placeholder`` also through validation (:func:`curation.checks.check_record`).

    python scripts/eval_checks.py [--misses]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from curation.checks import check_record
from curation.pipeline.stages.quality import CHECKS, QualityConfig, QualityStage

LABELLED = Path(__file__).resolve().parents[1] / "tests" / "data" / "labelled" / "checks.jsonl"


def load(path: Path = LABELLED) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _record(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": "Reply, please."}, {"role": "assistant", "content": text}]}


def _stage(check: str) -> QualityStage:
    if check not in CHECKS and check == "bracket_placeholder":  # before the check had its own code
        modes = {**{c: "off" for c in CHECKS}, "unfilled_placeholder": "drop"}
        return QualityStage(QualityConfig(**modes, bracket_placeholders=True))
    return QualityStage(QualityConfig(**{**{c: "off" for c in CHECKS}, check: "drop"}))


def fires(judge: str, text: str) -> bool:
    """Whether ``judge`` (a quality check, or ``validation``) rejects or flags the reply."""
    record = _record(text)
    if judge == "validation":
        return any(f.code == "unfilled_placeholder" for f in check_record(record))
    stage = _stage(judge)
    return stage.process(record) is not None or bool(record["metadata"].get("flags"))


def evaluate(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per judge: counts of true/false positives/negatives, precision, recall and the misjudged rows."""
    judges: dict[str, list[tuple[dict[str, Any], bool]]] = {}
    for row in rows:
        names = [row["check"]] + (["validation"] if row["check"] == "unfilled_placeholder" else [])
        for name in names:
            judges.setdefault(name, []).append((row, fires(name, row["text"])))
    table: dict[str, dict[str, Any]] = {}
    for name, results in judges.items():
        tp = sum(1 for row, hit in results if hit and row["label"] == "bad")
        fp = sum(1 for row, hit in results if hit and row["label"] == "ok")
        fn = sum(1 for row, hit in results if not hit and row["label"] == "bad")
        table[name] = {
            "bad": sum(1 for row, _ in results if row["label"] == "bad"),
            "ok": sum(1 for row, _ in results if row["label"] == "ok"),
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
            "misses": [row for row, hit in results if hit != (row["label"] == "bad")],
        }
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the rows each check gets wrong")
    args = parser.parse_args()
    rows = load()
    table = evaluate(rows)
    print(f"{len(rows)} labelled snippets ({LABELLED.relative_to(LABELLED.parents[3])})")
    print(f"{'check':28} {'bad':>4} {'ok':>4} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}")
    for name in sorted(table):
        t = table[name]
        label = "unfilled_placeholder (validation)" if name == "validation" else name
        print(f"{label:28} {t['bad']:4} {t['ok']:4} {t['tp']:4} {t['fp']:4} {t['fn']:4} "
              f"{t['precision']:9.3f} {t['recall']:7.3f}")
        if args.misses:
            for row in t["misses"]:
                kind = "false positive" if row["label"] == "ok" else "missed"
                print(f"    {kind}: {row['source']}: {row['text'][:90]!r}")


if __name__ == "__main__":
    main()
