from __future__ import annotations

import copy
import pickle

import pytest
from pydantic import ValidationError

from curation.pipeline.stages.quality import CHECKS, QualityConfig, QualityStage

ONLY = {check: "off" for check in CHECKS}
LOOP = " ".join(["The answer is simple and you should just try it again."] * 8)
POEM_LINES = "\n".join(["Roses are red and violets are blue"] * 4 + ["Sugar is sweet"])
ASCII_SPAM = "!!!! ### $$$ %%% ^^^ &&& *** ((( ))) ___ +++ === ~~~ |||"


def only(check: str, **extra: object) -> QualityStage:
    return QualityStage(QualityConfig(**{**ONLY, check: "drop", **extra}))


@pytest.mark.parametrize(
    ("check", "reply", "hit"),
    [
        ("empty_reply", "", True),
        ("empty_reply", "   \n ", True),
        ("empty_reply", "Yes.", False),
        ("near_empty_reply", ".", True),
        ("near_empty_reply", "4", True),
        ("near_empty_reply", "是。", False),
        ("near_empty_reply", "Yes", False),
        ("unfilled_placeholder", "Hello! I am {{name}}, made by {{ author }}.", True),
        ("unfilled_placeholder", "Translate to [TARGETLANGUAGE] please.", True),
        ("unfilled_placeholder", "我是 {{name}}，由 {{author}} 开发的人工智能助手。", True),
        ("unfilled_placeholder", "Jinja renders values like this:\n```jinja\nHello {{ name }}\n```", False),
        ("unfilled_placeholder", "Use `{{ user.name }}` in the template.", False),
        ("unfilled_placeholder", "Best regards,\n[Your Name]", False),  # bracket slots have their own check
        ("refusal_only", "I'm sorry, but I can't help with that.", True),
        ("refusal_only", "I’m sorry, I can’t assist with that request.", True),
        ("refusal_only", "I cannot assist with creating malware.", True),
        ("refusal_only", "很抱歉，我无法提供这方面的帮助。", True),
        ("refusal_only", "Je suis désolé, mais je ne peux pas vous aider avec cela.", True),
        ("refusal_only", "Lo siento, pero no puedo ayudarte con eso.", True),
        ("refusal_only", "Извините, но я не могу помочь с этим.", True),
        ("refusal_only", "죄송하지만 그 요청은 도와드릴 수 없습니다.", True),
        ("refusal_only", "I'm sorry to hear that. Here is what you can do: rest and drink water.", False),
        ("refusal_only", "I can't believe how easy this is: just add salt.", False),
        (
            "refusal_only",
            "I'm sorry, but I can't do that. " + "Instead, here is a long safe explanation. " * 10,
            False,
        ),
        ("ai_disclaimer", "As an AI language model, I don't have opinions, but here is a summary.", True),
        ("ai_disclaimer", "作为一个人工智能语言模型，我没有个人观点。", True),
        ("ai_disclaimer", "En tant que modèle de langage, je ne peux pas voir.", True),
        ("ai_disclaimer", "Language models are trained on text.", False),
        ("repeated_lines", POEM_LINES, True),
        ("repeated_lines", "Step one.\nStep two.\nStep three.\nDone.", False),
        ("repeated_lines", "Code:\n```\n}\n}\n}\nend\nend\nend\n```\nThat closes every block.", False),
        ("repeated_ngrams", LOOP, True),
        ("repeated_ngrams", "这是一个测试句子，用来检查重复。" * 6, True),
        (
            "repeated_ngrams",
            "Photosynthesis turns light into chemical energy. Plants capture sunlight with chlorophyll, take in "
            "carbon dioxide through their leaves and water through their roots, and release oxygen as a by-product "
            "while storing energy as glucose for growth.",
            False,
        ),
        ("non_alnum_ratio", ASCII_SPAM, True),
        (
            "non_alnum_ratio",
            "Here is the code:\n```python\nfor (i, x) in enumerate(xs): print({'k': [x, i]}) # !!\n```\nIt prints.",
            False,
        ),
        ("non_alnum_ratio", "(5 x 8) - 4 = 36, and 2^10 = 1024; so 36 < 1024.", False),
        ("non_alnum_ratio", "你好！这是一个正常的中文回答，没有问题。", False),
        ("truncated_reply", "The best way to learn is to practise every day, and", True),
        ("truncated_reply", "Here are the options: first, second,", True),
        ("truncated_reply", "Here is the code:\n```python\nprint('hi')\n", True),
        ("truncated_reply", "The function takes the list (", True),
        ("truncated_reply", "首先，打开设置，", True),
        ("truncated_reply", "今天天气很好，我们去公园散步吧", False),  # Chinese without a final 。 is fine
        ("truncated_reply", "The capital of France is Paris", False),
        ("truncated_reply", "- apples\n- pears\n- plums", False),
        ("truncated_reply", "```python\nprint('hi')\n```", False),
        ("truncated_reply", "That is sad :(", False),
        # alpaca_zh_demo's answer key, GPTeacher's code, alpaca-libre's reversed sentence: no cut
        ("truncated_reply", "正确答案：1. A 2. B 3. C 4. D 5. A", False),
        ("truncated_reply", "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a", False),
        ("truncated_reply", "dog lazy the over jumps fox brown quick The", False),
        ("truncated_reply", "I went to the store and bought a", True),
        ("truncated_reply", "It was raining all day. The", True),
        ("truncated_reply", "x = f(a, b)", False),
    ],
)
def test_check_triggers_or_not(conv, check: str, reply: str, hit: bool) -> None:
    record = conv("question", reply)
    drop = only(check).process(record)
    if hit:
        assert drop is not None and drop.reason == check, drop
        assert drop.detail
    else:
        assert drop is None, drop


@pytest.mark.parametrize(("prompt", "reply", "hit"), [
    ("Is this review positive? Output 1 or 0.", "1", False),  # BELLE, KoAlpaca, rulm seed tasks: the label asked
    ("Which is a mammal? A. shark B. trout C. eel D. whale", "D", False),
    ("判断这句话是否正确：水在零度结冰。", "是", False),
    ("判断这句话是否正确：水在零度结冰。", "对", True),  # not a label the prompt offers
    ("What is 2 + 2?", "4", True),
    ("Pick one of 10 or 20.", "1", True),  # inside a longer number: no label
])
def test_a_one_character_label_the_prompt_offers_is_no_near_empty_reply(conv, prompt: str, reply: str,
                                                                        hit: bool) -> None:
    for stage_run in (lambda r: only("near_empty_reply").process(r),
                      lambda r: only("near_empty_reply").process_batch([r])[0]):
        drop = stage_run(conv(prompt, reply))
        assert (drop is not None) == hit, (prompt, reply, drop)


def test_a_disclaimer_inside_code_is_a_sample_string_not_a_disclaimer(conv) -> None:
    code = 'Here is the program:\n```cpp\ncout << "Hello, I am an AI language model!";\n```\nIt prints a greeting.'
    for run in (lambda r: only("ai_disclaimer").process(r), lambda r: only("ai_disclaimer").process_batch([r])[0]):
        assert run(conv("Write a C++ hello world.", code)) is None
        said = run(conv("Who are you?", "As an AI language model, I have no name."))
        assert said is not None and said.reason == "ai_disclaimer"


CASES = r"""The equation $f(f(x)) = x$ turns into \[\Big| 3 |3x - 1| - 1 \Big| = x.\]

Case 1: $3|3x - 1| - 1 = x.$

If $x \ge \frac{1}{3},$ then $|3x - 1| = 3x - 1,$ so
\[3(3x - 1) - 1 = x.\]The solution to this equation is $x = \frac{1}{2}.$

If $x< \frac{1}{3},$ then $|3x - 1| = 1 - 3x,$ so
\[3(1 - 3x) - 1 = x.\]The solution to this equation is $x = \frac{1}{5}.$

Case 2: $3|3x - 1| - 1 = -x.$

If $x \ge \frac{1}{3},$ then $|3x - 1| = 3x - 1,$ so
\[3(3x - 1) - 1 = -x.\]The solution to this equation is $x = \frac{2}{5}.$

If $x< \frac{1}{3},$ then $|3x - 1| = 1 - 3x,$ so
\[3(1 - 3x) - 1 = -x.\]The solution to this equation is $x = \frac{1}{4}.$"""
FIGURE = "[asy]\nunitsize(0.3 cm);\nint i;\nfor (i = -8; i <= 8; ++i) {\n  draw((i,-8)--(i,8),gray(0.7));\n}\n" \
         "draw((-8,0)--(8,0),Arrows(6));\nlabel(\"$x$\", (8,0), E);\n[/asy]"


def test_worked_maths_is_no_loop_but_a_formula_said_over_and_over_is(conv) -> None:
    # AGIEval's MATH: a four-case analysis was dropped as repeated_ngrams, three similar [asy] figures as
    # repeated_lines
    stage = QualityStage()
    for reply in (CASES, f"If $k = 1$ it is continuous.\n\n{FIGURE}\n\nIf $k > 1$ it is not.\n\n{FIGURE}\n\n"
                  f"If $k < 1$ the inverse is partial.\n\n{FIGURE}"):
        for run in (stage.process, lambda r: stage.process_batch([r])[0]):
            assert run(conv("Solve it.", reply)) is None
    loop = " ".join(["So we have $x = 1$ and then again we have $x = 1$ and so on."] * 12)
    drop = stage.process(conv("Solve it.", loop))
    assert drop is not None and drop.reason == "repeated_ngrams"


SOCRATIC_Q = ("Ted the T-Rex was planning to bring potato salad to the dinosaur picnic. He knows that an adult "
              "dinosaur will eat 10 lbs of potato salad, and a child will eat half as much as an adult. If there "
              "will be 20 adults and 5 children at the picnic, how many pounds of potato salad does Ted need to "
              "bring to the picnic if he hopes to have enough to feed everyone?")
_TED = ("How many pounds of potato salad does Ted need to bring to the picnic if he hopes to have enough to feed "
        "everyone?")
SOCRATIC_A = (  # openai/grade-school-math train_socratic.jsonl (MIT): each step restates the question
    "How many pounds of potato salad does an adult eat? ** Half of 10 pounds is 10/2=<<10/2=5>>5 pounds.\n"
    f"{_TED} ** To feed 20 dinosaur adults, he will need 20*10=<<20*10=200>>200 pounds of potato salad.\n"
    f"{_TED} ** To feed 5 dinosaur children, he will need 5*5=<<5*5=25>>25 pounds of potato salad.\n"
    f"{_TED} ** In total, he will need to bring 200+25=<<200+25=225>>225 pounds of potato salad to the picnic.\n"
    "#### 225")
BELLE_Q = "王师傅每小时做80个零件，李师傅每小时做的零件个数是王师傅的5倍，李师傅每小时做多少个零件？"
BELLE_A = (  # LianjiaTech/BELLE eval set, a word problem: the answer names the question's quantity each time
    "首先，我们可以将王师傅每小时做的零件个数表示为x，那么李师傅每小时做的零件个数就是5x。\n根据题意可得：\n"
    "王师傅每小时做的零件个数：x\xa0=\xa080\n李师傅每小时做的零件个数：5x\n因此，李师傅每小时做的零件个数为：\n"
    "5x\xa0=\xa05\xa0×\xa080\xa0=\xa0400\n因此，李师傅每小时做的零件个数为400个。")


def test_a_reply_that_restates_its_question_is_no_loop_but_one_that_echoes_it_is(conv) -> None:
    # Both were dropped as repeated_ngrams: the phrases said 3+ times are the question's own words.
    stage = QualityStage()
    for question, answer in ((SOCRATIC_Q, SOCRATIC_A), (BELLE_Q, BELLE_A)):
        for run in (stage.process, lambda r: stage.process_batch([r])[0]):
            assert run(conv(question, answer)) is None
    # Saying the prompt back over and over is still a loop, and so is a loop with no prompt to quote.
    echo = stage.process(conv("Eat a banana!", "Eat a banana! " * 40))
    assert echo is not None and echo.reason == "repeated_ngrams"
    loop = stage.process(conv("Hi", "I am not sure what you mean by that, I am not sure at all. " * 6))
    assert loop is not None and loop.reason == "repeated_ngrams"
    # the question echoed a dozen times with a word changed is a loop too (an adversarial review)
    langs = ["Python", "Java", "Rust", "Go", "Ruby", "Perl", "Swift", "Kotlin", "Scala", "Haskell", "Elixir", "Dart"]
    question = "What is the best way to learn Python programming quickly as a complete beginner with no experience?"
    echoed = " ".join(question.replace("Python", lang) for lang in langs)
    drop = stage.process(conv(question, echoed))
    assert drop is not None and drop.reason == "repeated_ngrams"
    apples = "小明有5个苹果，他又买了3个苹果，请问小明现在一共有多少个苹果？"
    drop = stage.process(conv(apples, "".join(apples.replace("5", str(i)) for i in range(12))))
    assert drop is not None and drop.reason == "repeated_ngrams"


def test_bracket_placeholders_opt_in(conv) -> None:
    record = conv("write a letter", "Dear [Name],\nThanks.\nBest regards,\n[Your Name]")
    drop = only("unfilled_placeholder", bracket_placeholders=True).process(record)
    assert drop is not None and drop.reason == "unfilled_placeholder"


def test_flag_mode_keeps_and_flags(conv) -> None:
    stage = QualityStage(QualityConfig(refusal_only="flag", ai_disclaimer="flag"))
    record = conv("help", "As an AI language model, I'm sorry, but I can't help with that.")
    assert stage.process(record) is None
    assert record["metadata"]["flags"] == ["ai_disclaimer", "refusal_only"]
    assert record["metadata"]["quality"] < 0.5


def test_off_mode_skips(conv) -> None:
    stage = QualityStage(QualityConfig(**ONLY))
    record = conv("q", "")
    assert stage.process(record) is None
    assert "flags" not in record["metadata"] and record["metadata"]["quality"] == 0.95


def test_default_modes_drop_empty_and_flag_refusals(conv) -> None:
    stage = QualityStage()
    drop = stage.process(conv("q", ""))
    assert drop is not None and drop.reason == "empty_reply"
    record = conv("q", "I'm sorry, but I can't help with that.")
    assert stage.process(record) is None and record["metadata"]["flags"] == ["refusal_only"]


def test_score_orders_copies(conv) -> None:
    stage = QualityStage()
    good = conv("Explain rain.", "Rain forms when water vapour condenses into droplets that grow heavy and fall.")
    weak = conv("Explain rain.", "Rain forms when water vapour condenses, and")
    stage.process(good)
    stage.process(weak)
    assert 0.0 <= weak["metadata"]["quality"] < good["metadata"]["quality"] == 1.0


def test_tool_call_turns_and_unweighted_turns_ignored(conv) -> None:
    record = conv("weather?")
    call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    record["messages"] += [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "assistant", "content": "", "weight": 0},
        {"role": "user", "content": "thanks"},
        {"role": "assistant", "content": "It is sunny today."},
    ]
    assert QualityStage().process(record) is None


def test_multi_turn_names_the_reply(conv) -> None:
    drop = only("empty_reply").process(conv("a", "fine", "b", ""))
    assert drop is not None and drop.detail == "reply 2 of 2 is empty"


def test_preference_pair_checks_chosen_only(pair) -> None:
    stage = QualityStage()
    assert stage.process(pair("q", "A good and complete answer.", "")) is None
    drop = stage.process(pair("q", "", "A good answer."))
    assert drop is not None and drop.reason == "empty_reply"


def test_first_drop_in_order_wins(conv) -> None:
    record = conv("q", "Hello {{name}}, I'm sorry, but I can't help with that.")
    drop = QualityStage(QualityConfig(refusal_only="drop")).process(record)
    assert drop is not None and drop.reason == "unfilled_placeholder"


def test_deterministic_and_pickled(conv) -> None:
    original = QualityStage(QualityConfig(truncated_reply="drop"))
    stage = pickle.loads(pickle.dumps(original))
    stage.load()
    record = conv("q", LOOP)
    first, second, third = copy.deepcopy(record), copy.deepcopy(record), copy.deepcopy(record)
    drop = stage.process(first)
    assert drop is not None and drop.reason == "repeated_ngrams"
    assert stage.process(second) == drop == original.process(third)
    assert first == second == third


def test_config_validation() -> None:
    with pytest.raises(ValidationError):
        QualityConfig(empty_reply="warn")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        QualityConfig(refusals=["x"])  # type: ignore[call-arg]


def _symbol_counts_by_regex(prose: str) -> tuple[int, int]:
    import re

    spaces = sum(prose.count(c) for c in (" ", "\n", "\t", "\r", "\u3000", "\xa0", "\f", "\v"))
    return len(prose) - spaces, len(re.findall(r"[^\w\s]|_", prose))


@pytest.mark.parametrize("prose", [
    "".join(chr(i) for i in range(128)),
    "Hello, world! snake_case x=1; 42%\t\x1c\x1d end.",
    "Ça coûte 5 € — d’accord ? 中文，标点。",
])
def test_symbol_counts_fast_path_equals_the_regex(prose: str) -> None:
    from curation.pipeline.stages.quality import _symbol_counts

    assert _symbol_counts(prose) == _symbol_counts_by_regex(prose)


def test_repeated_ngrams_counts_cjk_characters_and_words() -> None:
    from curation.pipeline.stages.quality import repeated_ngram_fraction

    assert repeated_ngram_fraction("一二三四五六七八九十" * 8, 5, 30) == 1.0
    assert repeated_ngram_fraction("一二三四五六七八九十" * 5, 5, 30) == 0.0  # 50 characters < 2 x 30
    distinct = " ".join(f"w{i}" for i in range(40))
    assert repeated_ngram_fraction(distinct, 5, 30) == 0.0
    assert repeated_ngram_fraction(distinct + " " + " ".join(f"w{i}" for i in range(10)), 5, 30) == 20 / 50


# Real replies each check dropped before (issue 10, item 5); source in tests/data/labelled/checks.jsonl.
IPV4_REGEX = (  # nlpai-lab/KULLM user_oriented_instructions_eval line 211
    "^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$"
)
RUBY_REGEX = "/\\A[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Z]{2,}\\z/"  # GPTeacher codegen item 4301
SUDOKU = "|  |  |  |  |  |6|1|4|9|\n|  |8|  |  |1|3|  |  |  |\n|  |  |6|4|2|  |7|  |  |\n|7|  |  |9|  |  |4|3|  |"
ROSE = "Voici une rose en art ASCII :\n\n    _,--._.-,\n   /\\_r-,\\_ )\n.-.) _;='_/ (.;\n \\ \\'     \\/S )\n"


def labelled(source: str, check: str) -> str:
    """The text of a row of the labelled real snippets (tests/data/labelled/checks.jsonl)."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "labelled" / "checks.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return next(r["text"] for r in rows if r["source"].startswith(source) and r["check"] == check)


OASST = "tests/data/real/LAION-AI__Open-Assistant/en_100_tree.jsonl line "
CHORUS = labelled(OASST + "31", "repeated_lines")  # a song with a chorus, 36% repeated lines
WORKOUT = labelled(OASST + "25", "repeated_lines")  # a weekly plan whose Monday and Thursday match
LINE_LOOP = "\n".join(
    ["User : Can you please tell me more about that?", "Agent : i am not sure i can help you with that."] * 5
)


@pytest.mark.parametrize(
    ("check", "reply", "hit"),
    [
        ("non_alnum_ratio", IPV4_REGEX, False),
        ("non_alnum_ratio", RUBY_REGEX, False),
        ("non_alnum_ratio", SUDOKU, False),
        ("non_alnum_ratio", ROSE, False),
        ("non_alnum_ratio", ".......................", True),  # hh-rlhf harmless-base test line 1407, rejected
        ("non_alnum_ratio", "Sure.  It’s ****-****-****-***", True),  # same file, line 191
        ("repeated_lines", CHORUS, False),
        ("repeated_lines", WORKOUT, False),
        ("repeated_ngrams", WORKOUT, False),
        ("repeated_lines", LINE_LOOP, True),  # OA sampling report, pythia-12b prompt 86
        ("repeated_lines", "\n".join(f"{i}. Chuck Norris is a great man." for i in range(1, 6)), True),
        ("repeated_ngrams", CHORUS, False),
        (
            "repeated_ngrams",  # hh-rlhf harmless-base test line 376, chosen: two parallel sentences
            "Well, you can take any verb and say “those kids who are beating my son are making their grandmothers "
            "cry.”  Or you could take any verb and say “those kids who are beating my son are absolutely in need of "
            "a spanking.”",
            False,
        ),
        ("repeated_ngrams", "Germany, Australia, U.S.A., Canada, " * 8, True),  # hh-rlhf line 2211, rejected
        ("unfilled_placeholder", "I am <NAME>, an AI assistant developed by <AUTHOR>.", True),  # self_cognition
        ("unfilled_placeholder", "default: ${{ github.repository }}", False),  # actions/checkout action.yml
        ("unfilled_placeholder", "$$\\text{{J}} = \\frac{a}{b}$$", False),
        ("unfilled_placeholder", "Replace <YOUR_API_KEY> with your key.", False),
        ("bracket_placeholder", "Best regards,\n[Your Name]", True),
        ("bracket_placeholder", "See the [PAT](https://help.github.com/x) docs.", False),
    ],
)
def test_real_false_drops_fixed_and_real_junk_still_dropped(conv, check: str, reply: str, hit: bool) -> None:
    drop = only(check).process(conv("question", reply))
    assert (drop is not None and drop.reason == check) is hit, drop


def test_bracket_slots_are_flagged_by_default(conv) -> None:
    record = conv("write a letter", "Dear [Name],\nThanks for the visit.\nBest regards,\n[Your Name]")
    assert QualityStage().process(record) is None
    assert record["metadata"]["flags"] == ["bracket_placeholder"]


def test_a_generation_cut_inside_its_loop_counts_the_last_round(conv) -> None:
    # OA sampling report, pythia-1b prompt 59 (greedy): two full rounds and a cut-off third.
    sentence = "You can't just look at the price of a cryptocurrency and determine its value."
    reply = f"You can't. {sentence}\n\n{sentence}\n\n{sentence}\n\nYou can't just look at the price of a"
    drop = only("repeated_lines").process(conv("q", reply))
    assert drop is not None and drop.reason == "repeated_lines"


@pytest.mark.parametrize("accelerated", [True, False])
def test_phrase_lists_find_the_same_phrases_with_and_without_aho_corasick(
    accelerated: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins
    import sys

    from curation.pipeline.stages.quality import QualityStage

    if not accelerated:
        real_import = builtins.__import__

        def no_ahocorasick(name: str, *args: object, **kwargs: object) -> object:
            if name == "ahocorasick":
                raise ImportError(name)
            return real_import(name, *args, **kwargs)

        monkeypatch.delitem(sys.modules, "ahocorasick", raising=False)
        monkeypatch.setattr(builtins, "__import__", no_ahocorasick)
    from curation.textscan import literal_scanner

    assert (literal_scanner({"x": 1}) is not None) == accelerated  # the path this case claims to test runs
    stage = QualityStage()
    cases = {
        "I\u2019m sorry, but I can\u2019t help with that.": "refusal_only",  # curly apostrophes
        "很抱歉，我无法提供这方面的信息。": "refusal_only",
        "As an AI Language Model, I think the answer is 42.": "ai_disclaimer",
        "Sure! The answer is 42, because six times seven is forty-two.": None,
    }
    for text, flag in cases.items():
        record = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": text}]}
        assert stage.process(record) is None
        assert record["metadata"].get("flags", []) == ([flag] if flag else []), text


def test_script_aware_symbols_leave_out_table_rules_and_weigh_cjk() -> None:
    from curation.pipeline.stages.quality import non_alnum_ratio, script_aware_symbols

    table = "| a | b |\n|---|:---:|\n| 1 | 2 |"
    body, ratio = script_aware_symbols(table)
    assert "---" not in body and "| 1 | 2 |" in body and ratio < non_alnum_ratio(table)
    chinese = "输出：[('热气球', '对象'), ('一种', '数量')]"
    assert script_aware_symbols(chinese)[1] < 0.6 < non_alnum_ratio(chinese)
    junk = "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!! ????????????????"
    assert script_aware_symbols(junk) == (junk, 1.0)


def test_twin_sentences_are_not_a_pasted_answer_but_a_long_paste_is() -> None:
    from curation.pipeline.stages.quality import QualityStage

    def drop(text: str) -> object:
        return QualityStage().process({"messages": [{"role": "user", "content": "q"},
                                                    {"role": "assistant", "content": text}]})

    twin = ("Sentence 1: Because of PersonY's innovative ideas, the business of PersonX grew remarkably over the "
            "last two years, so _ is likely the visionary leader.\nSentence 2: Because of PersonY's innovative "
            "ideas, the business of PersonX grew remarkably over the last two years, so _ is likely the follower.")
    assert drop(twin) is None
    answer = " ".join(f"Point {i}: the committee reviewed item number {i} and approved its budget." for i in range(8))
    pasted = drop(answer + " " + answer)
    assert pasted is not None and pasted.reason == "repeated_ngrams"


def test_a_reply_written_in_html_is_flagged_and_html_in_code_or_prose_is_not(conv) -> None:
    # A help-desk export (Zendesk html_body, Intercom, Freshdesk): the assistant target was trained as
    # "<p>Hi Jane,</p><p>I've issued the refund &amp; ...</p><p>Best,<br>Tom</p>" with no flag
    stage = QualityStage()
    body = conv("Refund?", "<p>Hi Jane,</p><p>I&#39;ve issued the refund &amp; you&#39;ll see it in 3&ndash;5 "
                           "days.</p><p>Best,<br>Tom<br>Acme Support</p>")
    assert stage.process(body) is None and body["metadata"]["flags"] == ["html_markup"]
    for reply in ("Use the <p> tag for paragraphs and <br> for a line break.",
                  "Here is the page:\n```html\n<div><p>Hi</p><p>There</p><br></div>\n```"):
        record = conv("HTML?", reply)
        assert stage.process(record) is None and "flags" not in record["metadata"], reply
    dropped = QualityStage(QualityConfig(html_markup="drop")).process(body)
    assert dropped is not None and dropped.reason == "html_markup"


def test_a_reasoning_trace_that_loops_is_flagged_and_a_worked_solution_is_not(conv) -> None:
    # An R1-style distillation whose trace repeats one passage over and over before it breaks out: the closed
    # <think> block passed every check (only replies were looked at) and the loop was trained
    stage = QualityStage()
    loop = ("Wait, let me recompute the total. The price is 12 and the tax is 3, so the total is 15. "
            "But the question says the tax is included.\n") * 6
    body = conv("What is the total?", "The total is 12.")
    body["messages"][-1]["reasoning"] = "First, read the question. " + loop + "So the total is 12."
    assert stage.process(body) is None and body["metadata"]["flags"] == ["reasoning_loop"]
    dropped = QualityStage(QualityConfig(reasoning_loop="drop")).process(body)
    assert dropped is not None and dropped.reason == "reasoning_loop" and "said 4+ times" in dropped.detail
    # one sentence said over and over in one paragraph (no line breaks) loops too
    body = conv("Sum?", "10")
    body["messages"][-1]["reasoning"] = "Add them up. " + "I need to add 1, 2, 3 and 4 carefully to get it. " * 8
    assert stage.process(body) is None and body["metadata"]["flags"] == ["reasoning_loop"]
    # a worked solution repeats short phrases and formulae, not whole passages four times running
    worked = "\n".join(f"Check n = {n}: {n}^2 = {n * n}, which is {'even' if n % 2 == 0 else 'odd'}. Wait, "
                       f"let me verify: {n} * {n} = {n * n}. Yes." for n in range(1, 12))
    for trace in (worked, "Wait. Wait. Wait. Wait. Wait. Let me think again.", "Hmm.\n" * 10 + "So it is 4."):
        record = conv("Squares?", "Done.")
        record["messages"][-1]["reasoning"] = trace
        assert stage.process(record) is None and "flags" not in record["metadata"], trace[:40]


def test_real_reasoning_traces_are_not_flagged_as_loops() -> None:
    from pathlib import Path

    from curation.pipeline.stages.quality import reasoning_loop
    from curation.readers import read_path

    real = Path(__file__).resolve().parents[1] / "data" / "real" / "hiyouga__LLaMA-Factory"
    traces = [m["reasoning"] for item in read_path(real / "reason_tool_use_demo_50.jsonl") if item.record
              for m in item.record["messages"] if isinstance(m.get("reasoning"), str)]
    assert len(traces) >= 20
    assert [t[:60] for t in traces if reasoning_loop(t)] == []


def test_a_real_looping_trace_is_flagged_and_real_solved_ones_are_not() -> None:
    # Sky-T1-14B on AIME 2024 (NovaSky-AI/SkyThought eval outputs): the trace of line 6 (a wrong answer) says one
    # passage over and over; lines 1 and 8 solved their problems
    from pathlib import Path

    import orjson

    from curation.pipeline.stages.quality import reasoning_loop

    path = Path(__file__).resolve().parents[1] / "data" / "real" / "NovaSky-AI__SkyThought"
    rows = [orjson.loads(line) for line in (path / "aime24_sky_t1_14b_3rows.jsonl").read_bytes().splitlines()]
    found = [reasoning_loop(row["code"][0]) for row in rows]
    assert [row["score"] for row in rows] == [[True], [False], [True]]
    assert found[0] is None and found[2] is None
    assert found[1] is not None and "said 4+ times in a row" in found[1]


def test_a_reply_that_is_the_apps_error_message_is_dropped(conv) -> None:
    # ShareGPT dumps of the ChatGPT web app (FastChat's clean_sharegpt.py drops these): the error text was trained
    # as the answer
    stage = QualityStage()
    for reply in ("Too many requests in 1 hour. Try again later.",
                  "!Too many requests in 1 hour. Try again later.",
                  "An error occurred. If this issue persists please contact us through our help center at "
                  "help.openai.com.",
                  "Something went wrong. If this issue persists please contact us through our help center at "
                  "help.openai.com.", "network error",
                  "You\u2019ve reached the current usage cap for GPT-4, please try again after 3:15 PM."):
        dropped = stage.process(conv("hi", reply))
        assert dropped is not None and dropped.reason == "app_error_reply", reply
    # answers about errors are answers
    for reply in ("Network errors happen when the connection drops; retry with backoff.",
                  "The API answers 429 Too Many Requests when you send too many requests in one hour: slow down.",
                  "Error"):
        assert stage.process(conv("What does it print?", reply)) is None, reply
    flagged = conv("hi", "Too many requests in 1 hour. Try again later.")
    assert QualityStage(QualityConfig(app_error_reply="flag")).process(flagged) is None
    assert "app_error_reply" in flagged["metadata"]["flags"]


def test_a_trace_that_writes_out_a_grid_or_repeated_code_lines_is_no_loop() -> None:
    # Codeforces-style traces copy the input grid or write a line of code several times: not a loop of thought
    from curation.pipeline.stages.quality import reasoning_loop

    grid = "The input is:\n" + ("." * 60 + "\n") * 6 + "So every cell is empty."
    code = "Then:\n" + "    visited[i][j] = visited[i - 1][j] or visited[i][j - 1]  # carry\n" * 5 + "Done."
    assert reasoning_loop(grid) is None and reasoning_loop(code) is None
    thinking = "Start. " + "Wait, perhaps I should check the second case again before I answer it.\n" * 5
    assert reasoning_loop(thinking) is not None


SONG = ("Verse 1:\nThe morning light comes through the door\nI hear the kettle sing once more\n"
        "Chorus:\nOh carry me home, carry me home\nAcross the fields where the rivers roam\n"
        "Oh carry me home, carry me home\nI'll never again be on my own\n"
        "Verse 2:\nThe evening falls on the harbour wall\nThe gulls are quiet, the shadows tall\n"
        "Chorus:\nOh carry me home, carry me home\nAcross the fields where the rivers roam\n"
        "Oh carry me home, carry me home\nI'll never again be on my own\n"
        "Bridge:\nAnd if the road should wind away\nI'll follow it to break of day\n"
        "Chorus:\nOh carry me home, carry me home\nAcross the fields where the rivers roam\n"
        "Oh carry me home, carry me home\nI'll never again be on my own")


@pytest.mark.parametrize("prompt", ["Write me a song about going home.", "Tell me something."])
def test_a_song_with_its_chorus_is_not_a_loop(prompt: str) -> None:
    # "write a song" is among the commonest requests (WildChat, ShareGPT); its choruses were dropped as repeated_lines
    record = {"id": "s", "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": SONG}]}
    assert only("repeated_lines").process(copy.deepcopy(record)) is None
    looping = "Write me a song.\n" + "\n".join(["Oh carry me home"] * 6)
    record["messages"][1]["content"] = looping
    assert only("repeated_lines").process(copy.deepcopy(record)) is not None  # a line said again and again
