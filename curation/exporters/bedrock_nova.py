"""Amazon Nova customisation on Amazon Bedrock: ``bedrock-conversation-2024`` (Converse-style) JSONL.

One line per example (docs.aws.amazon.com/bedrock/latest/userguide/nova-2-sft-data-prep.html and
docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html, read 2026-12-02)::

    {"schemaVersion": "bedrock-conversation-2024",
     "system": [{"text": ...}],                                          optional
     "messages": [{"role": "user", "content": [{"text": ...}]},
                  {"role": "assistant", "content": [{"reasoningContent": {"reasoningText": {"text": ...}}},
                                                    {"text": ...}]}]}

Rules: roles ``user`` and ``assistant`` only, the first turn the user's and the last the assistant's, turns
alternating (consecutive same-role turns are merged, ``merged_consecutive``); system messages go into
``system``; assistant content is text, optionally led by one ``reasoningContent`` block (Nova 2.0; the loss
then covers the reasoning too); one data type per dataset (text only here: image parts are refused, they
would need S3 URIs); ``User:``, ``Bot:``, ``Assistant:``, ``System:``, ``<image>``, ``<video>`` and ``[EOS]`` are
reserved keywords that fail the job when a user or system prompt uses them (``nova_reserved_keyword``).
Tool use is in the Converse format but "not currently supported by Amazon Nova 2.0 SFT": records with tools
are refused (``tools_unsupported``). Weight 0 has no equivalent (``weight_unsupported``). Preference pairs
(Nova DPO uses ``candidates`` with ``preferenceLabel``) are not written by this exporter.

Limits live in :data:`NOVA_LIMITS` (one row per model family, with source and date) so that they can move
into the provider table unchanged. Token counts are tiktoken estimates of Nova's tokenizer (warnings only).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from ..records import has_image, message_text
from .base import ExportOptions
from .chat import encode_line
from .jsonl import MB, JsonlExporter, Target

DEFAULT_MODEL = "amazon.nova-lite-v1:0"
SCHEMA_VERSION = "bedrock-conversation-2024"
SOURCE = "docs.aws.amazon.com/bedrock/latest/userguide (Nova customisation quotas), read 2026-12-02"

# Per model family: (max tokens per example, min train, max train, max validation). The quotas are the ones
# Bedrock publishes for Nova 1.0 customisation; Nova 2.0 pages do not restate them, so they are warnings.
NOVA_LIMITS: dict[str, dict[str, Any]] = {
    "amazon.nova-micro": {"max_tokens": 32_000, "min_train": 8, "max_train": 20_000, "max_validation": 1_000,
                          "source": SOURCE},
    "amazon.nova-lite": {"max_tokens": 32_000, "min_train": 8, "max_train": 20_000, "max_validation": 1_000,
                         "source": SOURCE},
    "amazon.nova-pro": {"max_tokens": 32_000, "min_train": 8, "max_train": 20_000, "max_validation": 1_000,
                        "source": SOURCE},
    "amazon.nova-2-lite": {"max_tokens": 32_000, "min_train": 8, "max_train": 20_000, "max_validation": 1_000,
                           "source": SOURCE},
}
# Keywords the Nova data-prep page reserves: a user or system prompt that uses one fails the training job.
RESERVED_KEYWORDS = re.compile(r"User:|Bot:|Assistant:|System:|<image>|<video>|\[EOS\]")


def nova_limits(model: str) -> dict[str, Any]:
    for prefix in sorted(NOVA_LIMITS, key=len, reverse=True):
        if model.startswith(prefix):
            return NOVA_LIMITS[prefix]
    return NOVA_LIMITS["amazon.nova-lite"]


def _nova2(model: str) -> bool:
    """Whether a Nova model id is of the 2.0 family (amazon.nova-2-lite-v1:0), whose SFT data may carry
    reasoningContent ("Nova 2.0 SFT data uses the same format as Nova 1.0, with the addition of optional
    reasoning content fields", AWS Nova 2 user guide, read 2026-12-02)."""
    return "nova-2" in model.lower()


def is_nova(model: str | None) -> bool:
    return bool(model) and "nova" in str(model).lower()


class BedrockNovaExporter(JsonlExporter):
    name: ClassVar[str] = "bedrock-nova"
    title: ClassVar[str] = "Amazon Nova customisation on Bedrock"
    description: ClassVar[str] = "Amazon Nova on Bedrock (bedrock-conversation-2024; reasoning on Nova 2)"

    def target(self, options: ExportOptions) -> Target:
        model = options.model if is_nova(options.model) else DEFAULT_MODEL
        limits = nova_limits(str(model))
        return Target(
            model=str(model),
            max_tokens_per_example=limits["max_tokens"],
            min_train_examples=limits["min_train"],
            min_severity="warning",
            max_train_examples=limits["max_train"],
            max_validation_examples=limits["max_validation"],
            max_file_bytes=None,
            tokens_exact=False,
            source=limits["source"],
            counts_reasoning=_nova2(str(model)),  # only Nova 2's files hold reasoningContent
        )

    def convert(self, record: dict[str, Any], kind: str, options: ExportOptions, flags: set[str]) -> bytes | None:
        messages = record.get("messages")
        if not isinstance(messages, list) or not messages:
            flags.add("missing_messages")
            return None
        if record.get("tools") or record.get("functions"):
            flags.add("tools_unsupported")
            return None
        # reasoningContent is Nova 2.0's addition to the format: a Nova 1 model's job takes no such block
        reasoning_ok = _nova2(self.target(options).model)
        system: list[str] = []
        turns: list[dict[str, Any]] = []
        for message in messages:
            if not isinstance(message, dict):
                flags.add("missing_content")
                return None
            role = message.get("role")
            if has_image(message):
                flags.add("image_unsupported")
                return None
            text = message_text(message)
            if role in ("system", "developer"):
                if turns or system:
                    flags.add("system_merged")
                if text:
                    if RESERVED_KEYWORDS.search(text):
                        flags.add("nova_reserved_keyword")
                        return None
                    system.append(text)
                continue
            if role in ("tool", "function") or message.get("tool_calls") or message.get("function_call"):
                flags.add("tools_unsupported")
                return None
            if role not in ("user", "assistant"):
                flags.add("unrecognized_role")
                return None
            if not text:
                flags.add("missing_content")
                return None
            if role == "user" and RESERVED_KEYWORDS.search(text):
                flags.add("nova_reserved_keyword")
                return None
            blocks: list[dict[str, Any]] = []
            reasoning = message.get("reasoning")
            if role == "assistant":
                if message.get("weight") == 0:
                    flags.add("weight_unsupported")
                if isinstance(reasoning, str) and reasoning:
                    if reasoning_ok:
                        blocks.append({"reasoningContent": {"reasoningText": {"text": reasoning}}})
                    else:
                        flags.add("reasoning_dropped")
            blocks.append({"text": text})
            if turns and turns[-1]["role"] == role:
                # Merged turns keep one reasoning block, first: a Converse turn reasons once, then answers.
                previous = turns[-1]["content"]
                reasoning_blocks = [b for b in (*previous, *blocks) if "reasoningContent" in b]
                text_blocks = [b for b in (*previous, *blocks) if "text" in b]
                if len(reasoning_blocks) > 1:
                    joined = "\n\n".join(b["reasoningContent"]["reasoningText"]["text"] for b in reasoning_blocks)
                    reasoning_blocks = [{"reasoningContent": {"reasoningText": {"text": joined}}}]
                turns[-1]["content"] = [*reasoning_blocks, *text_blocks]
                flags.add("merged_consecutive")
            else:
                turns.append({"role": role, "content": blocks})
        if not turns or turns[0]["role"] != "user":
            flags.add("first_not_user")
            return None
        while turns and turns[-1]["role"] != "assistant":
            turns.pop()
            flags.add("last_not_assistant")
        if len(turns) < 2:
            flags.add("too_few_turns")
            return None
        out: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION}
        if system:
            out["system"] = [{"text": "\n\n".join(system)}]
        out["messages"] = turns
        return encode_line(out, flags, False)


__all__ = ["MB", "NOVA_LIMITS", "BedrockNovaExporter", "is_nova", "nova_limits"]
