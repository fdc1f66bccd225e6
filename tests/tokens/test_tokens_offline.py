from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path

import pytest
import tiktoken

from curation import tokens
from curation.errors import CurationError

URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}

TEXTS = [
    "",
    "Hello, world!",
    "Bonjour à tous, comment ça va ?",
    "今天天气很好，我们去公园散步吧。",
    "안녕하세요, 만나서 반갑습니다.",
    "def f(x):\n    return {'a': [1, 2, 3]}\n\n\n",
    "special strings stay text: <|endoftext|> <|fim_suffix|> <|im_start|>",
    "emoji 🤖🚀 and numbers 1234567890 and   multiple   spaces\t\ttabs",
]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tiktoken.Encoding]:
    """tiktoken's own encodings, loaded through its cache mechanism from the shipped bytes."""
    cache = tmp_path_factory.mktemp("tiktoken_cache")
    for name, url in URLS.items():
        data = resources.files("curation.data.tiktoken").joinpath(f"{name}.tiktoken.gz").read_bytes()
        (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(gzip.decompress(data))
    old = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    try:
        return {name: tiktoken.get_encoding(name) for name in URLS}
    finally:
        if old is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = old


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_counts_equal_tiktoken(name: str, reference: dict[str, tiktoken.Encoding]) -> None:
    ours = tokens.get_encoding(name)
    ref = reference[name]
    assert ours.special_tokens_set == ref.special_tokens_set
    assert ours.n_vocab == ref.n_vocab
    for text in TEXTS:
        assert ours.encode_ordinary(text) == ref.encode(text, disallowed_special=())
        assert tokens.count_tokens(text, ours) == len(ref.encode(text, disallowed_special=()))
        assert tokens.count_tokens(text, name) == len(ref.encode_ordinary(text))


def test_encoding_is_cached() -> None:
    assert tokens.get_encoding("o200k_base") is tokens.get_encoding("o200k_base")


def test_unknown_encoding() -> None:
    with pytest.raises(CurationError, match="unknown tiktoken encoding") as info:
        tokens.get_encoding("p50k_base")
    assert "o200k_base" in (info.value.hint or "")


def test_cookbook_overhead_formula(reference: dict[str, tiktoken.Encoding]) -> None:
    ref = reference["o200k_base"]
    messages = [
        {"role": "system", "content": "You are a happy assistant that puts a positive spin on everything."},
        {"role": "user", "content": "I fell off my bike today."},
        {"role": "assistant", "content": "It's great that you're getting exercise outdoors!", "name": "Sunny"},
    ]
    # num_tokens_from_messages: 3 per message + every string value + 1 per name, + 3 reply priming.
    expected = 3
    for message in messages:
        expected += 3
        for key, value in message.items():
            expected += len(ref.encode(value))
            if key == "name":
                expected += 1
    assert tokens.chat_tokens({"messages": messages}, "o200k_base") == expected
    # A known figure: two one-token messages, 3 + (3 + 1 + 1) * 2 ... = 13.
    two = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    assert tokens.chat_tokens(two, "o200k_base") == 13
    assert tokens.messages_tokens(two["messages"], "o200k_base") == [5, 5]
    assert tokens.assistant_tokens({"messages": messages}, "o200k_base") == len(ref.encode(messages[2]["content"]))


def test_tools_and_tool_calls_are_counted() -> None:
    enc = tokens.get_encoding("o200k_base")
    call = {"id": "call_1", "type": "function", "function": {"name": "takeoff", "arguments": '{"altitude": 100}'}}
    plain = {"messages": [{"role": "user", "content": "up"}, {"role": "assistant", "tool_calls": [call]}]}
    with_tools = {**plain, "tools": [{"type": "function", "function": {"name": "takeoff", "parameters": {}}}]}
    call_tokens = len(enc.encode_ordinary("takeoff")) + len(enc.encode_ordinary('{"altitude": 100}'))
    bare = {"messages": [{"role": "user", "content": "up"}, {"role": "assistant"}]}
    assert tokens.chat_tokens(plain, enc) == tokens.chat_tokens(bare, enc) + call_tokens
    tools_json = '[{"type":"function","function":{"name":"takeoff","parameters":{}}}]'
    assert tokens.chat_tokens(with_tools, enc) == tokens.chat_tokens(plain, enc) + len(enc.encode_ordinary(tools_json))
    assert tokens.assistant_tokens(plain, enc) == call_tokens


def test_content_parts_count_text_only() -> None:
    parts = [{"type": "text", "text": "hello"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    as_parts = {"messages": [{"role": "user", "content": parts}, {"role": "assistant", "content": "hi"}]}
    as_text = {"messages": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}]}
    assert tokens.chat_tokens(as_parts, "o200k_base") == tokens.chat_tokens(as_text, "o200k_base")


def test_preference_counts_prompt_with_longer_completion() -> None:
    prompt = [{"role": "user", "content": "Say something."}]
    short = [{"role": "assistant", "content": "Hi."}]
    long = [{"role": "assistant", "content": "Hello there, this is a much longer answer than the other."}]
    pair = {"prompt": prompt, "chosen": short, "rejected": long}
    assert tokens.chat_tokens(pair, "o200k_base") == tokens.chat_tokens({"messages": prompt + long}, "o200k_base")


def test_hash_mismatch_is_a_curation_error() -> None:
    with pytest.raises(CurationError, match="sha256") as info:
        tokens.load_ranks("o200k_base", data=gzip.compress(b"aGVsbG8= 0\n"))
    assert "reinstall" in (info.value.hint or "")
    with pytest.raises(CurationError, match="not valid gzip"):
        tokens.load_ranks("o200k_base", data=b"not gzip at all")


def test_shipped_hashes_match_readme() -> None:
    sums = resources.files("curation.data.tiktoken").joinpath("SHA256SUMS").read_text()
    assert "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d  o200k_base.tiktoken" in sums
    assert "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7  cl100k_base.tiktoken" in sums


def test_counts_with_network_blocked_and_empty_cache(tmp_path: Path, repo_dir: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network is blocked in this test")

        socket.socket = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from curation.tokens import chat_tokens, count_tokens, get_encoding

        print(count_tokens("Hello, world!", get_encoding("o200k_base")), count_tokens("Hello, world!", "cl100k_base"))
        print(chat_tokens({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
                          "o200k_base"))
        """
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(cache), "DATA_GYM_CACHE_DIR": str(cache)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=repo_dir, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["4", "4", "13"]
    assert list(cache.iterdir()) == []
