"""The fast token counter (bpe-openai, the ``fast`` extra) must count exactly as tiktoken does."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation import tokens
from curation.readers import read_path
from curation.records import message_text

REAL_FILES = [
    "bofenghuang__vigogne/oasst_20230412_fr_top1.jsonl",
    "anthropics__hh-rlhf/harmless-base_test.jsonl.gz",
    "openai__openai-cookbook/drone_training.jsonl",
]


@pytest.fixture(autouse=True)
def _fresh_counters():
    tokens._counters.clear()
    yield
    tokens._counters.clear()


def _texts(real_dir: Path) -> list[str]:
    texts: list[str] = []
    for name in REAL_FILES:
        for item in read_path(real_dir / name):
            record = item.record
            if record is None:
                continue
            for key in ("messages", "prompt", "chosen", "rejected"):
                for message in record.get(key) or []:
                    texts.append(message_text(message))
    return texts


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_fast_counter_is_used_and_equals_tiktoken_on_real_data(name: str, real_dir: Path) -> None:
    import bpe_openai  # noqa: F401 - installed by the `fast` extra that setup.sh installs

    assert tokens.counter_backend(name) == "bpe-openai"
    count = tokens.token_counter(name)
    enc = tokens.get_encoding(name)
    texts = _texts(real_dir)
    assert len(texts) > 2000
    assert [count(t) for t in texts] == [len(enc.encode_ordinary(t)) for t in texts]


def test_environment_forces_tiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATION_TOKEN_COUNTER", "tiktoken")
    assert tokens.counter_backend("o200k_base") == "tiktoken"
    assert tokens.count_tokens("Hello, world!", "o200k_base") == 4


def test_a_counter_that_disagrees_on_a_probe_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    from bpe_openai import _bindings

    real = _bindings.tokenizer_for_encoding

    class OffByOneOnSpecials:
        def __init__(self, name: str) -> None:
            self._inner = real(name)

        def count(self, text: str) -> int:
            return self._inner.count(text) + ("<|endoftext|>" in text)

    monkeypatch.setattr(_bindings, "tokenizer_for_encoding", OffByOneOnSpecials)
    assert tokens.counter_backend("o200k_base") == "tiktoken"
    enc = tokens.get_encoding("o200k_base")
    text = "plain text <|endoftext|> here"
    assert tokens.count_tokens(text, "o200k_base") == len(enc.encode_ordinary(text))


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_written_probe_counts_are_tiktokens(name: str) -> None:
    enc = tokens.get_encoding(name)
    assert tokens._PROBE_COUNTS[name] == tuple(len(enc.encode_ordinary(p)) for p in tokens._PROBES)


def test_fast_counting_builds_no_tiktoken_vocabulary_and_skips_bpe_openais_model_table() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from curation import tokens; "
        "n = tokens.chat_tokens({'messages': [{'role': 'user', 'content': 'Hello, world!'}]}, 'o200k_base'); "
        "print(n, tokens.counter_backend('o200k_base'), bool(tokens._cache), 'bpe_openai.compat' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["11", "bpe-openai", "False", "False"]


# Messages of every shape chat counting meets: the plain {role, content} fast path and the general rule.
_SHAPES: list[object] = [
    {"role": "user", "content": "Hello there, how are you?"},
    {"role": "assistant", "content": ""},
    {"role": "", "content": "no role text"},
    {"role": "user", "content": "named", "name": "alice"},
    {"role": "user", "name": "only a name"},
    {"content": "no role", "weight": 1},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                                                           "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
    {"role": "tool", "content": "42", "tool_call_id": "c1"},
    {"role": "user", "content": [{"type": "text", "text": "part one"}, {"type": "image_url", "image_url": {}}]},
    {"role": "assistant", "content": "4", "reasoning": "add them"},
    {"role": ["not", "a", "string"], "content": "odd role"},
    {"role": "user", "content": 7},
    "not a message",
]


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_messages_are_counted_by_the_cookbook_rule_whatever_their_shape(name: str) -> None:
    count = tokens.token_counter(name)
    expected = []
    for message in _SHAPES:
        if not isinstance(message, dict):
            expected.append(tokens.TOKENS_PER_MESSAGE)
        elif set(message) == {"role", "content"} and isinstance(message["role"], str) \
                and isinstance(message["content"], str):
            expected.append(tokens.TOKENS_PER_MESSAGE + count(message["role"]) + count(message["content"]))
        else:
            expected.append(tokens._message_tokens(message, count))
    assert tokens.messages_tokens(_SHAPES, name) == expected
    assert [tokens.message_tokens(m, name) for m in _SHAPES if isinstance(m, dict)] == \
        [n for m, n in zip(_SHAPES, expected, strict=True) if isinstance(m, dict)]
    assert expected[0] == 3 + count("user") + count("Hello there, how are you?")
    assert expected[3] == 3 + count("user") + count("named") + count("alice") + tokens.TOKENS_PER_NAME


def test_remembered_counts_are_exact_and_the_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_MEMO_TEXTS", 4)
    tokens._memos.clear()
    count = tokens.token_counter("o200k_base")
    texts = [f"system prompt number {i % 6} " * (i % 3 + 1) for i in range(40)]
    record = {"messages": [{"role": "system", "content": t} for t in texts]}
    first = tokens.chat_token_counts(record, "o200k_base")
    again = tokens.chat_token_counts(record, "o200k_base")
    assert first == again
    assert first[1] == [3 + count("system") + count(t) for t in texts]
    memo = tokens._memos["o200k_base"][2]
    assert 0 < len(memo) <= 4
    assert all(memo[t] == count(t) for t in memo)


def test_a_new_counter_is_not_served_from_the_old_ones_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    record = {"messages": [{"role": "user", "content": "Hello, world!"}]}
    fast = tokens.chat_tokens(record, "cl100k_base")
    monkeypatch.setenv("CURATION_TOKEN_COUNTER", "tiktoken")
    tokens._counters.clear()
    assert tokens.chat_tokens(record, "cl100k_base") == fast
    assert tokens._memos["cl100k_base"][0] is tokens.token_counter("cl100k_base")
    assert tokens.counter_backend("cl100k_base") == "tiktoken"
