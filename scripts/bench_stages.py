"""Throughput of each per-record stage, one process, on real conversations (records per second).

Reads real files with the project's readers (multi-turn French OASST, English HH-RLHF pairs and
tool-call conversations), repeats them to ``--records`` and times each stage alone on fresh copies.

    python scripts/bench_stages.py [--records 20000]
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

from curation.pipeline.base import RecordStage
from curation.pipeline.stages.language import LanguageConfig, LanguageStage
from curation.pipeline.stages.length import LengthConfig, TokenLengthStage, TurnsStage
from curation.pipeline.stages.normalise import NormaliseStage
from curation.pipeline.stages.quality import QualityStage
from curation.pipeline.stages.redact import RedactConfig, RedactStage
from curation.readers import read_path

REAL = Path(__file__).resolve().parents[1] / "tests" / "data" / "real"
FILES = {
    "oasst-fr": REAL / "bofenghuang__vigogne" / "oasst_20230412_fr_top1.jsonl",
    "hh-rlhf": REAL / "anthropics__hh-rlhf" / "harmless-base_test.jsonl.gz",
    "tool-calls": REAL / "openai__openai-cookbook" / "drone_training.jsonl",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    stages: list[RecordStage] = [
        NormaliseStage(),
        RedactStage(RedactConfig(enabled=True)),
        LanguageStage(),
        LanguageStage(LanguageConfig(detector="langdetect")),
        QualityStage(),
        TokenLengthStage(),
        TokenLengthStage(LengthConfig(max_message_tokens=100_000)),
        TurnsStage(),
    ]
    for stage in stages:
        stage.load()
    for name, path in FILES.items():
        base = [item.record for item in read_path(path) if item.record is not None]
        rows = (base * (args.records // len(base) + 1))[: args.records]
        chars = sum(len(str(r)) for r in base) / len(base)
        print(f"== {name}: {len(base)} distinct records, ~{chars:,.0f} chars each, {len(rows)} timed")
        for stage in stages:
            n = len(rows) if stage.config.model_dump().get("detector") != "langdetect" else min(len(rows), 2000)
            batch = [copy.deepcopy(r) for r in rows[:n]]
            start = time.perf_counter()
            for record in batch:
                stage.process(record)
            seconds = time.perf_counter() - start
            label = (
                f"{stage.name}({getattr(stage.config, 'detector', '')})" if stage.name == "language" else stage.name
            )
            print(f"  {label:<22}{n / seconds:>12,.0f} records/s")


if __name__ == "__main__":
    main()
