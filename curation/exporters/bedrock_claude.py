"""Anthropic Claude on Amazon Bedrock fine-tuning files: ``{"system"?: str, "messages": [...]}``.

Rules from Anthropic's Bedrock fine-tuning cookbook: the system field is optional; at least two messages;
the first from the user, the last from the assistant; user and assistant strictly alternate; no other
keys; content is plain text. So: system messages anywhere are joined into ``system`` (``system_merged``),
consecutive same-role turns are merged (``merged_consecutive``), trailing non-assistant turns are dropped
(``last_not_assistant``), and tool calls, tool messages, images and preference pairs cannot be written
(errors). Weight 0 has no equivalent: those assistant turns will be trained on (``weight_unsupported``).
Limits for Claude 3 Haiku as AWS published them at launch (32,000 tokens per record, 32 to 10,000 training
records, at most 1,000 validation records) are checked as warnings: we could not verify them offline, and
token counts here are tiktoken estimates of Claude's tokenizer.

Status: **closed**. Claude 3 Haiku, the only fine-tunable Claude on Bedrock, is Legacy with an end date of
2026-09-10 (docs.aws.amazon.com/bedrock/latest/userguide, model lifecycle; read 2026-12-02): every export
carries a ``target_closed`` warning naming bedrock-nova, and an Amazon Nova model id is refused here (it
needs the bedrock-conversation-2024 format of the bedrock-nova exporter).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import ExportError
from ..records import has_image, message_text
from .base import ExportOptions, RecordChecker
from .chat import encode_line
from .jsonl import JsonlChecker, JsonlExporter, Target

DEFAULT_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
STATUS = "closed"
CLOSED_NOTE = ("Claude fine-tuning on Bedrock is closed: Claude 3 Haiku is Legacy, end date 2026-09-10 "
               "(AWS Bedrock model lifecycle, read 2026-12-02)")


class _ClosedChecker(JsonlChecker):
    def finish(self) -> list[Any]:
        self.issues.global_issue("warning", "target_closed", CLOSED_NOTE,
                                 "export to bedrock-nova (Amazon Nova customisation) instead", count=0)
        return super().finish()


class BedrockClaudeExporter(JsonlExporter):
    name: ClassVar[str] = "bedrock-claude"
    title: ClassVar[str] = "Claude fine-tuning on Amazon Bedrock"
    description: ClassVar[str] = "Anthropic Claude on Amazon Bedrock fine-tuning JSONL (system + alternating turns)"

    status: ClassVar[str] = STATUS

    def checker(self, options: ExportOptions) -> RecordChecker:
        return _ClosedChecker(self, options)

    def target(self, options: ExportOptions) -> Target:
        if options.model and "nova" in options.model.lower():
            raise ExportError(
                f"--to bedrock-claude writes Anthropic Claude's format, but {options.model} is an Amazon Nova model",
                hint=f"use --to bedrock-nova --model {options.model} (bedrock-conversation-2024)",
            )
        model = options.model if options.model and "claude" in options.model else DEFAULT_MODEL
        return Target(
            model=model,
            max_tokens_per_example=32_000,
            min_train_examples=32,
            min_severity="warning",
            max_train_examples=10_000,
            max_validation_examples=1_000,
            tokens_exact=False,
            source="AWS quota for Claude 3 Haiku fine-tuning",
            counts_reasoning=False,  # the file holds no thinking blocks: reasoning is dropped
        )

    def convert(self, record: dict[str, Any], kind: str, options: ExportOptions, flags: set[str]) -> bytes | None:
        messages = record.get("messages")
        if not isinstance(messages, list) or not messages:
            flags.add("missing_messages")
            return None
        if record.get("tools") or record.get("functions"):
            flags.add("tools_unsupported")
            return None
        system: list[str] = []
        turns: list[dict[str, str]] = []
        for message in messages:
            if not isinstance(message, dict):
                flags.add("missing_content")
                return None
            role = message.get("role")
            if role in ("system", "developer"):
                if turns or system:
                    flags.add("system_merged")
                text = message_text(message)
                if text:
                    system.append(text)
                continue
            if role in ("tool", "function") or message.get("tool_calls") or message.get("function_call"):
                flags.add("tools_unsupported")
                return None
            if role not in ("user", "assistant"):
                flags.add("unrecognized_role")
                return None
            if has_image(message):
                flags.add("image_unsupported")
                return None
            text = message_text(message)
            if not text:
                flags.add("missing_content")
                return None
            if role == "assistant" and message.get("weight") == 0:
                flags.add("weight_unsupported")
            if message.get("reasoning"):
                flags.add("reasoning_dropped")
            if turns and turns[-1]["role"] == role:
                turns[-1] = {"role": role, "content": f"{turns[-1]['content']}\n\n{text}"}
                flags.add("merged_consecutive")
            else:
                turns.append({"role": role, "content": text})
        if not turns or turns[0]["role"] != "user":
            flags.add("first_not_user")
            return None
        while turns and turns[-1]["role"] != "assistant":
            turns.pop()
            flags.add("last_not_assistant")
        if len(turns) < 2:
            flags.add("too_few_turns")
            return None
        out: dict[str, Any] = {"system": "\n\n".join(system)} if system else {}
        out["messages"] = turns
        return encode_line(out, flags, False)
