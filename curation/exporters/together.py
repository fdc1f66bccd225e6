"""Together AI fine-tuning files: conversational JSONL (with function calling and reasoning) and preference JSONL.

From docs.together.ai (fine-tuning data preparation, function-calling and reasoning fine-tuning, preference
fine-tuning; read 2026-12-02): each line ``{"messages": [...], "tools"?}``; roles system, user, assistant
and tool; a leading system message is optional, then user and assistant alternate (consecutive same-role
user/assistant turns are merged, ``merged_consecutive``; tool results follow the assistant turn whose
``tool_calls`` they answer). ``weight`` 0/1 is accepted on any message. Function calling: ``tools`` in the
OpenAI shape, assistant ``tool_calls``, ``tool`` messages with ``tool_call_id``. Reasoning: assistant
``reasoning`` (Together also reads ``reasoning_content``; we write ``reasoning``). Preference data uses the
OpenAI DPO keys (``input``, ``preferred_output``, ``non_preferred_output``) where each output is exactly
ONE assistant message (``dpo_output_not_single``) and the input has no two assistant turns in a row
(``dpo_consecutive_assistant``). File limit 100 GB. Token limits depend on the chosen base model's context,
which we do not tabulate, so ``--model`` only names it (no per-example token check).
"""

from __future__ import annotations

from typing import ClassVar

from .base import ExportOptions
from .chat import ChatRules
from .jsonl import MB, JsonlExporter, Target

TOGETHER_RULES = ChatRules(
    roles=frozenset({"system", "user", "assistant", "tool"}),
    weight_roles=frozenset({"system", "user", "assistant", "tool"}),
    image_roles=frozenset({"user"}),  # base64 images in user turns, at most 10 per example (together-data)
    image_data_only=True,
    max_images=10,
    tools=True,
    function_call=False,
    alternate=True,
    reasoning_key="reasoning",
    dpo_single_output=True,
    parallel_tool_calls=False,
)


class TogetherExporter(JsonlExporter):
    name: ClassVar[str] = "together"
    title: ClassVar[str] = "Together AI fine-tuning"
    description: ClassVar[str] = "Together AI conversational (tools, reasoning) / preference JSONL"
    kinds: ClassVar[frozenset[str]] = frozenset({"sft", "dpo"})
    rules: ClassVar[ChatRules] = TOGETHER_RULES

    def target(self, options: ExportOptions) -> Target:
        return Target(
            model=options.model or "(base model chosen at job creation)",
            max_file_bytes=100 * 1024 * MB,
            supports_dpo=True,
            tokens_exact=False,
        )
