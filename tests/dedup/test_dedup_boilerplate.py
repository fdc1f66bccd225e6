from __future__ import annotations

from curation.dedup.boilerplate import shared_lines, without_shared_lines

PREAMBLE = "Below is an instruction that describes a task. Write a response that completes the request."


def _chat(user: str, assistant: str) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def test_lines_in_many_records_are_shared_and_left_out() -> None:
    records = [_chat(f"{PREAMBLE}\nTask number {i}: name a colour that rhymes with {i}", f"answer {i}")
               for i in range(40)]
    shared = shared_lines(records, df=0.2)
    assert len(shared) == 1  # the preamble line (with its role prefix); every task line is different
    text = f"user: {PREAMBLE}\nTask number 3: name a colour that rhymes with 3\nassistant: answer 3"
    assert PREAMBLE not in without_shared_lines(text, shared)


def test_rare_lines_and_small_samples_are_kept() -> None:
    records = [_chat(f"{PREAMBLE}\nq{i}", "a") for i in range(5)]  # fewer than MIN_RECORDS
    assert shared_lines(records, df=0.2) == set()


def test_a_record_of_shared_lines_only_keeps_its_text() -> None:
    records = [_chat(PREAMBLE, "Hello there, how can I help you today with that?") for _ in range(20)]
    shared = shared_lines(records, df=0.2)
    text = f"user: {PREAMBLE}\nassistant: Hello there, how can I help you today with that?"
    assert len(shared) == 2 and without_shared_lines(text, shared) == text
