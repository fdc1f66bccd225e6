"""The KTO label stage: undesirable answers (label false) are not SFT data."""

from __future__ import annotations

from typing import Any

from curation.pipeline.stages.labels import LabelConfig, LabelStage


def _record(**metadata: Any) -> dict[str, Any]:
    return {"id": "r", "messages": [], "metadata": metadata}


def test_label_stage() -> None:
    undesirable = _record(label=False)
    drop = LabelStage().process(undesirable)
    assert drop is not None and drop.reason == "undesirable_label"
    assert LabelStage().process(_record(label=True)) is None
    assert LabelStage().process(_record()) is None
    assert LabelStage(LabelConfig(keep_undesirable=True)).process(undesirable) is None
