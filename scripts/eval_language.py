"""Accuracy of the language stage on the user turns of the real files, whose language is known per file.

Each record of a file below is expected in the file's language (identity.json holds English and Chinese
items: an item is Chinese when its instruction has Han characters). The detected text is what the stage
reads (``text_of``) restricted to user turns; "short" is up to ``--short`` characters.

    python scripts/eval_language.py [--short 40] [--misses]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path
from typing import Any

from curation.pipeline.stages.language import LanguageConfig, LanguageStage
from curation.readers import read_path

REAL = Path(__file__).resolve().parents[1] / "tests" / "data" / "real"
FILES: dict[str, str | None] = {
    "IlyaGusev__rulm/ru_alpaca_seed_tasks.jsonl": "ru",
    "nlpai-lab__KULLM/user_oriented_instructions_eval.jsonl": "ko",
    "yizhongw__self-instruct/user_oriented_instructions.jsonl": "en",
    "bofenghuang__vigogne/oasst_20230412_fr_top1.jsonl": "fr",
    "anthropics__hh-rlhf/harmless-base_test.jsonl.gz": "en",
    "LAION-AI__Open-Assistant/en_100_tree.jsonl": "en",
    "teknium1__GPTeacher/roleplay-simple-deduped-roleplay-instruct.json": "en",
    "mobarski__alpaca-libre/alpaca_libre_tasks_v1.jsonl": "en",
    "lm-sys__FastChat/dummy_conversation.json": "en",
    "hiyouga__LLaMA-Factory/glaive_toolcall_en_demo.json": "en",
    "hiyouga__LLaMA-Factory/identity.json": None,  # per item: zh when the instruction has Han characters
}
_HAN = re.compile(r"[\u4e00-\u9fff]")


def samples() -> list[tuple[str, str, str]]:
    """(file, expected language, user text as the stage reads it), one per distinct user text."""
    reader = LanguageStage(LanguageConfig(roles=["user"]))
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for name, language in FILES.items():
        for item in read_path(REAL / name):
            if item.record is None:
                continue
            text = reader.text_of(item.record)
            if not text or text in seen:
                continue
            seen.add(text)
            expected = language or ("zh" if _HAN.search(text) else "en")
            out.append((name, expected, text))
    return out


def accuracy(detector: str, rows: list[tuple[str, str, str]], short: int) -> dict[str, Any]:
    """Accuracy of ``detect`` and the records ``allow: [the file's language]`` would wrongly drop."""
    stage = LanguageStage(LanguageConfig(detector=detector))
    stage.load()
    allow: dict[str, LanguageStage] = {}
    result: dict[str, Any] = {"all": [0, 0], "short": [0, 0], "misses": [], "wrong_as": Counter(), "dropped": 0}
    for name, expected, text in rows:
        language, score = stage.detect(text)
        hit = language == expected
        if expected not in allow:
            allow[expected] = LanguageStage(LanguageConfig(detector=detector, allow=[expected]))
            allow[expected].load()
        record = {"messages": [{"role": "user", "content": text}]}
        result["dropped"] += allow[expected].process(record) is not None
        for key in ("all", "short") if len(text) <= short else ("all",):
            result[key][0] += hit
            result[key][1] += 1
        if not hit:
            result["misses"].append((name, expected, language, round(score, 2), text[:80]))
            result["wrong_as"][language] += 1
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=40, help="a short text has at most this many characters")
    parser.add_argument("--misses", action="store_true", help="list the texts detected wrongly")
    args = parser.parse_args()
    rows = samples()
    print(f"{len(rows)} distinct user texts from {len(FILES)} real files")
    for detector in ("fast", "langdetect"):
        result = accuracy(detector, rows, args.short)
        (hit, n), (short_hit, short_n) = result["all"], result["short"]
        print(f"{detector:10} all {hit}/{n} = {hit / n:.3f}   short (<= {args.short} chars) "
              f"{short_hit}/{short_n} = {short_hit / max(1, short_n):.3f}   "
              f"dropped by allow=[own language]: {result['dropped']}   wrong as: {dict(result['wrong_as'])}")
        if args.misses:
            for miss in result["misses"]:
                print("    ", miss)


if __name__ == "__main__":
    main()
