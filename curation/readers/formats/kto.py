"""KTO (unpaired preference) data: a conversation plus a boolean desirability ``label``.

Two layouts: LLaMA-Factory's (``{"messages" | "conversations": [...], "label": true}``; its dataset_info
calls the column ``kto_tag``) and TRL's KTOTrainer format (``{"prompt", "completion", "label"}``, strings or
message lists). The record is a conversation whose ``metadata.label`` keeps the label: ``true`` answers are
usable for SFT, ``false`` ones are undesirable and never reach an SFT split (the ``label`` stage).
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import add_tools, convert_turns
from curation.readers.formats.openai import fix_messages
from curation.readers.formats.prompt_completion import as_messages
from curation.readers.mapping import FieldMapping

NAME = "kto"
LABEL_KEYS = ("label", "kto_tag")
KEYS = frozenset({"messages", "conversations", "prompt", "completion", "tools", *LABEL_KEYS})




def label_of(obj: dict[str, Any]) -> bool | None:
    """The record's KTO label, or None when it has none.

    Booleans are labels in every layout, and "desirable"/"undesirable" too. The words true/false and 0/1 are
    also a BoolQ answer, a sentiment or an NLI class: they count only in LLaMA-Factory's ``kto_tag`` column, and
    true/false beside ``prompt`` + ``completion`` (TRL's unpaired layout written through CSV), and Python's
    "True"/"False" beside ``messages`` or ``conversations`` (pandas' CSV of LLaMA-Factory's layout).
    """
    for key in LABEL_KEYS:
        value = obj.get(key)
        if value is None:
            continue
        if value is True or value is False:
            return value
        word = value.strip().lower() if isinstance(value, str) else None
        if word in ("desirable", "undesirable"):
            return word == "desirable"
        trl = "prompt" in obj and "completion" in obj
        if word in ("true", "false") and (key == "kto_tag" or trl):
            return word == "true"
        # pandas writes a boolean column to CSV as "True"/"False": LLaMA-Factory's KTO layout saved so. A
        # lower-case "false" beside the turns stays a field (a BoolQ answer label).
        if value in ("True", "False") and ("messages" in obj or "conversations" in obj):
            return value == "True"
        if key == "kto_tag" and value in (0, 1, "0", "1"):
            return value in (1, "1")
    return None


def label_beside(obj: dict[str, Any], mapping: FieldMapping | None = None) -> tuple[bool, str] | None:
    """A KTO label beside another layout, with the column it came from: LLaMA-Factory's Alpaca KTO
    (``instruction``/``output`` + ``kto_tag``), or the column a mapping names (``mapping.label``: kto-mix's
    boolean ``tag``). A boolean ``label`` or ``tag`` alone is not taken: beside a question it is as often the
    truth of a statement or a class. None when there is none."""
    key = mapping.label if mapping is not None and mapping.label else None
    if key is not None and obj.get(key) is not None:
        value = obj[key]
        if value is True or value is False:
            return value, key
        word = str(value).strip().lower()
        if word in ("true", "1", "desirable"):
            return True, key
        if word in ("false", "0", "undesirable"):
            return False, key
        return None
    found = label_of({"kto_tag": obj["kto_tag"]}) if "kto_tag" in obj else None
    return (found, "kto_tag") if found is not None else None


def is_kto(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if label_of(obj) is None:
        return False
    return "messages" in obj or "conversations" in obj or ("prompt" in obj and "completion" in obj)


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    if "messages" in obj:
        messages = obj["messages"]
        # OpenAI-style turns are kept as they are; ShareGPT-style ones (from/value) are converted.
        if isinstance(messages, list) and any(isinstance(m, dict) and "role" not in m for m in messages):
            messages = convert_turns(messages, mapping)
        else:
            messages = fix_messages(messages, mapping)
    elif "conversations" in obj:
        messages = convert_turns(obj["conversations"], mapping)
    else:
        prompt, completion = obj["prompt"], obj["completion"]
        head = as_messages(prompt, "user", mapping)
        tail = as_messages(completion, "assistant", mapping)
        if head and tail[: len(head)] == head:  # argilla's kto-mix: the completion repeats the prompt's turns
            head = []
        messages = [*head, *tail]
    body: dict[str, Any] = {"messages": messages, "metadata": {"label": label_of(obj)}}
    add_tools(body, obj, mapping)
    return [(None, body, None)]
