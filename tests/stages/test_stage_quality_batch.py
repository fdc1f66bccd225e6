"""The quality stage's batch path (process_batch, quality_batch.py) gives what process gives, record by record."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from curation.pipeline.stages import quality, quality_batch
from curation.pipeline.stages.quality import CHECKS, QualityConfig, QualityStage
from curation.readers import read_path

ROOT = Path(__file__).resolve().parents[2]
ODD_TEXTS = [
    "", " ", "plain ascii, with symbols!!! ### and_underscores", "今天天气很好，我们去公园散步吧。" * 5,
    "Привет, мир! Это тест… «кавычки»", "emoji 😀😀😀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 letters 𠀋", "lone \ud800 surrogate",
    "ｆｕｌｌ　ｗｉｄｔｈ\u3000space\xa0nbsp\u2009thin", "日本語のテキストです。" + "x" * 2500 + "漢字",
    "tab\tand\r\nnewline\x0b\x0c\x1c\x1d", "混合 mixed 文本 text " * 30,
]


def _outcomes(stage: QualityStage, records: list[dict[str, Any]], batched: bool) -> list[tuple[Any, ...]]:
    records = copy.deepcopy(records)
    if batched:
        drops = [d for lo in range(0, len(records), 97) for d in stage.process_batch(records[lo : lo + 97])]
    else:
        drops = [stage.process(r) for r in records]
    return [((d.reason, d.detail) if d else None, r["metadata"].get("quality"), r["metadata"].get("flags"))
            for d, r in zip(drops, records, strict=True)]


def _stages() -> list[QualityStage]:
    return [
        QualityStage(),
        QualityStage(QualityConfig(**{c: "flag" for c in CHECKS})),
        QualityStage(QualityConfig(**{c: "drop" for c in CHECKS}, bracket_placeholders=True)),
    ]


def _reply(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": text}]}


def test_bmp_table_matches_the_regexes_it_replaces() -> None:
    table = quality_batch._bmp_table()
    for cp in range(0x10000):
        char = chr(cp)
        assert bool(table[cp] & quality_batch._SYMBOL) == bool(quality._SYMBOL.fullmatch(char)), hex(cp)
        assert bool(table[cp] & quality_batch._SPACE) == bool(quality._SPACES.fullmatch(char)), hex(cp)
        assert bool(table[cp] & quality_batch._CJK) == bool(quality._CJK.fullmatch(char)), hex(cp)
        assert bool(table[cp] & quality_batch._COMMON_SPACE) == (char in quality._COMMON_SPACES), hex(cp)


def test_char_profiles_equal_the_per_text_measures() -> None:
    cjk, counts, visible = quality_batch.char_profiles(ODD_TEXTS)
    for text, is_cjk, count, chars in zip(ODD_TEXTS, cjk, counts, visible, strict=True):
        assert is_cjk == quality._is_cjk(text), text[:20]
        assert count == quality._symbol_counts(text), text[:20]
        assert chars.tobytes().decode("utf-32-le", "surrogatepass") == quality._visible(text)
    assert quality_batch.char_profiles([]) == ([], [], [])


def test_repeated_windows_are_found_within_each_sequence_only() -> None:
    runs = [np.array(r, dtype=np.uint64) for r in ([1, 2, 3, 1, 2, 3], [1, 2, 3, 4], [5, 6, 7], [4, 1, 2, 3])]
    assert quality_batch.any_repeated_run_window(runs, 3) == [True, False, False, False]
    assert quality_batch.any_repeated_run_window(runs, 2) == [True, False, False, False]
    assert quality_batch.any_repeated_run_window([], 3) == []
    hashes = quality_batch.token_hashes("the cat sat the cat sat".split())
    assert quality_batch.any_repeated_window(hashes, [6], 3) == [True]
    assert quality_batch.any_repeated_window(hashes[:4], [4], 65) == [True]  # beyond the weights: "count them"


@pytest.mark.parametrize("chunk", [quality_batch._WORD_CHUNK, 300])
def test_word_hashes_count_words_as_split_does_and_tell_words_apart(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import random

    monkeypatch.setattr(quality_batch, "_WORD_CHUNK", chunk)  # 300: several chunks, and texts past a chunk
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    words = ["a", "b", "ab", "ba", "é", "😀", "\ud800", "日本", "x" * 70, "Ab", "\x00", "a\x00", "\x85x"]
    rng = random.Random(0)
    texts = [*ODD_TEXTS, *("".join(rng.choice(words) if rng.random() < 0.6 else rng.choice(spaces)
                                   for _ in range(rng.randint(0, 60))) for _ in range(2000))]  # fmt: skip
    texts += ["".join(map(chr, range(lo, lo + 4096))) for lo in range(0, 0x110000, 4096)]  # every code point
    for min_words in (0, 1, 5):
        where, counts, hashes = quality_batch.word_hashes(texts, min_words)
        expected = [(k, len(t.split())) for k, t in enumerate(texts) if len(t.split()) >= min_words]
        assert list(zip(where, counts, strict=True)) == expected
        assert len(hashes) == sum(counts)
        at, seen = 0, {}
        for k, count in zip(where, counts, strict=True):
            for word, value in zip(texts[k].split(), hashes[at : at + count].tolist(), strict=True):
                assert seen.setdefault((k, word), value) == value  # equal words of one text, equal hashes
            at += count
        # and distinct words of one text, distinct hashes here (a collision would only cost an exact count)
        assert len({(k, v) for (k, _), v in seen.items()}) == len(seen)
    assert quality_batch.word_hashes([], 1)[0] == []


def test_long_ngrams_still_equal_process() -> None:
    stage = QualityStage(QualityConfig(ngram_size=40, min_words_for_repeats=2))
    records = [_reply("word " * 300), _reply("中文" * 200), _reply(" ".join(str(i) for i in range(200)))]
    assert _outcomes(stage, records, batched=True) == _outcomes(stage, records, batched=False)


@pytest.mark.parametrize("aho", [True, False])
def test_first_phrases_gives_the_first_listed_phrase(aho: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not aho:
        monkeypatch.setattr(quality_batch, "literal_scanner", lambda words: None)
    phrases = ("i can't", "sorry, i can't", "我无法", "ab", "作为ai", "ab")
    texts = ["sorry, i can't do that", "as an ai, ab", "我无法提供。作为ai", "nothing", "ab é", "", "x ab",
             "作为ai ab"]
    assert quality_batch.first_phrases(texts, phrases) == [next((p for p in phrases if p in t), None) for t in texts]
    assert quality_batch.first_phrases(texts, ()) == [None] * len(texts)
    assert quality_batch.first_phrases([], phrases) == []


def test_batch_equals_process_on_odd_and_labelled_replies() -> None:
    rows = [json.loads(line) for line in (ROOT / "tests" / "data" / "labelled" / "checks.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    records = [_reply(t) for t in ODD_TEXTS] + [_reply(row["text"]) for row in rows]
    records.append({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "x"},
                                 {"role": "user", "content": "b"}, {"role": "assistant", "content": " "}]})
    for stage in _stages():
        assert _outcomes(stage, records, batched=True) == _outcomes(stage, records, batched=False)


def test_batch_equals_process_with_custom_phrases() -> None:
    stage = QualityStage(QualityConfig(refusal_only="drop", refusal_patterns=["no can do ", "nope"],
                                       disclaimer_patterns=["beep boop"]))
    records = [_reply(t) for t in ("  No can do  ", "nope.", "Beep boop, I am a bot", "fine")]
    assert _outcomes(stage, records, batched=True) == _outcomes(stage, records, batched=False)


def test_batch_equals_process_on_real_files(real_dir: Path) -> None:
    records = [item.record for path in sorted(real_dir.rglob("*.json*")) for item in read_path(path)
               if item.record is not None]
    assert len(records) > 5000
    for stage in _stages()[:2]:
        assert _outcomes(stage, records, batched=True) == _outcomes(stage, records, batched=False)


def test_a_pickled_stage_rebinds_its_checks() -> None:
    import pickle

    stage = QualityStage(QualityConfig(ai_disclaimer="drop"))
    copy_ = pickle.loads(pickle.dumps(stage))  # as a worker process receives it
    records = [_reply("As an AI language model, I cannot,"), _reply("Fine.")]
    assert _outcomes(copy_, records, batched=True) == _outcomes(stage, records, batched=False)
    assert _outcomes(copy_, records, batched=True)[0][0][0] == "ai_disclaimer"


def test_wide_spaces_are_every_non_ascii_whitespace() -> None:
    assert quality_batch._WIDE_SPACES.tolist() == [c for c in range(0x80, 0x110000) if chr(c).isspace()]
