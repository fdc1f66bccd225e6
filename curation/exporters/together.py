"""Together AI fine-tuning files (conversational JSONL and preference JSONL).

From docs.together.ai "Data preparation": each line ``{"messages": [...]}`` with roles system, user,
assistant; a leading system message is optional, then user and assistant strictly alternate (the Together
client rejects other files). ``weight`` 0/1 is accepted on ANY message (unlike OpenAI). Preference data
uses OpenAI's DPO keys (input, preferred_output, non_preferred_output). File limit 100 GB.

Assumptions (documented, not verified against an upload): tool calls and tool messages are not part of the
conversational format, so records with them are refused (``tools_unsupported``); consecutive same-role
turns are merged (``merged_consecutive``); token limits depend on the chosen base model's context, which
we do not tabulate, so ``--model`` only names it (no per-example token check).
"""

from __future__ import annotations

from typing import ClassVar

from .base import ExportOptions
from .chat import ChatRules
from .jsonl import MB, JsonlExporter, Target

TOGETHER_RULES = ChatRules(
    roles=frozenset({"system", "user", "assistant"}),
    weight_roles=frozenset({"system", "user", "assistant"}),
    image_roles=frozenset(),
    tools=False,
    function_call=False,
    alternate=True,
)


class TogetherExporter(JsonlExporter):
    name: ClassVar[str] = "together"
    title: ClassVar[str] = "Together AI fine-tuning"
    description: ClassVar[str] = "Together AI conversational / preference JSONL"
    kinds: ClassVar[frozenset[str]] = frozenset({"sft", "dpo"})
    rules: ClassVar[ChatRules] = TOGETHER_RULES

    def target(self, options: ExportOptions) -> Target:
        return Target(
            model=options.model or "(base model chosen at job creation)",
            max_file_bytes=100 * 1024 * MB,
            supports_dpo=True,
            tokens_exact=False,
        )
