"""What the SFT loss sees: token ids and labels built from the chat template, honouring per-message weights.

TRL's own SFT preparation takes its loss mask from the template's ``{% generation %}`` markers
(``return_assistant_tokens_mask``) and knows nothing of a message's ``weight``. We build the same mask from
the same markers, then take every turn with ``weight: 0`` out of it, and hand TRL ``input_ids`` + ``labels``
(TRL uses a ``labels`` column as is). Truncation and examples left with no loss are counted here, so the
job can show them, instead of TRL cutting and dropping them silently.

Before a job starts, :func:`check_template` renders a probe conversation and verifies that the mask covers
exactly the assistant turns; a template that cannot (a Llama-3-style template without generation markers)
is an error that names the fix, and ChatML is used instead only when the user allows it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import TrainerError
from .tiny import CHATML_TEMPLATE

IGNORE = -100
# Distinct words per role, so the probe can tell which text the mask covers.
_PROBE = [
    {"role": "system", "content": "zulu system words"},
    {"role": "user", "content": "yankee user words"},
    {"role": "assistant", "content": "xray assistant words"},
    {"role": "user", "content": "whiskey user words"},
    {"role": "assistant", "content": "victor assistant words"},
]
FIX = ("pass --param chat_template=FILE with {% generation %} ... {% endgeneration %} around assistant turns, "
       "or --param chatml_fallback=true to train with ChatML, or --param assistant_only_loss=false")


def clean_messages(messages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as a chat template expects them: Arrow fills absent fields with None, and ``weight`` is ours."""
    return [{k: v for k, v in m.items() if v is not None and k != "weight"} for m in messages]


def parse_tools(tools: Any) -> list[dict[str, Any]] | None:
    """The HF export keeps each record's tools as a JSON string (as TRL reads them)."""
    if tools is None or tools == "":
        return None
    value = json.loads(tools) if isinstance(tools, str) else tools
    return value or None


def _render(tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
            template: str | None = None) -> tuple[list[int], list[int]]:
    out = tokenizer.apply_chat_template(clean_messages(messages), tools=tools, chat_template=template, tokenize=True,
                                        return_dict=True, return_assistant_tokens_mask=True)
    ids = list(out["input_ids"])
    mask = list(out.get("assistant_masks") or [0] * len(ids))
    return ids, mask


def _runs(mask: list[int]) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, bit in enumerate([*mask, 0]):
        if bit and start is None:
            start = i
        elif not bit and start is not None:
            runs.append((start, i))
            start = None
    return runs


def template_problem(tokenizer: Any, template: str | None = None) -> str | None:
    """None when the template's assistant mask covers exactly the assistant turns of a probe; else why not."""
    if not (template or getattr(tokenizer, "chat_template", None)):
        return "the tokenizer has no chat template"
    try:
        ids, mask = _render(tokenizer, _PROBE, None, template)
    except Exception as exc:  # noqa: BLE001 - any template failure is the answer
        return f"the chat template fails on a plain conversation: {type(exc).__name__}: {exc}"
    if not any(mask):
        return "the chat template marks no assistant tokens (it has no {% generation %} markers)"
    masked = tokenizer.decode([t for t, b in zip(ids, mask, strict=True) if b])
    unmasked = tokenizer.decode([t for t, b in zip(ids, mask, strict=True) if not b])
    if len(_runs(mask)) != 2 or "xray assistant words" not in masked or "victor assistant words" not in masked:
        return "the chat template's assistant mask does not cover each assistant turn"
    if any(word in masked for word in ("zulu", "yankee", "whiskey")) or "yankee user words" not in unmasked:
        return "the chat template's assistant mask covers system or user text"
    return None


def check_template(tokenizer: Any, params: dict[str, Any], log: Any = None) -> str | None:
    """The template to train with (None: the tokenizer's own); raises when it cannot mark assistant tokens.

    A ``chat_template`` param (a file or a template string) replaces the tokenizer's. With
    ``chatml_fallback`` a template that fails the probe is replaced by ChatML with generation markers,
    and ``log`` says so; without it, the failure is an error naming the fix.
    """
    given = params.get("chat_template")
    template = None
    if given:
        path = Path(given).expanduser()
        template = path.read_text(encoding="utf-8") if path.is_file() else given
    needs_mask = params.get("assistant_only_loss", True)
    problem = template_problem(tokenizer, template)
    if problem is None:
        return template
    if not needs_mask and "no {% generation %}" in problem:
        return template  # all tokens train; only weight-0 turns need the mask (checked per example)
    if params.get("chatml_fallback"):
        if log is not None:
            log(f"{problem}: training with ChatML (generation markers) because chatml_fallback is on")
        return CHATML_TEMPLATE
    raise TrainerError(f"cannot train on assistant turns only: {problem}", hint=FIX)


def sft_example(tokenizer: Any, messages: list[dict[str, Any]], tools: Any, *, template: str | None = None,
                assistant_only: bool = True) -> tuple[list[int], list[int]]:
    """``input_ids`` and ``labels``: labels are -100 outside assistant turns (when ``assistant_only``) and on
    every assistant turn whose ``weight`` is 0."""
    ids, mask = _render(tokenizer, messages, parse_tools(tools), template)
    keep = list(mask) if assistant_only else [1] * len(ids)
    assistant_weights = [m.get("weight") for m in messages if m.get("role") == "assistant"]
    if any(w == 0 for w in assistant_weights):
        runs = _runs(mask)
        if len(runs) != len(assistant_weights):
            raise TrainerError(
                f"the chat template marks {len(runs)} assistant spans for {len(assistant_weights)} assistant "
                "turns, so a turn's weight 0 cannot be honoured", hint=FIX)
        for (start, end), weight in zip(runs, assistant_weights, strict=True):
            if weight == 0:
                keep[start:end] = [0] * (end - start)
    return ids, [t if k else IGNORE for t, k in zip(ids, keep, strict=True)]


def tokenize_sft(rows: Iterable[dict[str, Any]], tokenizer: Any, *, max_length: int, template: str | None = None,
                 assistant_only: bool = True) -> tuple[dict[str, list[list[int]]], dict[str, int]]:
    """Token columns for TRL (cut to ``max_length``, examples left with no loss removed) and the counts."""
    columns: dict[str, list[list[int]]] = {"input_ids": [], "labels": []}
    stats = {"examples": 0, "truncated": 0, "fully_masked": 0, "longest_tokens": 0, "trained_examples": 0,
             "loss_tokens": 0, "weight0_turns": 0}
    for row in rows:
        stats["examples"] += 1
        messages = row["messages"]
        stats["weight0_turns"] += sum(1 for m in messages if m.get("role") == "assistant" and m.get("weight") == 0)
        ids, labels = sft_example(tokenizer, messages, row.get("tools"), template=template,
                                  assistant_only=assistant_only)
        stats["longest_tokens"] = max(stats["longest_tokens"], len(ids))
        if len(ids) > max_length:
            stats["truncated"] += 1
            ids, labels = ids[:max_length], labels[:max_length]
        if all(label == IGNORE for label in labels):
            stats["fully_masked"] += 1  # nothing to learn: TRL would drop it without a word
            continue
        stats["trained_examples"] += 1
        stats["loss_tokens"] += sum(1 for label in labels if label != IGNORE)
        columns["input_ids"].append(ids)
        columns["labels"].append(labels)
    return columns, stats


def describe_stats(stats: dict[str, Any], max_length: int) -> str:
    """One line for the console, `jobs show` and the UI."""
    text = (f"data: {stats.get('trained_examples', 0):,} of {stats.get('examples', 0):,} examples trained; "
            f"{stats.get('truncated', 0):,} truncated to max_length={max_length} "
            f"(longest {stats.get('longest_tokens', 0):,} tokens); "
            f"{stats.get('fully_masked', 0):,} fully masked (no loss, left out)")
    if stats.get("weight0_turns"):
        text += f"; {stats['weight0_turns']:,} weight-0 turns kept out of the loss"
    return text
