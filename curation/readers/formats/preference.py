"""Preference pairs: ``chosen`` / ``rejected`` (or ``chosen_messages`` / ``rejected_messages``) with an
optional ``prompt`` (or ``conversations``, ``messages``, Alpaca's ``instruction``/``input``, or a ``question``,
``query`` or ``input`` string, as Intel's orca_dpo_pairs and argilla's distilabel pairs write it).

The sides can be Anthropic HH transcripts (``"\\n\\nHuman: ...\\n\\nAssistant: ..."``), message lists,
single ShareGPT/OpenAI turns (LLaMA-Factory), or plain strings. Without an explicit prompt the shared
leading messages of both sides are the prompt and the differing tails are chosen and rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from curation.readers.formats import chat_text
from curation.readers.formats._common import (
    ConvertProblem,
    add_tools,
    as_number,
    convert_turns,
    history_messages,
    no_preference,
    parse_json_string,
)
from curation.readers.formats.alpaca import user_text
from curation.readers.formats.prompt_completion import as_messages
from curation.readers.mapping import FieldMapping

NAME = "preference"
KEYS = frozenset({
    "chosen", "rejected", "chosen_messages", "rejected_messages", "chosen_response", "rejected_response", "prompt",
    "conversations", "messages", "context", "trajectory",
    "instruction", "input", "question", "query", "tools", "history",
})

_HH_TURN = re.compile(r"\n\n(Human|Assistant): ?")
_HH_TURN_LOOSE = re.compile(r"(?:\n\n| {2,})(Human|Assistant): ")
_HH_ROLES = {"Human": "user", "Assistant": "assistant"}


def is_preference(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return ("chosen" in obj and "rejected" in obj) or ("chosen_messages" in obj and "rejected_messages" in obj) \
        or ("chosen_response" in obj and "rejected_response" in obj)


def _sides(obj: dict[str, Any]) -> tuple[Any, Any]:
    """Chosen and rejected as given: ``chosen_messages``/``rejected_messages`` (full message lists) win over
    ``chosen``/``rejected`` when both are there, since the latter are then often the bare reply texts."""
    if isinstance(obj.get("chosen_messages"), list) and isinstance(obj.get("rejected_messages"), list):
        return obj["chosen_messages"], obj["rejected_messages"]
    if "chosen" not in obj and "chosen_response" in obj:  # argilla's UltraFeedback binarized preferences
        return obj.get("chosen_response"), obj.get("rejected_response")
    return obj.get("chosen"), obj.get("rejected")


def is_hh_transcript(text: Any) -> bool:
    return isinstance(text, str) and ("\n\nHuman:" in text or text.startswith("Human:"))


def parse_hh(text: str) -> list[dict[str, Any]]:
    """``"\\n\\nHuman: a\\n\\nAssistant: b"`` -> user/assistant messages (leading text: a user turn).

    A few HH transcripts lost a turn's blank line ("... drag kings.  Human: Then how ..."): read strictly they
    give two assistant turns in a row, the first ending in the human's words, which a DPO export wrote as a
    two-message output. When the strict split breaks the alternation and a split that also takes two spaces
    for the blank line keeps it, that one is used."""
    messages = _hh_split(text, _HH_TURN)
    if _alternates(messages):
        return messages
    loose = _hh_split(text, _HH_TURN_LOOSE)
    return loose if _alternates(loose) else messages


def _alternates(messages: list[dict[str, Any]]) -> bool:
    return all(a["role"] != b["role"] for a, b in zip(messages, messages[1:], strict=False))


def _hh_split(text: str, turn: re.Pattern[str]) -> list[dict[str, Any]]:
    if text.startswith(("Human:", "Assistant:")):
        text = "\n\n" + text
    parts = turn.split(text)
    messages: list[dict[str, Any]] = []
    if parts[0].strip():
        messages.append({"role": "user", "content": parts[0].strip()})
    for i in range(1, len(parts) - 1, 2):
        messages.append({"role": _HH_ROLES[parts[i]], "content": parts[i + 1].strip()})
    return messages


def side_messages(value: Any, mapping: FieldMapping | None) -> list[Any]:
    """One side of a pair as messages: transcript, turn list, single turn or a plain assistant string."""
    return parse_hh(value) if is_hh_transcript(value) else as_messages(value, "assistant", mapping)


def prompt_messages(obj: dict[str, Any], mapping: FieldMapping | None) -> list[Any] | None:
    """The explicit prompt, when the record has one (``prompt``, ``conversations``, ``messages`` or Alpaca keys)."""
    if "prompt" in obj:
        value = obj["prompt"]
        if is_hh_transcript(value):
            messages = parse_hh(value)
            # TRL's HH prompts end with an open "Assistant:" cue; it is not a turn.
            if messages and messages[-1]["role"] == "assistant" and not messages[-1]["content"]:
                messages.pop()
            return messages
        if isinstance(value, list):
            return convert_turns(value, mapping)
        return [*history_messages(obj.get("history")), {"role": "user", "content": value}]
    # UltraInteract_pair keeps its prompt, with earlier attempts and their feedback, as `trajectory` turns
    for key in ("conversations", "messages", "trajectory"):
        if isinstance(obj.get(key), list):
            return convert_turns(obj[key], mapping)
    if _context_prompt(obj):
        return convert_turns(obj["context"], mapping)
    if "instruction" in obj:
        # LLaMA-Factory's Alpaca DPO rows carry earlier turns in `history`, as its SFT rows do
        return [*history_messages(obj.get("history")),
                {"role": "user", "content": user_text(obj["instruction"], obj.get("input"))}]
    # Intel/orca_dpo_pairs (system, question, chosen, rejected), argilla's distilabel pairs (input), query/...
    for key in ("question", "query", "input"):
        if isinstance(obj.get(key), str):
            return [*history_messages(obj.get("history")), {"role": "user", "content": obj[key]}]
    return None


def _context_prompt(obj: dict[str, Any]) -> bool:
    """Whether the prompt is the turns under ``context`` (no other prompt key): elsewhere ``context`` is a
    passage or a label, and stays a field."""
    return ("prompt" not in obj and not isinstance(obj.get("conversations"), list)
            and not isinstance(obj.get("messages"), list) and isinstance(obj.get("context"), list)
            and bool(obj["context"]) and all(isinstance(t, dict) for t in obj["context"]))


def split_shared_prefix(chosen: list[Any], rejected: list[Any], key: Callable[[Any], Any] | None = None
                        ) -> tuple[list[Any], list[Any], list[Any]]:
    """Shared leading messages -> prompt; each side keeps at least its last message. ``key`` is what two
    messages are compared by (the messages themselves by default)."""
    same = key or (lambda message: message)
    limit = min(len(chosen), len(rejected)) - 1
    k = 0
    while k < limit and same(chosen[k]) == same(rejected[k]):
        k += 1
    return chosen[:k], chosen[k:], rejected[k:]


def strip_prompt(prompt: list[Any], side: list[Any]) -> list[Any]:
    """A side that repeats the whole prompt first (TRL "implicit prompt" data) keeps only its tail."""
    if prompt and len(side) > len(prompt) and side[: len(prompt)] == prompt:
        return side[len(prompt) :]
    return side


# Score columns beside a pair, as UltraFeedback binarized, argilla's distilabel sets (rating_chosen,
# chosen-rating) and HelpSteer pairs name them.
_SCORE_PAIRS = tuple(
    (good, bad)
    for word in ("score", "rating", "avg_rating")  # avg: argilla/ultrafeedback-binarized-preferences
    for sep in ("_", "-")
    for good, bad in ((f"{word}{sep}chosen", f"{word}{sep}rejected"), (f"chosen{sep}{word}", f"rejected{sep}{word}"))
)


def _refuse_non_preference(obj: dict[str, Any], prompt: list[Any], chosen: list[Any], rejected: list[Any]) -> None:
    """A pair that prefers nothing teaches nothing (DPO's loss is zero or noise), and a pair whose sides answer
    different questions has no shared prompt: both are refused with the reason instead of exported."""
    for good, bad in _SCORE_PAIRS:
        a, b = as_number(obj.get(good)), as_number(obj.get(bad))
        if a is not None and a == b:
            raise no_preference(f"{good} and {bad} are equal ({obj[good]})")
    rating = parse_json_string(obj.get("rating"))  # a CSV cell holds "[7.0, 7.0]"
    if isinstance(rating, list) and len(rating) == 2:
        a, b = as_number(rating[0]), as_number(rating[1])
        if a is not None and a == b:
            raise no_preference(f"both answers have the same rating ({rating[0]})")
    if not prompt and chosen and rejected and all(
            isinstance(side[0], dict) and side[0].get("role") == "user" for side in (chosen, rejected)):
        raise ConvertProblem("prompt_mismatch", "chosen and rejected open with different user turns, so they "
                             "answer different questions and share no prompt (pair answers to the same "
                             "prompt, or give the prompt in a 'prompt' field)")


_PROMPT_ROLES = frozenset({"user", "system", "developer"})


def _prompt_turns(side: list[Any]) -> bool:
    return any(isinstance(m, dict) and m.get("role") in _PROMPT_ROLES for m in side)


def _key(message: Any) -> Any:
    """A turn compared by role and text with whitespace runs collapsed ("Hi\n" and "Hi" are one turn)."""
    if isinstance(message, dict) and isinstance(message.get("content"), str):
        return message.get("role"), " ".join(message["content"].split())
    return repr(message)


def _with_prompt(prompt: list[Any], chosen: list[Any], rejected: list[Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """An explicit prompt and the two sides, with every user and system turn in the prompt.

    Sides are often whole conversations: after the prompt (TRL's implicit prompt), with a history the
    ``prompt`` column leaves out (argilla's Capybara DPO gives the first user turn only; other sets add a system
    turn), or repeating the prompt's last turns. Their shared head then joins the prompt (the longer of the two
    where one holds the other), so chosen and rejected hold only the answers; sides that differ before their
    last user turn, or whose head is not the prompt's, are refused."""
    c, r = strip_prompt(prompt, chosen), strip_prompt(prompt, rejected)
    if not (_prompt_turns(c) or _prompt_turns(r)):
        return prompt, c, r
    shared, c_tail, r_tail = split_shared_prefix(c, r, key=_key)
    if _prompt_turns(c_tail) or _prompt_turns(r_tail):
        raise ConvertProblem("prompt_mismatch", "chosen and rejected differ before their last user turn, so they "
                             "answer different conversations (pair two answers to the same conversation)")
    if c is not chosen and r is not rejected:  # both sides opened with the prompt itself
        return [*prompt, *shared], c_tail, r_tail
    head, given = [_key(m) for m in shared], [_key(m) for m in prompt]
    if head and given[-len(head):] == head:  # the sides repeat the prompt's last turns
        return prompt, c_tail, r_tail
    if given and head[-len(given):] == given:  # the sides hold the prompt and more before it (a system turn)
        return shared, c_tail, r_tail
    if given and any(head[i : i + len(given)] == given for i in range(len(head) - len(given) + 1)):
        # Capybara-style: the prompt is the first user turn of sides that open with a system turn and go on
        return shared, c_tail, r_tail
    raise ConvertProblem("prompt_mismatch", "chosen and rejected hold their own user turns, which are not the "
                         "'prompt' (give the prompt the sides answer, or sides that hold only the answers)")


def convert(obj: dict[str, Any], mapping: FieldMapping | None,
            ) -> list[tuple[str | None, dict[str, Any], dict[str, Any] | None]]:
    chosen_raw, rejected_raw = _sides(obj)
    chosen = side_messages(chosen_raw, mapping)
    rejected = side_messages(rejected_raw, mapping)
    prompt = prompt_messages(obj, mapping)
    rendered = [chat_text.rendered_turns(obj.get("prompt"), side, mapping) for side in (chosen_raw, rejected_raw)]
    if rendered[0] and rendered[1]:  # a prompt rendered with a chat template (mlabonne's ChatML DPO pairs)
        prompt, chosen, rejected = split_shared_prefix(rendered[0], rendered[1])
    elif prompt is None:
        prompt, chosen, rejected = split_shared_prefix(chosen, rejected)
    else:
        prompt, chosen, rejected = _with_prompt(prompt, chosen, rejected)
    _refuse_non_preference(obj, prompt, chosen, rejected)
    body: dict[str, Any] = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
    add_tools(body, obj, mapping)
    # `context` and `trajectory` are read only when they are the prompt; otherwise they stay fields
    kept = {k: obj[k] for k in ("context", "trajectory") if k in obj and not _read_as_prompt(obj, k)}
    return [(None, body, kept or None)]


def _read_as_prompt(obj: dict[str, Any], key: str) -> bool:
    if key == "context":
        return _context_prompt(obj)
    return ("prompt" not in obj and not any(isinstance(obj.get(k), list) for k in ("conversations", "messages"))
            and isinstance(obj.get("trajectory"), list))
