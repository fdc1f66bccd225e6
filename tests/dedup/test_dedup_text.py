from __future__ import annotations

from curation.dedup.text import dedup_text, exact_and_near_text, exact_key, normalise_for_exact, user_turn_texts


def test_dedup_text_is_role_tagged_and_ignores_ids_metadata_and_tools() -> None:
    a = {"id": "1", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
         "metadata": {"source": {"line": 1}}, "tools": [{"type": "function", "function": {"name": "f"}}]}  # fmt: skip
    b = {"id": "2", "messages": [{"role": "user", "content": "Hi"},
                                 {"role": "assistant", "content": "Hello", "weight": 0}]}  # fmt: skip
    assert dedup_text(a) == dedup_text(b) == "user: Hi\nassistant: Hello"
    swapped = {"messages": [{"role": "assistant", "content": "Hi"}, {"role": "user", "content": "Hello"}]}
    assert exact_key(dedup_text(swapped)) != exact_key(dedup_text(a))


def test_tool_calls_and_content_parts_count() -> None:
    call = {"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}  # fmt: skip
    text = dedup_text({"messages": [{"role": "user", "content": [{"type": "text", "text": "Weather?"}]}, call]})
    assert text == 'user: Weather?\nassistant: \nget_weather({"city": "Paris"})'


def test_reasoning_counts() -> None:
    # xtuner's qwen35 test data: each answer with and without reasoning_content; the copy with the reasoning
    # was dropped as an exact or near duplicate of the one without.
    plain = {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}
    thought = {"messages": [{"role": "user", "content": "Q"},
                            {"role": "assistant", "content": "A", "reasoning": "think first"}]}
    assert dedup_text(thought) == "user: Q\nassistant: [reasoning] think first\nA"
    assert exact_key(dedup_text(plain)) != exact_key(dedup_text(thought))
    assert exact_and_near_text(thought)[1] != exact_and_near_text(plain)[1]


def test_preference_pair_includes_prompt_chosen_and_rejected() -> None:
    pair = {"prompt": [{"role": "user", "content": "Q"}], "chosen": [{"role": "assistant", "content": "good"}],
            "rejected": [{"role": "assistant", "content": "bad"}]}  # fmt: skip
    assert dedup_text(pair) == "user: Q\nchosen assistant: good\nrejected assistant: bad"
    assert user_turn_texts(pair) == ["Q"]


def test_whitespace_case_and_width_variants_collide() -> None:
    base = "user: Hello World!\nassistant: Fine, thanks."
    for variant in (
        "  user:  hello\tWORLD!\n\nassistant: fine,   THANKS. ",
        "USER: Hello World！\nassistant: Fine, thanks.",
    ):
        assert normalise_for_exact(variant) == normalise_for_exact(base)
        assert exact_key(variant) == exact_key(base)
    assert len(exact_key(base)) == 16
    assert exact_key(base) != exact_key(base.replace("World", "Word"))


def test_batch_keys_equal_one_by_one() -> None:
    from curation.dedup.shingles import fold_text, fold_texts
    from curation.dedup.text import exact_keys

    texts = [
        "Hello World", "", "ＦＵＬＬ　ｗｉｄｔｈ ＡＢＣ", "Straße ﬁne", "今天我感到非常高兴。", "nul\x00inside é",
        "combining e\u0301 mark", "ASCII only, again", "한국어 문장입니다", "\u00a0nbsp\u2009thin",
    ]
    assert fold_texts(texts) == [fold_text(t) for t in texts]
    assert exact_keys(texts) == [exact_key(t) for t in texts]
    assert fold_texts([]) == [] and exact_keys([]) == []


def test_collapse_spaces_equals_split_and_join() -> None:
    import random

    from curation.dedup.text import collapse_spaces

    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    alphabet = [*spaces, "a", "b", "é", "中", "\u200d", "\x00", "\ud800", "\x7f"]
    rng = random.Random(0)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert collapse_spaces(text) == " ".join(text.split()), repr(text)


def test_exact_and_near_text_equals_the_two_walks() -> None:
    from pathlib import Path

    from curation.dedup.text import exact_and_near_text, exact_text, near_text
    from curation.readers import read_path

    odd: list[dict] = [
        {"messages": [{"role": "system", "content": "S"}, {"role": "developer", "content": "D"},
                      {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}]},
                      {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}}, "not a message",
                      {"role": ["odd"], "content": "list role"}, {"content": "no role"}],
         "tools": [{"type": "function", "function": {"name": "f"}}]},
        {"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}],
         "chosen": [{"role": "assistant", "content": "good"}], "rejected": [{"role": "assistant", "content": "bad"}]},
        {"messages": "not a list"},
    ]  # fmt: skip
    real = Path(__file__).resolve().parents[1] / "data" / "real" / "openai__openai-cookbook" / "drone_training.jsonl"
    records = [*odd, *(item.record for item in read_path(real) if item.record is not None)]
    for record in records:
        assert exact_and_near_text(record) == (exact_text(record), near_text(record))
