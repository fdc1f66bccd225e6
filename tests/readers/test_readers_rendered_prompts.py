"""Prompt columns written through `tokenizer.apply_chat_template`: their turns are read out of the markup, so
the model does not learn to write `<|eot_id|>` or `[/INST]` (curation/readers/formats/chat_text.rendered_turns)."""

from __future__ import annotations

import pytest
from read_helpers import read

from curation.readers.formats.chat_text import rendered_turns

Q, A, B = "What is 3+3?", "6", "7"


@pytest.mark.parametrize("prompt, completion", [
    (f"<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{Q}<|eot_id|><|start_header_id|>assistant"
     "<|end_header_id|>\n\n", f"{A}<|eot_id|>"),
    (f"<s>[INST] {Q} [/INST]", f" {A} </s>"),
    (f"<|im_start|>user\n{Q}<|im_end|>\n<|im_start|>assistant\n", f"{A}<|im_end|>\n"),
    (f"<start_of_turn>user\n{Q}<end_of_turn>\n<start_of_turn>model\n", f"{A}<end_of_turn>\n"),
], ids=["llama3", "llama2", "chatml", "gemma"])
def test_a_rendered_prompt_and_completion_read_as_turns(prompt: str, completion: str) -> None:
    record = read({"prompt": prompt, "completion": completion})
    assert record["messages"] == [{"role": "user", "content": Q}, {"role": "assistant", "content": A}]


def test_a_rendered_dpo_prompt_keeps_its_system_turn_and_plain_answers() -> None:
    prompt = (f"<|im_start|>system\nYou are a tutor.<|im_end|>\n<|im_start|>user\n{Q}<|im_end|>\n"
              "<|im_start|>assistant\n")
    record = read({"prompt": prompt, "chosen": A, "rejected": B})
    assert record["prompt"] == [{"role": "system", "content": "You are a tutor."}, {"role": "user", "content": Q}]
    assert record["chosen"] == [{"role": "assistant", "content": A}]
    assert record["rejected"] == [{"role": "assistant", "content": B}]


def test_plain_prompts_and_prose_about_templates_stay_as_they_are() -> None:
    assert rendered_turns("Explain what <|im_start|> does in ChatML.", "It opens a turn.", None) is None
    assert rendered_turns(Q, A, None) is None
    record = read({"prompt": Q, "completion": A})
    assert record["messages"] == [{"role": "user", "content": Q}, {"role": "assistant", "content": A}]
