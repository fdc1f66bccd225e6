"""Mistral's fine-tuning format, for the open-source mistral-finetune trainer (run locally):
``{"messages": [...], "tools"?}``.

Status: Mistral deprecated all fine-tuning on La Plateforme, with no replacement (docs.mistral.ai/resources/
deprecated, read 2026-12-02), so this file is for ``mistral-finetune`` on your own GPUs; it is checked with
Mistral's own ``mistral-common`` parser in the tests (``pip install 'curation[mistral]'``).

Differences from OpenAI that matter at upload: tool-call ids must be exactly 9 characters of [a-zA-Z0-9]
(mistral-common's validator; "Tool call id was call_… but must be a-z, A-Z, 0-9, with a length of 9") —
we rewrite them deterministically and consistently within a record (``tool_call_id_rewritten``); the
last message must be the assistant's (trailing turns are dropped with ``last_not_assistant``); ``weight``
0/1 only on assistant messages; no images, no legacy function_call, no preference data; every function in
``tools`` needs a ``description`` (mistral-finetune rejects it otherwise: ``function_missing_description``);
assistant reasoning has no field (``reasoning_dropped``).
Assumption (not verified): no minimum example count or file size limit is enforced here.
"""

from __future__ import annotations

from typing import ClassVar

from .base import ExportOptions
from .chat import ChatRules
from .jsonl import JsonlExporter, Target

MISTRAL_RULES = ChatRules(
    roles=frozenset({"system", "user", "assistant", "tool"}),
    image_roles=frozenset(),
    function_call=False,
    end_with_assistant=True,
    mistral_ids=True,
    function_descriptions=True,
)


class MistralExporter(JsonlExporter):
    name: ClassVar[str] = "mistral"
    title: ClassVar[str] = "mistral-finetune (local)"
    description: ClassVar[str] = "mistral-finetune JSONL for local training (platform fine-tuning is deprecated)"
    status: ClassVar[str] = "local"
    kinds: ClassVar[frozenset[str]] = frozenset({"sft"})
    rules: ClassVar[ChatRules] = MISTRAL_RULES

    def target(self, options: ExportOptions) -> Target:
        return Target(model=options.model or "open-mistral-nemo", tokens_exact=False,
                      counts_reasoning=False)  # mistral-finetune's files hold no reasoning
