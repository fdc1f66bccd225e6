"""Benchmark the language stage's two detectors on the shared sentence pool.

Builds short conversations (a user turn of 1-2 sentences, an assistant turn of 2-4) from
``../shared/data/sentences/pool.json`` (labels come from a detector and are mostly right), runs
:class:`LanguageStage` with ``detector=fast`` and ``detector=langdetect`` over the same records, and
prints per-language accuracy against the label, agreement between the two detectors and the cost per
conversation. Seeded: the same corpus every run.

    python scripts/bench_language.py [--per-language 300] [--seed 0] [--pool PATH]
"""

from __future__ import annotations

import argparse
import copy
import random
import re
import time
from pathlib import Path
from typing import Any

import orjson

from curation.pipeline.stages.language import LanguageConfig, LanguageStage

# The pool's labels come from a detector and are badly wrong for the small languages (Chinese and code
# labelled "no", "ro", "vi", ...). A sentence counts as "clean" only when its text carries evidence of
# the labelled language: its script, and for Latin-script languages a letter that English lacks.
_EVIDENCE = {
    "zh": re.compile(r"[\u4e00-\u9fff]"),
    "ko": re.compile(r"[\uac00-\ud7af]"),
    "fr": re.compile(r"[àâçéèêëîïôûùüÿœ]", re.I),
    "ca": re.compile(r"[àçèéíïòóúü]|l·l", re.I),
    "no": re.compile(r"[æøå]", re.I),
    "ro": re.compile(r"[ăâîșşțţ]", re.I),
    "vi": re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I),
}
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")


def clean_pool(pool: dict[str, list[str]]) -> dict[str, list[str]]:
    clean = {}
    for language, sentences in pool.items():
        evidence = _EVIDENCE.get(language)
        kept = []
        for sentence in sentences:
            if "```" in sentence or "{" in sentence:
                continue
            if language not in ("zh", "ko") and _CJK.search(sentence):
                continue
            if language == "ko" and re.search(r"[\u4e00-\u9fff]", sentence):
                continue
            if evidence is None or evidence.search(sentence):
                kept.append(sentence)
        if len(kept) >= 20:  # too few real sentences left to say anything about that language
            clean[language] = kept
    return clean


DEFAULT_POOL = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentences" / "pool.json"


def build(pool: dict[str, list[str]], per_language: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(seed)
    records = []
    for language in sorted(pool):
        sentences = pool[language]
        for i in range(per_language):
            user = " ".join(rng.sample(sentences, rng.randint(1, 2)))
            reply = " ".join(rng.sample(sentences, rng.randint(2, 4)))
            record = {
                "id": f"{language}-{i}",
                "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}],
                "metadata": {},
            }
            records.append((language, record))
    return records


def run(detector: str, records: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], float]:
    stage = LanguageStage(LanguageConfig(detector=detector))  # type: ignore[arg-type]
    stage.load()
    copies = [copy.deepcopy(r) for _, r in records]
    start = time.perf_counter()
    for record in copies:
        stage.process(record)
    seconds = time.perf_counter() - start
    return [r["metadata"]["language"] for r in copies], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pool", type=Path, default=DEFAULT_POOL)
    args = parser.parse_args()

    raw = orjson.loads(args.pool.read_bytes())
    for title, pool in (
        ("pool labels as given", raw),
        ("labels backed by script/diacritic evidence", clean_pool(raw)),
    ):
        print(f"\n== {title}: sentences per language", {k: len(v) for k, v in sorted(pool.items())})
        report(pool, args.per_language, args.seed)


def report(pool: dict[str, list[str]], per_language: int, seed: int) -> None:
    records = build(pool, per_language, seed)
    labels = [language for language, _ in records]
    results = {name: run(name, records) for name in ("fast", "langdetect")}

    print(f"{len(records)} conversations, {per_language} per language, seed {seed}")
    print(f"{'lang':<6}{'fast acc':>10}{'langdetect acc':>16}{'agree':>8}")
    for language in sorted(pool):
        idx = [i for i, label in enumerate(labels) if label == language]
        fast = sum(results["fast"][0][i] == language for i in idx) / len(idx)
        slow = sum(results["langdetect"][0][i] == language for i in idx) / len(idx)
        agree = sum(results["fast"][0][i] == results["langdetect"][0][i] for i in idx) / len(idx)
        print(f"{language:<6}{fast:>10.3f}{slow:>16.3f}{agree:>8.3f}")
    n = len(records)
    for name, (predicted, seconds) in results.items():
        accuracy = sum(p == label for p, label in zip(predicted, labels, strict=True)) / n
        print(
            f"{name:<11} accuracy {accuracy:.3f}  {seconds * 1000 / n:.3f} ms/conversation  {n / seconds:,.0f} conv/s"
        )
    agree = sum(a == b for a, b in zip(results["fast"][0], results["langdetect"][0], strict=True)) / n
    print(f"agreement {agree:.3f}")


if __name__ == "__main__":
    main()
