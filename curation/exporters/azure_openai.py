"""Azure OpenAI fine-tuning files: the OpenAI format, Azure's model names and limits, optional UTF-8 BOM.

Azure's docs ask for JSONL "UTF-8 with BOM" under 512 MB (``--azure-bom`` writes the BOM; Azure also reads
files without one), at least 10 training examples, and list the per-example context length per model
(gpt-4o, gpt-4o-mini, gpt-4.1, gpt-4.1-mini 65,536; gpt-4.1-nano 32,768; gpt-35-turbo-0125 16,385).
Model names resolve through ``azure/<name>`` first (``gpt-4o-mini`` -> ``azure/gpt-4o-mini``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import CurationError
from .base import ExportOptions
from .chat import AZURE_RULES, ChatRules
from .openai import OpenAIExporter


class AzureOpenAIExporter(OpenAIExporter):
    name: ClassVar[str] = "azure-openai"
    rules: ClassVar[ChatRules] = AZURE_RULES  # OpenAI's, with Azure's 64 images per example
    title: ClassVar[str] = "Azure OpenAI fine-tuning"
    description: ClassVar[str] = "Azure OpenAI fine-tuning JSONL (OpenAI format; optional UTF-8 BOM)"
    # Open on Azure for SFT and DPO (curation/targets/table.toml); Azure's gpt-4o-mini takes no DPO.
    default_model: ClassVar[str] = "gpt-4.1-mini"

    def model_info(self, options: ExportOptions) -> Any:
        from ..tokens import resolve_model

        name = options.model or self.default_model
        if options.models and name in options.models:
            return resolve_model(name, options.models)
        if not name.startswith("azure/"):
            # A full snapshot name (gpt-4o-mini-2024-07-18) is Azure's row too, not OpenAI's: their DPO differs.
            for candidate in (f"azure/{name}", f"{name}@azure"):
                try:
                    return resolve_model(candidate)
                except CurationError:
                    pass
        return resolve_model(name)

    def bom(self, options: ExportOptions) -> bool:
        return options.azure_bom
