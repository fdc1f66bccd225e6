"""Per-prompt scores of one answer against the reference turn.

- ``tool_call``: 1 when the answer makes exactly the reference's calls (same functions, arguments equal as
  JSON, in order) or, where the reference calls nothing on a prompt that offers tools, calls nothing; the
  ``tool_call_outcome`` says which way it went (right_call, wrong_function, wrong_arguments, missing_call,
  unexpected_call, right_no_call).
- ``chrf``: sacrebleu's chrF (0-100) of the answer text against the reference text.
- ``rougeL``: rouge-score's ROUGE-L F-measure (0-1).
- ``exact``: normalised exact match, only where the reference is short (≤ ``SHORT_WORDS`` words).
A score that does not apply to a prompt is absent (not zero), so means are over the prompts it applies to.
"""

from __future__ import annotations

import json
import unicodedata
from functools import lru_cache
from typing import Any

from ..errors import MissingExtraError
from ..records import message_text as text_of

SHORT_WORDS = 8
METRICS = ("tool_call", "chrf", "rougeL", "exact")
# Higher is better for all of them; the scale each is shown on.
SCALE = {"tool_call": 1.0, "chrf": 100.0, "rougeL": 1.0, "exact": 1.0}


def _arguments(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else {}
        except ValueError:
            return ("<not json>", value.strip())
    return {} if value is None else value


def _calls(message: dict[str, Any]) -> list[tuple[str, Any]]:
    calls = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {} if isinstance(call, dict) else {}
        calls.append((str(function.get("name") or ""), _arguments(function.get("arguments"))))
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        calls.append((str(legacy.get("name") or ""), _arguments(legacy.get("arguments"))))
    return calls


def tool_call_outcome(reference: dict[str, Any], answer: dict[str, Any], *, offers_tools: bool) -> str | None:
    """How the answer's tool calls compare with the reference's; None when tools play no part."""
    wanted, made = _calls(reference), _calls(answer)
    if not wanted:
        if not offers_tools:
            return None
        return "right_no_call" if not made else "unexpected_call"
    if not made:
        return "missing_call"
    if [name for name, _ in made] != [name for name, _ in wanted]:
        return "wrong_function"
    if any(a != b for (_, a), (_, b) in zip(made, wanted, strict=True)):
        return "wrong_arguments"
    return "right_call"


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split()).strip(" .!?")


@lru_cache(maxsize=1)
def _chrf() -> Any:
    try:
        from sacrebleu.metrics import CHRF
    except ImportError:
        raise MissingExtraError("sacrebleu", "eval") from None
    return CHRF()


@lru_cache(maxsize=1)
def _rouge() -> Any:
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        raise MissingExtraError("rouge-score", "eval") from None
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def rouge_l(reference: str, hypothesis: str) -> float:
    # rouge-score's default tokenizer keeps only [a-z0-9]; Chinese, Japanese and Korean would score 0
    # whatever the answer, so those texts are compared per character (the unit such metrics use for CJK).
    if any(_is_cjk(ch) for ch in reference + hypothesis):
        reference, hypothesis = _spaced(reference), _spaced(hypothesis)
        return float(_rouge_chars(reference.split(), hypothesis.split()))
    return float(_rouge().score(reference, hypothesis)["rougeL"].fmeasure)


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x3040 <= code <= 0x30FF or 0x3400 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF


def _spaced(text: str) -> str:
    return " ".join(ch for ch in _normalise(text) if not ch.isspace())


def _rouge_chars(ref: list[str], hyp: list[str]) -> float:
    from rouge_score.rouge_scorer import _score_lcs

    return _score_lcs(ref, hyp).fmeasure


def score(reference: dict[str, Any], answer: dict[str, Any], *, offers_tools: bool) -> dict[str, Any]:
    """All scores of one answer (absent where a score does not apply)."""
    out: dict[str, Any] = {}
    outcome = tool_call_outcome(reference, answer, offers_tools=offers_tools)
    if outcome is not None:
        out["tool_call"] = 1.0 if outcome in ("right_call", "right_no_call") else 0.0
        out["tool_call_outcome"] = outcome
    ref_text, hyp_text = text_of(reference).strip(), text_of(answer).strip()
    if ref_text:
        out["chrf"] = round(float(_chrf().sentence_score(hyp_text, [ref_text]).score), 4)
        out["rougeL"] = round(rouge_l(ref_text, hyp_text), 4)
        if len(ref_text.split()) <= SHORT_WORDS and len(ref_text) <= 80:
            out["exact"] = 1.0 if _normalise(ref_text) == _normalise(hyp_text) else 0.0
    return out
