"""Honour KTO labels: an answer labelled undesirable (``metadata.label`` false) is not SFT data.

Readers put a KTO file's boolean ``label`` into ``metadata.label``. ``label: true`` records are ordinary
SFT conversations; ``label: false`` ones are rejected here (``undesirable_label``) so that they reach no
split and no SFT export, unless ``labels.keep_undesirable`` keeps them for a KTO export
(``curate export --format hf --method kto``), which every SFT exporter then skips.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from curation.pipeline.base import Drop, RecordStage
from curation.records import is_undesirable


class LabelConfig(BaseModel):
    """Settings of the ``label`` stage."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    enabled: bool = Field(True, description="Run this stage.")
    keep_undesirable: bool = Field(
        False,
        description="Keep KTO records labelled false in the splits for a KTO export (export.method: kto); SFT "
        "exports skip them either way.",
    )


class LabelStage(RecordStage):
    """Drops ``undesirable_label`` records (KTO ``label: false``) unless kept for a KTO export."""

    name: ClassVar[str] = "label"

    def __init__(self, config: LabelConfig | None = None) -> None:
        self.config = config or LabelConfig()

    def process(self, record: dict[str, Any]) -> Drop | None:
        if is_undesirable(record) and not self.config.keep_undesirable:
            source = record["metadata"].get("label_from")
            why = f"the dataset marks it {source}" if isinstance(source, str) else "labelled false"
            return Drop("undesirable_label", f"{why} (an undesirable answer): not SFT data; set "
                        "labels.keep_undesirable: true to keep it for a KTO export")
        return None
