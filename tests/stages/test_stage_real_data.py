"""All per-record stages over real files written by others (read with the project's readers)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from curation.pipeline.base import RecordStage
from curation.pipeline.stages.language import LanguageConfig, LanguageStage
from curation.pipeline.stages.length import TokenLengthStage, TurnsStage
from curation.pipeline.stages.normalise import NormaliseStage
from curation.pipeline.stages.quality import QualityConfig, QualityStage
from curation.pipeline.stages.redact import RedactConfig, RedactStage
from curation.readers import read_path


def records(path: Path) -> list[dict]:
    items = list(read_path(path))
    assert items and all(item.record is not None for item in items)
    return [item.record for item in items]


def run(stages: list[RecordStage], rows: list[dict]) -> Counter:
    for stage in stages:
        stage.load()
    reasons: Counter = Counter()
    for record in rows:
        for stage in stages:
            drop = stage.process(record)
            if drop is not None:
                reasons[f"{stage.name}:{drop.reason}"] += 1
                break
    return reasons


def all_stages() -> list[RecordStage]:
    return [
        NormaliseStage(),
        RedactStage(RedactConfig(enabled=True)),
        LanguageStage(),
        QualityStage(),
        TokenLengthStage(),
        TurnsStage(),
    ]


@pytest.fixture(scope="module")
def hh(real_dir: Path) -> list[dict]:
    return records(real_dir / "anthropics__hh-rlhf" / "harmless-base_test.jsonl.gz")


def test_hh_rlhf_preference_pairs(hh: list[dict]) -> None:
    reasons = run(all_stages(), hh)
    assert len(hh) == 2312
    # The red-team transcripts are English; a handful of chosen replies are empty.
    languages = Counter(r["metadata"]["language"] for r in hh)
    assert languages["en"] > 0.95 * len(hh)
    assert reasons["quality:empty_reply"] >= 1
    assert set(reasons) <= {
        "quality:empty_reply",
        "quality:repeated_ngrams",
        "quality:non_alnum_ratio",
        "turns:too_few_turns",
    }
    kept = [r for r in hh if "tokens" in r["metadata"]]
    assert all(r["metadata"]["turns"] >= 2 and r["metadata"]["tokens"] > 0 for r in kept)
    flags = Counter(flag for r in hh for flag in r["metadata"].get("flags", []))
    assert flags["refusal_only"] >= 10 and flags["truncated_reply"] >= 10  # HH replies are often cut mid-sentence


def test_hh_only_english_allowed_drops_nothing_much(hh: list[dict]) -> None:
    reasons = run([LanguageStage(LanguageConfig(allow=["en"]))], hh)
    assert reasons["language:language_not_allowed"] < 0.02 * len(hh)


def test_identity_placeholders_caught(real_dir: Path) -> None:
    path = real_dir / "hiyouga__LLaMA-Factory" / "identity.json"
    with_slots = sum("{{" in row["output"] for row in json.loads(path.read_text()))
    rows = records(path)
    reasons = run([NormaliseStage(), QualityStage()], rows)
    assert with_slots >= 77
    assert reasons == Counter({"quality:unfilled_placeholder": with_slots})
    languages = Counter(LanguageStage().detect(LanguageStage().text_of(r))[0] for r in rows)
    assert set(languages) == {"en", "zh"}


def test_identity_flag_mode_keeps_everything(real_dir: Path) -> None:
    rows = records(real_dir / "hiyouga__LLaMA-Factory" / "identity.json")
    reasons = run([QualityStage(QualityConfig(unfilled_placeholder="flag"))], rows)
    assert reasons == Counter()
    assert sum("unfilled_placeholder" in r["metadata"].get("flags", []) for r in rows) >= 77


def test_french_oasst_and_tool_calls(real_dir: Path) -> None:
    french = records(real_dir / "bofenghuang__vigogne" / "oasst_20230412_fr_top1.jsonl")
    reasons = run(all_stages(), french)
    # Curated top-1 answers: only a couple of replies are dropped, and only for what quality measures.
    assert set(reasons) <= {"quality:non_alnum_ratio", "quality:repeated_ngrams"} and sum(reasons.values()) <= 5
    assert Counter(r["metadata"]["language"] for r in french)["fr"] > 0.9 * len(french)
    tools = records(real_dir / "openai__openai-cookbook" / "drone_training.jsonl")
    reasons = run(all_stages(), tools)
    assert reasons == Counter()  # tool-call replies with no content are not "empty"
