"""Decontamination as a global stage: records that contain an evaluation item (see dedup/decontam.py).

Not wired into the runner yet (decontamination still runs inline in ``runner.process_batch``): this is the
stage's decision on a key table, so the runner can switch to it. Keys per kept row: the reference number
(-1 clean), the similarity, whether the match is exact and whether a user turn (not the whole text) matched.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable

KEY_DTYPE = np.dtype([("ref", np.int32), ("similarity", np.float32), ("exact", np.bool_), ("turn", np.bool_)])


def detail(ref_id: str, similarity: float, exact: bool, turn: bool) -> str:
    """The reject detail, as the inline runner code writes it."""
    where = "a user turn" if turn else "the conversation"
    return f"{where} {'exact' if exact else 'near'}ly matches evaluation item {ref_id} (similarity {similarity:.2f})"


class DecontaminateStage(GlobalStage):
    name: ClassVar[str] = "decontaminate"

    def __init__(self, ref_ids: list[str]) -> None:
        self.ref_ids = ref_ids

    def decide(self, table: KeyTable) -> Decision:
        keys = table.extra.get(self.name)
        if keys is None:
            return Decision()
        hit = np.flatnonzero(np.asarray(table.alive, dtype=bool) & (keys["ref"] >= 0))
        drops = {}
        for row in hit.tolist():
            ref_id, sim = self.ref_ids[int(keys["ref"][row])], float(keys["similarity"][row])
            drops[row] = GlobalDrop("eval_contamination", detail(ref_id, sim, bool(keys["exact"][row]),
                                                                 bool(keys["turn"][row])), ref_id, sim)  # type: ignore[arg-type]
        return Decision(drops=drops)
