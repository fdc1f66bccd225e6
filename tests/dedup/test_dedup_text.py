from __future__ import annotations

from curation.dedup.text import dedup_text, exact_key, normalise_for_exact, user_turn_texts


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
