"""Offline token counting (tiktoken) and the table of fine-tunable models.

The BPE rank files tiktoken would download on first use ship gzip-compressed inside the package
(``curation/data/tiktoken/*.tiktoken.gz``) with the SHA-256 of their *uncompressed* bytes in
``SHA256SUMS`` (the same hash tiktoken itself checks). :func:`get_encoding` decompresses, verifies and
builds a :class:`tiktoken.Encoding` directly, so it never reads ``TIKTOKEN_CACHE_DIR`` and never opens a
socket: air-gapped users get the same counts as everyone else.

Chat token counting follows the OpenAI cookbook's ``Chat_finetuning_data_prep`` notebook
(``num_tokens_from_messages``): per message 3 tokens of framing plus the tokens of every string value
(role, content, name) plus 1 for a ``name``; 3 more for the reply priming. We extend it to what the
cookbook never sees, because OpenAI bills those tokens too:

- content given as parts counts the text of its text parts (images are not counted: their cost depends
  on resolution, not on text);
- ``tool_calls`` count each call's function name and arguments string; ``function_call`` the same;
- a ``tool_call_id`` counts its tokens (it is rendered into the tool message);
- ``tools`` (and legacy ``functions``) count the tokens of their compact JSON, once per example.

These are estimates in the cookbook's spirit (OpenAI does not publish its exact rendering); they are exact
for the plain role/content/name messages the cookbook handles.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.machinery
import importlib.util
import os
import sys
import threading
from dataclasses import asdict, dataclass, fields
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson

from .errors import ConfigError, CurationError
from .records import is_preference

if TYPE_CHECKING:  # tiktoken is a core dependency, but importing it costs time: load it only when counting
    import tiktoken

ENCODINGS: tuple[str, ...] = ("o200k_base", "cl100k_base")

# The cookbook's overheads (num_tokens_from_messages).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3

_DATA_PACKAGE = "curation.data.tiktoken"
_cache: dict[str, tiktoken.Encoding] = {}
_lock = threading.Lock()


def _expected_hashes() -> dict[str, str]:
    text = resources.files(_DATA_PACKAGE).joinpath("SHA256SUMS").read_text(encoding="utf-8")
    hashes: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            digest, filename = line.split()
            hashes[filename.removesuffix(".tiktoken")] = digest
    return hashes


def parse_ranks(raw: bytes) -> dict[bytes, int]:
    """Parse a ``.tiktoken`` file (one ``base64-token rank`` pair a line) into mergeable ranks."""
    ranks: dict[bytes, int] = {}
    b64decode = base64.b64decode
    for line in raw.splitlines():
        if line:
            token, rank = line.split()
            ranks[b64decode(token)] = int(rank)
    return ranks


def load_ranks(name: str, *, data: bytes | None = None, expected_sha256: str | None = None) -> dict[bytes, int]:
    """Read the shipped (or given gzip-compressed) rank file of an encoding and verify its SHA-256."""
    if name not in ENCODINGS:
        raise CurationError(f"unknown tiktoken encoding {name!r}", hint=f"use one of: {', '.join(ENCODINGS)}")
    if data is None:
        data = resources.files(_DATA_PACKAGE).joinpath(f"{name}.tiktoken.gz").read_bytes()
    expected = expected_sha256 or _expected_hashes()[name]
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise CurationError(
            f"the shipped tiktoken file for {name} is not valid gzip ({exc})",
            hint="reinstall the curation package (pip install --force-reinstall curation)",
        ) from None
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected:
        raise CurationError(
            f"the shipped tiktoken file for {name} has sha256 {actual[:12]}…, expected {expected[:12]}…",
            hint="the package data is corrupted or was modified; reinstall the curation package",
        )
    return parse_ranks(raw)


def _definition(name: str, ranks: dict[bytes, int]) -> dict[str, Any]:
    """tiktoken's own constructor arguments for ``name`` (pat_str, special tokens), fed our ranks.

    The pattern and special tokens live inside tiktoken_ext's constructor functions, which call the
    module-level ``load_tiktoken_bpe`` (a download). Swapping that one global for the duration of the
    call (under a lock) reuses tiktoken's definitions exactly instead of copying regexes that could drift.
    """
    import tiktoken_ext.openai_public as openai_public

    constructor = getattr(openai_public, name)
    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = lambda *args, **kwargs: ranks
    try:
        return constructor()
    finally:
        openai_public.load_tiktoken_bpe = original


def get_encoding(name: str) -> tiktoken.Encoding:
    """The tiktoken encoding ``name`` built from the shipped files; cached per process."""
    encoding = _cache.get(name)
    if encoding is not None:
        return encoding
    with _lock:
        encoding = _cache.get(name)
        if encoding is None:
            import tiktoken

            definition = _definition(name, load_ranks(name))
            encoding = tiktoken.Encoding(
                definition["name"],
                pat_str=definition["pat_str"],
                mergeable_ranks=definition["mergeable_ranks"],
                special_tokens=definition["special_tokens"],
                explicit_n_vocab=definition.get("explicit_n_vocab"),
            )
            _cache[name] = encoding
    return encoding


def _as_encoding(encoding: tiktoken.Encoding | str) -> tiktoken.Encoding:
    return get_encoding(encoding) if isinstance(encoding, str) else encoding


def _name(encoding: tiktoken.Encoding | str) -> str:
    return encoding if isinstance(encoding, str) else encoding.name


# Probe texts a fast counter must count exactly as tiktoken does before it is trusted: several scripts,
# whitespace runs, numbers, contractions, emoji, and special-token strings (ordinary text in user data).
_PROBES: tuple[str, ...] = (
    "Hello, world! It's 2024-06-01; we'll see.\n\n  Indented   code:\tx = f(y) ** 2",
    "<|endoftext|> and <|im_start|>user<|im_end|> are plain text here <|fim_prefix|>",
    "今天我感到非常高兴。東京の天気は晴れです。한국어 문장입니다. Привет, мир! مرحبا بالعالم",
    "emoji 👍🏽👨‍👩‍👧 tabs\t\t\tand \r\n newlines    trailing   ",
    "1234567890 3.14159 1e-9 0xFF {\"key\": [1, 2, {\"nested\": null}]} https://example.com/a?b=c",
    "Ünïcödé façade naïve coöperate ß ﬁ ＦＵＬＬ　ｗｉｄｔｈ",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    " ",
    "",
)
# len(tiktoken's encode_ordinary(probe)) per encoding, for _PROBES in order. Written down so that trusting the
# fast counter needs no tiktoken vocabulary in the process (~0.25 CPU-s to build);
# tests/tokens/test_tokens_counter.py recomputes them with tiktoken.
_PROBE_COUNTS: dict[str, tuple[int, ...]] = {
    "o200k_base": (30, 31, 32, 21, 41, 32, 12, 1, 0),
    "cl100k_base": (32, 30, 48, 28, 40, 37, 12, 1, 0),
}
_counters: dict[str, tuple[Any, str]] = {}  # encoding name -> (count function, library name)


def _bpe_bindings() -> Any | None:
    """bpe-openai's Rust extension module, loaded without running ``bpe_openai/__init__.py``: that imports
    ``bpe_openai.compat``, which builds every vocabulary it knows in Python (~1 CPU-s per process) for a
    model table we never use. None when the ``fast`` extra is not installed."""
    module = sys.modules.get("bpe_openai._bindings")
    if module is not None:
        return module
    spec = importlib.util.find_spec("bpe_openai")  # finds the package without executing it
    for location in (spec.submodule_search_locations or []) if spec else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(location, f"_bindings{suffix}")
            if os.path.exists(path):
                ext_spec = importlib.util.spec_from_file_location("bpe_openai._bindings", path)
                if ext_spec is None or ext_spec.loader is None:
                    return None
                module = importlib.util.module_from_spec(ext_spec)
                ext_spec.loader.exec_module(module)
                sys.modules["bpe_openai._bindings"] = module  # `import bpe_openai` later reuses it
                return module
    return None


TOKEN_COUNTER_ENV = "CURATION_TOKEN_COUNTER"
TOKEN_COUNTERS = ("auto", "tiktoken")


def token_counter_setting() -> str:
    """``CURATION_TOKEN_COUNTER``: ``auto`` (unset or empty) or ``tiktoken``; anything else is refused, since a
    typo (``tiktokn``) would silently keep the fast counter the user meant to turn off."""
    value = os.environ.get(TOKEN_COUNTER_ENV) or "auto"
    if value not in TOKEN_COUNTERS:
        from .suggest import did_you_mean

        raise ConfigError(f"{TOKEN_COUNTER_ENV}={value!r} is not a token counter"
                            f"{did_you_mean(value, list(TOKEN_COUNTERS))}",
                            hint=f"set it to one of: {', '.join(TOKEN_COUNTERS)}, or unset it")
    return value


def _fast_counter(name: str) -> Any | None:
    """bpe-openai's Rust counter for encoding ``name`` (the ``fast`` extra), if installed and it counts every
    probe as tiktoken does (:data:`_PROBE_COUNTS`). It counts without building token lists: ~30% cheaper
    than ``len(encode_ordinary())`` on the benchmark corpus, with identical counts. None when unavailable,
    disabled or not equal."""
    if token_counter_setting() == "tiktoken":
        return None
    expected = _PROBE_COUNTS.get(name)
    if expected is None:
        return None
    try:
        bindings = _bpe_bindings()
        if bindings is None:
            return None
        fast = bindings.tokenizer_for_encoding(name).count
        if tuple(fast(text) for text in _PROBES) == expected:
            return fast
    except Exception:  # noqa: BLE001 - any failure means: use tiktoken, which is always right
        return None
    return None


def token_counter(encoding: tiktoken.Encoding | str) -> Any:
    """A function ``text -> token count`` for ``encoding``, with ``encode_ordinary`` semantics (special-token
    strings count as text). bpe-openai when installed and proven equal on probe texts, else tiktoken (whose
    vocabulary is then built; with bpe-openai it never is). ``CURATION_TOKEN_COUNTER=tiktoken`` forces
    tiktoken."""
    name = _name(encoding)
    entry = _counters.get(name)
    if entry is None:
        fast = _fast_counter(name)
        if fast is not None:
            entry = (fast, "bpe-openai")
        else:
            encode_ordinary = _as_encoding(encoding).encode_ordinary

            def count(text: str) -> int:
                return len(encode_ordinary(text))

            entry = (count, "tiktoken")
        _counters[name] = entry
    return entry[0]


def counter_backend(encoding: tiktoken.Encoding | str) -> str:
    """``bpe-openai`` or ``tiktoken``: which library counts tokens for ``encoding`` in this process."""
    token_counter(encoding)
    return _counters[_name(encoding)][1]


# Texts repeat across a dataset: one system prompt on every record, exact copies, the same tool call. Counting
# is ~0.1 us a character, a dict look-up ~0.1 us a text, so chat counting remembers what it counted, bounded
# (by texts and by characters: a few MB at most) and emptied when full (the hot texts come back at once).
_MEMO_TEXTS = 8192
_MEMO_CHARS = 1 << 22
_memos: dict[str, tuple[Any, Any, dict[str, int]]] = {}  # encoding -> (counter, remembering counter, memo)


def _memo_counter(encoding: tiktoken.Encoding | str) -> Any:
    """:func:`token_counter` for ``encoding`` that remembers its counts (see ``_MEMO_TEXTS``)."""
    count = token_counter(encoding)
    entry = _memos.get(_name(encoding))
    if entry is not None and entry[0] is count:
        return entry[1]
    memo: dict[str, int] = {}
    chars = 0

    def memo_count(text: str) -> int:
        nonlocal chars
        n = memo.get(text)
        if n is None:
            n = count(text)
            if len(memo) >= _MEMO_TEXTS or chars > _MEMO_CHARS:
                memo.clear()
                chars = 0
            memo[text] = n
            chars += len(text)
        return n

    _memos[_name(encoding)] = (count, memo_count, memo)
    return memo_count


def count_tokens(text: str, encoding: tiktoken.Encoding | str) -> int:
    """Tokens of ``text``; special-token strings count as ordinary text (as OpenAI's tokenizer sees user data)."""
    if not text:
        return 0
    return token_counter(encoding)(text)


def _content_tokens(content: Any, count: Any) -> int:
    if isinstance(content, str):
        return count(content) if content else 0
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str) and text:
                    total += count(text)
        return total
    return 0


def _call_tokens(call: Any, count: Any) -> int:
    if not isinstance(call, dict):
        return 0
    total = 0
    for key in ("name", "arguments"):
        value = call.get(key)
        if isinstance(value, str) and value:
            total += count(value)
    return total


def message_tokens(message: dict[str, Any], encoding: tiktoken.Encoding | str) -> int:
    """One message's tokens as the cookbook counts them (framing + role + content + name), plus tools."""
    return _message_tokens(message, _memo_counter(encoding))


def _message_tokens(message: dict[str, Any], count: Any, reasoning: bool = True) -> int:
    total = TOKENS_PER_MESSAGE
    role = message.get("role")
    if isinstance(role, str) and role:
        total += count(role)
    total += _content_tokens(message.get("content"), count)
    thought = message.get("reasoning") if reasoning else None
    if isinstance(thought, str) and thought:  # trained on where the target takes it (Together, Nova, hf)
        total += count(thought)
    name = message.get("name")
    if isinstance(name, str):
        total += count(name) + TOKENS_PER_NAME if name else TOKENS_PER_NAME
    tool_calls = message.get("tool_calls")
    if isinstance(tool_calls, list):
        for call in tool_calls:
            if isinstance(call, dict):
                total += _call_tokens(call.get("function"), count)
    function_call = message.get("function_call")
    if function_call is not None:
        total += _call_tokens(function_call, count)
    tool_call_id = message.get("tool_call_id")
    if isinstance(tool_call_id, str) and tool_call_id:
        total += count(tool_call_id)
    return total


def messages_tokens(messages: Any, encoding: tiktoken.Encoding | str) -> list[int]:
    """Per-message token counts (for filters that look at single turns); none when ``messages`` is no list."""
    return _messages_tokens(messages, _memo_counter(encoding))


def _messages_tokens(messages: Any, count: Any, reasoning: bool = True) -> list[int]:
    if not isinstance(messages, list):
        return []
    counts: list[int] = []
    for message in messages:
        if type(message) is dict and len(message) == 2:
            # The common message, exactly {role, content} with two strings: the general rule in three lines.
            role = message.get("role")
            content = message.get("content")
            if type(role) is str and type(content) is str:
                counts.append(TOKENS_PER_MESSAGE + (count(role) if role else 0) + (count(content) if content else 0))
                continue
        counts.append(_message_tokens(message, count, reasoning) if isinstance(message, dict)
                      else TOKENS_PER_MESSAGE)
    return counts


def _tools_tokens(record: dict[str, Any], count: Any) -> int:
    total = 0
    for key in ("tools", "functions"):
        value = record.get(key)
        if value:
            text = value if isinstance(value, str) else orjson.dumps(value).decode()
            total += count(text)
    return total


def chat_token_counts(record: dict[str, Any], encoding: tiktoken.Encoding | str, reasoning: bool = True,
                      ) -> tuple[int, list[int]]:
    """(:func:`chat_tokens`, the per-message counts in reading order: prompt, chosen, rejected for a pair).
    ``reasoning``: whether assistant reasoning counts (False for a target whose files leave it out)."""
    count = _memo_counter(encoding)
    total = _tools_tokens(record, count) + REPLY_PRIMING_TOKENS
    if is_preference(record):
        prompt, chosen, rejected = (_messages_tokens(record.get(k), count, reasoning)
                                    for k in ("prompt", "chosen", "rejected"))
        return total + sum(prompt) + max(sum(chosen), sum(rejected)), [*prompt, *chosen, *rejected]
    counts = _messages_tokens(record.get("messages"), count, reasoning)
    return total + sum(counts), counts


def chat_tokens(record: dict[str, Any], encoding: tiktoken.Encoding | str) -> int:
    """Tokens of one canonical example as the cookbook counts them (see the module docstring).

    A preference pair counts its prompt with the longer of its two completions: that is the sequence that
    has to fit the model's per-example limit.
    """
    return chat_token_counts(record, encoding)[0]


def assistant_tokens(record: dict[str, Any], encoding: tiktoken.Encoding | str) -> int:
    """Tokens of assistant content (what training learns from), like the cookbook's
    ``num_assistant_tokens_from_messages``, plus the assistant's tool-call names and arguments."""
    count = _memo_counter(encoding)
    if is_preference(record):
        messages = [*(record.get("chosen") or []), *(record.get("rejected") or [])]
    else:
        messages = record.get("messages") or []
    total = 0
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "assistant":
            total += _content_tokens(message.get("content"), count)
            reasoning = message.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                total += count(reasoning)
            for call in message.get("tool_calls") or ():
                if isinstance(call, dict):
                    total += _call_tokens(call.get("function"), count)
    return total


def token_histogram(values: list[int], limit: int) -> dict[str, Any]:
    """Up to 20 equal-width bins of per-record token counts from 0 to the largest (report.json's
    ``token_hist``); ``limit`` is the model's per-example limit, drawn as a line on the chart."""
    import numpy as np

    if not values:
        return {"edges": [], "counts": []}
    top = max(max(values), 1)
    edges = np.unique(np.linspace(0, top, num=21).round().astype(int))
    counts, edges = np.histogram(np.asarray(values), bins=edges)
    return {"edges": [int(e) for e in edges], "counts": [int(c) for c in counts], "limit": limit}


# ---------------------------------------------------------------------------------------------------------
# Models


# Providers whose fine-tuning files hold no reasoning (the OpenAI and Azure exporters leave it out, with a
# reasoning_dropped warning): a reasoning trace is neither trained on nor billed there, nor counted to the limit.
DROPS_REASONING = frozenset({"openai", "azure"})


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What we need to know about a fine-tunable model to check and price a dataset for it."""

    name: str
    provider: str  # "openai" or "azure" (or whatever a user-defined model says)
    encoding: str  # a name in ENCODINGS
    max_tokens_per_example: int
    training_price_per_1m: float | None = None  # USD per 1M billed training tokens; None = not published/known
    supports_dpo: bool = False
    min_examples: int = 10  # both providers refuse files with fewer (invalid_n_examples)
    notes: str = ""


# Sources. Context length per training example: /work/shared/reference/user-needs.md ("Documented limits"):
# OpenAI community t/884424 (gpt-4o-mini 65,536), t/563147 and openai-cookbook PRs #1178/#1413
# (gpt-3.5-turbo-1106/0125 16,385, -0613 4,096), Azure includes/fine-tune-models.md (gpt-4o, gpt-4o-mini,
# gpt-4.1, gpt-4.1-mini 65,536; gpt-4.1-nano 32,768; gpt-35-turbo-0125 16,385).
# Training prices: OpenAI's published pricing page (openai.com/api/pricing, "Fine-tuning", USD per 1M training
# tokens): gpt-4o-2024-08-06 25.00, gpt-4o-mini-2024-07-18 3.00, gpt-4.1 25.00, gpt-4.1-mini 5.00, gpt-4.1-nano
# 1.50, gpt-3.5-turbo 8.00. Azure bills training per hour or per token depending on region and deployment
# type, so Azure prices are left None rather than guessed.
# DPO: OpenAI lists gpt-4o-2024-08-06, gpt-4o-mini-2024-07-18 and the gpt-4.1 family; Azure documents
# gpt-4o-2024-08-06 (and the 4.1 family in later pages); gpt-3.5 models have no DPO.
_BUILTIN: tuple[ModelInfo, ...] = (
    ModelInfo("gpt-4o-mini-2024-07-18", "openai", "o200k_base", 65_536, 3.00, True),
    ModelInfo("gpt-4o-2024-08-06", "openai", "o200k_base", 65_536, 25.00, True),
    ModelInfo("gpt-4.1-2025-04-14", "openai", "o200k_base", 65_536, 25.00, True),
    ModelInfo("gpt-4.1-mini-2025-04-14", "openai", "o200k_base", 65_536, 5.00, True),
    ModelInfo("gpt-4.1-nano-2025-04-14", "openai", "o200k_base", 32_768, 1.50, True),
    ModelInfo("gpt-3.5-turbo-0125", "openai", "cl100k_base", 16_385, 8.00, False),
    ModelInfo("gpt-3.5-turbo-1106", "openai", "cl100k_base", 16_385, 8.00, False),
    ModelInfo("gpt-3.5-turbo-0613", "openai", "cl100k_base", 4_096, 8.00, False),
    ModelInfo("gpt-4o-mini-2024-07-18@azure", "azure", "o200k_base", 65_536, None, False),
    ModelInfo("gpt-4o-2024-08-06@azure", "azure", "o200k_base", 65_536, None, True),
    ModelInfo("gpt-4.1-2025-04-14@azure", "azure", "o200k_base", 65_536, None, True),
    ModelInfo("gpt-4.1-mini-2025-04-14@azure", "azure", "o200k_base", 65_536, None, True),
    ModelInfo("gpt-4.1-nano-2025-04-14@azure", "azure", "o200k_base", 32_768, None, True),
    ModelInfo("gpt-35-turbo-0125", "azure", "cl100k_base", 16_385, None, False),
    ModelInfo("gpt-35-turbo-1106", "azure", "cl100k_base", 16_385, None, False),
    ModelInfo("gpt-35-turbo-0613", "azure", "cl100k_base", 4_096, None, False),
)

# Short names users type; they resolve to the snapshot that fine-tuning accepts.
_ALIASES: dict[str, str] = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    "gpt-35-turbo": "gpt-35-turbo-0125",
    "azure/gpt-4o-mini": "gpt-4o-mini-2024-07-18@azure",
    "azure/gpt-4o": "gpt-4o-2024-08-06@azure",
    "azure/gpt-4.1": "gpt-4.1-2025-04-14@azure",
    "azure/gpt-4.1-mini": "gpt-4.1-mini-2025-04-14@azure",
    "azure/gpt-4.1-nano": "gpt-4.1-nano-2025-04-14@azure",
    "azure/gpt-35-turbo": "gpt-35-turbo-0125",
    "azure/gpt-35-turbo-0125": "gpt-35-turbo-0125",
}

MODELS: dict[str, ModelInfo] = {m.name: m for m in _BUILTIN}
DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"


def known_models() -> list[str]:
    """Every name :func:`resolve_model` accepts without a user definition, sorted."""
    return sorted({*MODELS, *_ALIASES})


def _user_model(name: str, spec: Any) -> ModelInfo:
    if isinstance(spec, ModelInfo):
        return spec
    if not isinstance(spec, dict):
        raise CurationError(
            f"model {name!r} must be defined by a mapping of fields, got {type(spec).__name__}",
            hint="e.g. {encoding: o200k_base, max_tokens_per_example: 65536, provider: openai}",
        )
    allowed = {f.name for f in fields(ModelInfo)}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise CurationError(
            f"model {name!r} has unknown field(s) {', '.join(unknown)}", hint=f"allowed: {', '.join(sorted(allowed))}"
        )
    values = {"name": name, "provider": "custom", "encoding": "o200k_base", **spec}
    if "max_tokens_per_example" not in spec:
        base = MODELS.get(_ALIASES.get(name, name))
        if base is None:
            raise CurationError(
                f"model {name!r} needs max_tokens_per_example", hint="set the per-example context length"
            )
        values = {**asdict(base), **spec, "name": name}
    if values["encoding"] not in ENCODINGS:
        raise CurationError(
            f"model {name!r} uses unknown encoding {values['encoding']!r}", hint=f"use one of: {', '.join(ENCODINGS)}"
        )
    try:
        info = ModelInfo(**values)
        if not isinstance(info.max_tokens_per_example, int) or info.max_tokens_per_example <= 0:
            raise ValueError("max_tokens_per_example must be a positive integer")
    except (TypeError, ValueError) as exc:
        raise CurationError(f"model {name!r} is not valid: {exc}", hint="check the model definition") from None
    return info


def resolve_model(name: str, extra: dict[str, Any] | None = None) -> ModelInfo:
    """The :class:`ModelInfo` for ``name``: a user definition in ``extra`` wins, then the built-ins and aliases."""
    if extra and name in extra:
        return _user_model(name, extra[name])
    key = _ALIASES.get(name, name)
    info = MODELS.get(key)
    if info is None:
        names = sorted({*known_models(), *(extra or {})})
        from .suggest import did_you_mean

        raise CurationError(
            f"unknown model {name!r}{did_you_mean(name, names)}",
            hint=f"use one of: {', '.join(names)}; or define it under `models:` in the config",
        )
    return info


# ---------------------------------------------------------------------------------------------------------
# Epochs and cost, as the cookbook estimates them

TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25


def default_epochs(n_examples: int) -> int:
    """The number of epochs OpenAI picks by default for a dataset of ``n_examples`` (cookbook logic)."""
    if n_examples <= 0:
        return TARGET_EPOCHS
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


def billed_tokens(token_counts: Any, max_tokens: int, epochs: int) -> int:
    """Training tokens billed: each example counts up to the limit (longer ones are truncated), times epochs."""
    return epochs * sum(min(max_tokens, int(n)) for n in token_counts)


@dataclass(frozen=True, slots=True)
class CostEstimate:
    model: str
    examples: int
    epochs: int
    tokens_per_epoch: int
    billed_tokens: int
    price_per_1m: float | None
    cost_usd: float | None


def estimate_cost(token_counts: Any, model: ModelInfo, epochs: int | None = None) -> CostEstimate:
    """Epochs (the cookbook default unless given), billed tokens and cost in USD (None when unpriced)."""
    counts = list(token_counts)
    n_epochs = default_epochs(len(counts)) if epochs is None else epochs
    per_epoch = billed_tokens(counts, model.max_tokens_per_example, 1)
    billed = per_epoch * n_epochs
    price = model.training_price_per_1m
    cost = None if price is None else round(billed / 1_000_000 * price, 2)
    return CostEstimate(model.name, len(counts), n_epochs, per_epoch, billed, price, cost)
