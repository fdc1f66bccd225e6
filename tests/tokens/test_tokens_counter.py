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
