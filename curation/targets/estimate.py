"""How far an o200k_base token count is from the count of a tokenizer we do not have.

Gemini's, Nova's and most Together models' tokenizers cannot be had offline, so their per-example limits are
checked with tiktoken's o200k_base as an estimate. To know how wrong that estimate can be, it is measured
against the two real non-OpenAI tokenizers that a package ships offline: Mistral's Tekken (tiktoken-style,
131k vocabulary, Mistral Nemo / Pixtral) and Mistral's SentencePiece v1 (32k vocabulary, the Llama-2-style
tokenizer of Mistral 7B), both inside the ``mistral-common`` wheel. The ratio other / o200k per record, on
the real third-party files in tests/data/real, is what :data:`ESTIMATE_MARGIN` is drawn from (the test in
tests/targets/test_targets_estimate.py recomputes it and fails if the margin no longer covers it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# Measured on the 9,686 records of tests/data/real (2026-12-02): another tokenizer's count over o200k's is
# Tekken 1.04x in total (p95 of records 1.14x), SentencePiece v1 1.17x (p95 1.43x); the worst file's p95 is
# 1.98x (Korean instructions, SentencePiece v1; Russian 1.69x). So o200k *under*-counts other tokenizers, by up
# to about 2x on non-Latin text. A record is "near the limit" when its o200k count times (1 + margin) passes
# the limit: with the target's own tokenizer it may be over.
ESTIMATE_MARGIN = 1.0


def record_text(record: dict[str, Any]) -> str:
    """Every message text of a conversation or pair, joined (what all tokenizers see alike)."""
    from ..records import message_text

    parts: list[str] = []
    for key in ("messages", "prompt", "chosen", "rejected"):
        for message in record.get(key) or []:
            if isinstance(message, dict):
                parts.append(message_text(message))
    return "\n".join(parts)


def mistral_counters() -> dict[str, Callable[[str], int]]:
    """Token counters of the tokenizers shipped in mistral-common (empty when it is not installed)."""
    try:
        import mistral_common
        from mistral_common.tokens.tokenizers.sentencepiece import SentencePieceTokenizer
        from mistral_common.tokens.tokenizers.tekken import Tekkenizer
    except ImportError:
        return {}
    data = Path(mistral_common.__file__).with_name("data")
    tekken = Tekkenizer.from_file(str(data / "tekken_240911.json"))
    spm = SentencePieceTokenizer(str(data / "tokenizer.model.v1"))
    return {
        "tekken": lambda text: len(tekken.encode(text, bos=False, eos=False)),
        "sentencepiece-v1": lambda text: len(spm.encode(text, bos=False, eos=False)),
    }


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def measure(records: Iterable[dict[str, Any]], counters: dict[str, Callable[[str], int]] | None = None,
            *, limit: int | None = None) -> dict[str, Any]:
    """Per tokenizer: total ratio to o200k, and per-record ratio quantiles (records of >= 8 o200k tokens)."""
    from ..tokens import get_encoding

    o200k = get_encoding("o200k_base")
    counters = counters if counters is not None else mistral_counters()
    totals = {name: 0 for name in counters}
    ratios: dict[str, list[float]] = {name: [] for name in counters}
    base_total = n = 0
    for record in records:
        if limit is not None and n >= limit:
            break
        text = record_text(record)
        if not text:
            continue
        base = len(o200k.encode_ordinary(text))
        n += 1
        base_total += base
        for name, count in counters.items():
            other = count(text)
            totals[name] += other
            if base >= 8:
                ratios[name].append(other / base)
    out: dict[str, Any] = {"records": n, "o200k_tokens": base_total, "tokenizers": {}}
    for name in counters:
        values = ratios[name]
        out["tokenizers"][name] = {
            "tokens": totals[name],
            "total_ratio": round(totals[name] / base_total, 4) if base_total else None,
            "p05": round(_quantile(values, 0.05), 4),
            "p50": round(_quantile(values, 0.50), 4),
            "p95": round(_quantile(values, 0.95), 4),
            "max": round(max(values), 4) if values else None,
        }
    return out


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Canonical records of one input file (unreadable payloads skipped)."""
    from ..readers.convert import read_path

    return [item.record for item in read_path(path) if item.record is not None]
