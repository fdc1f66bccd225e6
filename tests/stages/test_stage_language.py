from __future__ import annotations

import copy
import pickle

import pytest
from pydantic import ValidationError

from curation.pipeline.stages.language import LanguageConfig, LanguageStage, normalise_code

SAMPLES = {
    "en": (
        "How do I bake bread at home?",
        "Mix flour, water, salt and yeast, let it rise, then bake it for forty minutes.",
    ),
    "fr": (
        "Comment faire du pain à la maison ?",
        "Mélangez la farine, l'eau, le sel et la levure, puis faites cuire.",
    ),
    "zh": ("如何在家里烤面包？", "把面粉、水、盐和酵母混合，发酵后放进烤箱烤四十分钟。"),
    "ko": ("집에서 빵을 어떻게 굽나요?", "밀가루, 물, 소금, 효모를 섞고 반죽을 부풀린 뒤 사십 분 동안 구우세요."),
    "ru": ("Как испечь хлеб дома?", "Смешайте муку, воду, соль и дрожжи, дайте тесту подняться и выпекайте."),
}


@pytest.fixture(scope="module", params=["fast", "langdetect"])
def detector(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_detects_and_writes_metadata(conv, detector: str, language: str) -> None:
    record = conv(*SAMPLES[language])
    stage = LanguageStage(LanguageConfig(detector=detector))
    stage.load()
    assert stage.process(record) is None
    assert record["metadata"]["language"] == language
    assert 0.5 < record["metadata"]["language_score"] <= 1.0


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_allow_list(conv, language: str) -> None:
    stage = LanguageStage(LanguageConfig(allow=["en", "FR"]))
    drop = stage.process(conv(*SAMPLES[language]))
    if language in ("en", "fr"):
        assert drop is None
    else:
        assert drop is not None and drop.reason == "language_not_allowed"
        assert drop.detail.startswith(f"detected {language} (") and drop.detail.endswith("allowed: en, fr")


def test_min_score_drops_uncertain(conv) -> None:
    stage = LanguageStage(LanguageConfig(min_score=0.99999))
    drop = stage.process(conv("ok", "fine thanks"))
    assert drop is not None and drop.reason == "language_uncertain"
    assert LanguageStage(LanguageConfig(min_score=0.5)).process(conv(*SAMPLES["en"])) is None


def test_system_prompt_and_code_are_ignored(conv) -> None:
    record = conv(
        "这段代码是做什么的？",
        "这段代码读取文件并打印每一行的内容。\n```python\nwith open('data.txt') as handle:\n"
        "    for line in handle:\n        print(line.strip())\n```",
        system="You are a helpful assistant that always answers in the language of the user.",
    )
    LanguageStage().process(record)
    assert record["metadata"]["language"] == "zh"


def test_nothing_to_detect_is_undetermined_and_kept(conv) -> None:
    record = conv("12345", "67890")
    assert LanguageStage(LanguageConfig(allow=["en"])).process(record) is None
    assert record["metadata"]["language"] == "und" and record["metadata"]["language_score"] == 0.0


def test_preference_pair_uses_prompt_and_chosen(pair) -> None:
    record = pair(*SAMPLES["fr"], "This rejected answer is written in English to try to confuse the detector.")
    LanguageStage().process(record)
    assert record["metadata"]["language"] == "fr"


def test_max_chars_limits_the_text(conv) -> None:
    stage = LanguageStage(LanguageConfig(max_chars=40))
    text = stage.text_of(conv("a" * 30, "b" * 30, "c" * 30))
    assert len(text) <= 41 and "c" not in text


@pytest.mark.parametrize(
    ("raw", "code"), [("zh-cn", "zh"), ("zh-TW", "zh"), ("zh_Hans", "zh"), ("EN", "en"), ("iw", "he"), ("nb", "no")]
)
def test_codes_normalised(raw: str, code: str) -> None:
    assert normalise_code(raw) == code


def test_langdetect_zh_variants_map_to_zh(conv) -> None:
    record = conv("你好，请问今天北京的天气怎么样？", "今天北京晴天，气温二十度左右，适合出门散步。")
    LanguageStage(LanguageConfig(detector="langdetect")).process(record)
    assert record["metadata"]["language"] == "zh"


def test_deterministic_and_pickled(conv, detector: str) -> None:
    stage = LanguageStage(LanguageConfig(detector=detector))
    stage.load()  # a loaded stage must still pickle: the model is left out and reloaded by the worker
    clone = pickle.loads(pickle.dumps(stage))
    clone.load()
    short = conv("ok merci", "d'accord")  # short text is where a random detector would waver
    results = set()
    for s in (stage, clone, stage):
        record = copy.deepcopy(short)
        s.process(record)
        results.add((record["metadata"]["language"], record["metadata"]["language_score"]))
    assert len(results) == 1


def test_config_validation() -> None:
    with pytest.raises(ValidationError):
        LanguageConfig(detector="cld3")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        LanguageConfig(allowed=["en"])  # type: ignore[call-arg]
