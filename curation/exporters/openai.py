"""OpenAI fine-tuning files: supervised chat JSONL and DPO preference JSONL.

SFT line: ``{"messages": [...], "tools"?, "parallel_tool_calls"?}``; message keys role, content, name,
tool_calls, tool_call_id, function_call, and weight (0/1, assistant messages only). No id, no metadata:
an extra key fails the upload (``Example 1 contains an extra "weight"``).
DPO line: ``{"input": {"messages", "tools"?}, "preferred_output": [...], "non_preferred_output": [...]}``.
Limits (see /work/shared/reference/user-needs.md): at least 10 training examples, 512 MB per file, the
model's per-example token limit (longer examples are truncated), no reserved special tokens.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..records import has_image, record_messages
from .base import ExportOptions
from .chat import OPENAI_RULES, ChatRules
from .jsonl import MB, JsonlExporter, Target


class OpenAIExporter(JsonlExporter):
    name: ClassVar[str] = "openai"
    title: ClassVar[str] = "OpenAI fine-tuning"
    description: ClassVar[str] = "OpenAI fine-tuning JSONL (supervised chat, or DPO from preference pairs)"
    kinds: ClassVar[frozenset[str]] = frozenset({"sft", "dpo"})
    check_reserved: ClassVar[bool] = True
    rules: ClassVar[ChatRules] = OPENAI_RULES
    default_model: ClassVar[str] = "gpt-4o-mini"
    max_file_bytes: ClassVar[int] = 512 * MB

    def model_info(self, options: ExportOptions) -> Any:
        from ..tokens import resolve_model

        return resolve_model(options.model or self.default_model, options.models or None)

    def target(self, options: ExportOptions) -> Target:
        info = self.model_info(options)
        return Target(
            model=info.name,
            encoding=info.encoding,
            max_tokens_per_example=info.max_tokens_per_example,
            min_train_examples=info.min_examples,
            max_file_bytes=self.max_file_bytes,
            supports_dpo=info.supports_dpo,
            source="invalid_n_examples",
            counts_reasoning=False,  # the OpenAI and Azure files leave reasoning out (reasoning_dropped)
        )

    def convert(self, record: dict[str, Any], kind: str, options: ExportOptions, flags: set[str]) -> bytes | None:
        if kind == "dpo":
            if not self._dpo_ok(options):
                flags.add("dpo_unsupported")
                return None
        if not self._images_ok(options) and any(has_image(m) for m in record_messages(record)):
            flags.add("image_unsupported")  # vision fine-tuning is a few models' (the targets table says which)
            return None
        return super().convert(record, kind, options, flags)

    def _images_ok(self, options: ExportOptions) -> bool:
        cached = getattr(self, "_images_cache", None)
        if cached is None or cached[0] != options.model:
            from ..targets import target_for_model

            target = target_for_model(self.model_info(options).name)
            cached = (options.model, target is None or bool(target.content().images))
            self._images_cache = cached
        return cached[1]

    def _dpo_ok(self, options: ExportOptions) -> bool:
        cached = getattr(self, "_dpo_cache", None)
        if cached is None or cached[0] != options.model:
            cached = (options.model, self.target(options).supports_dpo)
            self._dpo_cache = cached
        return cached[1]
