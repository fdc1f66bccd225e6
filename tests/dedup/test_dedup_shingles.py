from __future__ import annotations

import numpy as np
import pytest

from curation.dedup.shingles import batch_shingle_hashes, shingle_hashes, tokens


def test_chinese_and_japanese_split_into_characters() -> None:
    assert tokens("这是一个测试。") == ["这", "是", "一", "个", "测", "试"]
    assert tokens("日本語のテキスト") == ["日", "本", "語", "の", "テ", "キ", "ス", "ト"]
    assert tokens("ภาษาไทย") == list("ภาษาไทย")


def test_space_delimited_scripts_split_into_words() -> None:
    assert tokens("Hello,   WORLD!!\tdon't_stop") == ["hello", "world", "don", "t", "stop"]
    assert tokens("한국어 문장입니다") == ["한국어", "문장입니다"]
    assert tokens("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # vowel signs (marks) stay inside the word
    assert tokens("Mixed 中文 text") == ["mixed", "中", "文", "text"]


def test_width_case_and_compatibility_forms_fold() -> None:
    assert tokens("ＡＢＣ１ ﬁne Straße Cafe\u0301 ｶﾀｶﾅ") == ["abc1", "fine", "strasse", "café", "カ", "タ", "カ", "ナ"]


def test_whitespace_and_case_variants_give_the_same_shingles() -> None:
    a = shingle_hashes("The cat sat on the mat today", 3)
    b = shingle_hashes("  the   CAT sat\n\non the  mat, today!  ", 3)
    assert np.array_equal(a, b) and len(a) == 5


def test_chinese_near_copy_shares_most_shingles() -> None:
    a = set(shingle_hashes("今天天气很好，我们一起去公园散步，然后去吃午饭。", 3).tolist())
    b = set(shingle_hashes("今天天气不错，我们一起去公园散步，然后去吃午饭。", 3).tolist())
    assert len(a & b) / len(a | b) > 0.6  # one character edited; peers see two unrelated "words" here


def test_short_and_empty_texts() -> None:
    assert len(shingle_hashes("hi there", 3)) == 1  # fewer units than k: one shingle of all units
    assert not np.array_equal(shingle_hashes("hi there", 3), shingle_hashes("there hi", 3))
    assert len(shingle_hashes("!!! ... ???", 3)) == 0
    assert len(shingle_hashes("", 3)) == 0


def test_batch_equals_one_by_one_and_units_never_cross_texts() -> None:
    texts = ["alpha beta", "gamma delta epsilon zeta", "", "中文文本", "lone \ud800 surrogate ok"]
    hashes, offsets = batch_shingle_hashes(texts, 2)
    assert offsets.tolist()[0] == 0 and len(offsets) == len(texts) + 1
    for i, text in enumerate(texts):
        assert np.array_equal(np.unique(hashes[offsets[i] : offsets[i + 1]]), shingle_hashes(text, 2))


def test_table_folding_equals_nfkc_casefold() -> None:
    import random

    from curation.dedup.shingles import fold_text, normalise_for_near

    rng = random.Random(0)
    samples = ["Ｈｅｌｌｏ，世界！", "ﬁne Straße", "Cafe\u0301", "한국어 한", "x²½", "ÀÉÎ"]
    for _ in range(3000):
        text = "".join(chr(rng.randrange(0x20, 0x30000)) for _ in range(rng.randint(1, 8)))
        if not any(0xD800 <= ord(c) < 0xE000 for c in text):
            samples.append(text)
    assert [fold_text(t) for t in samples] == [normalise_for_near(t) for t in samples]


def test_shipped_tables_equal_the_unicodedata_build() -> None:
    from curation.dedup import shingles

    shipped = shingles.load_shipped_tables()
    assert shipped is not None, "shingle_tables.npz missing or stale: run scripts/make_shingle_tables.py"
    for ours, reference in zip(shipped, shingles.build_tables(), strict=True):
        assert ours.dtype == reference.dtype and np.array_equal(ours, reference)


def test_tables_of_another_unicode_version_are_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    import unicodedata

    from curation.dedup import shingles

    monkeypatch.setattr(unicodedata, "unidata_version", "0.0.0")
    assert shingles.load_shipped_tables() is None
