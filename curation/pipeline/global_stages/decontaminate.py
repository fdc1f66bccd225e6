"""Decontamination as a global stage: records that contain an evaluation item (see dedup/decontam.py).

The reference index is built once, in the main process (``load``), and travels to the workers inside the
stage. Workers query it for their kept records (``keys``): per row the reference number (-1 clean, -2 the
query failed on this record), the similarity, whether the match is exact and whether a user turn (not the
whole text) matched. The main process then drops the matched rows (``decide``) before exact dedup runs, so a
contaminated record never survives as the kept copy of a duplicate cluster.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from curation.errors import CurationError
from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable

if TYPE_CHECKING:
    from curation.config import RunConfig
    from curation.dedup.config import DecontaminationConfig

KEY_DTYPE = np.dtype([("ref", np.int32), ("similarity", np.float32), ("exact", np.bool_), ("turn", np.bool_),
                      ("contained", np.bool_)])
_CLEAN, _FAILED = -1, -2


def detail(ref_id: str, similarity: float, exact: bool, turn: bool, contained: bool = False) -> str:
    """The reject detail: where the match is, how, which item."""
    if contained:
        return (f"the conversation holds {similarity:.0%} of the word sequences of evaluation item {ref_id}'s "
                "question (containment)")
    where = "a user turn" if turn else "the conversation"
    return f"{where} {'exact' if exact else 'near'}ly matches evaluation item {ref_id} (similarity {similarity:.2f})"


class DecontaminateStage(GlobalStage):
    name: ClassVar[str] = "decontaminate"
    needs_keys: ClassVar[bool] = True

    def __init__(self, config: DecontaminationConfig | None = None, ref_ids: list[str] | None = None) -> None:
        self.config = config
        self.reference: Any = None  # dedup.decontam.ReferenceIndex, built by load()
        self.ref_ids: list[str] = list(ref_ids or [])
        self.eval_files: list[Any] = []  # what each evaluation file gave, for the report (main process only)
        self._ref_number: dict[str, int] = {}

    def __getstate__(self) -> dict[str, Any]:  # workers get the built index, not the report's file list
        return {"config": self.config, "reference": self.reference, "ref_ids": self.ref_ids}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.config, self.reference, self.ref_ids = state["config"], state["reference"], state["ref_ids"]
        self.eval_files = []
        self._ref_number = {rid: i for i, rid in enumerate(self.ref_ids)}

    def load(self) -> None:
        """Read the evaluation files and index them; an unreadable or empty file is a config error."""
        if self.reference is not None or self.config is None:
            return
        from curation.dedup.decontam import ReferenceIndex
        from curation.dedup.eval_sets import load_eval_sets

        records, ids, self.eval_files = load_eval_sets(self.config.paths)
        self.reference = ReferenceIndex.build(records, ids=ids, config=self.config)
        self.ref_ids = list(self.reference.ref_ids)
        self._ref_number = {rid: i for i, rid in enumerate(self.ref_ids)}

    def keys(self, records: list[dict[str, Any]]) -> np.ndarray:
        self.load()
        rows = np.zeros(len(records), dtype=KEY_DTYPE)
        rows["ref"] = _CLEAN
        if not records:
            return rows
        try:  # one query per batch: signing and band keys batched, 4x cheaper than record by record
            found = self.reference.query_records(records)
        except Exception:  # noqa: BLE001 - one odd record: find it record by record
            found = []
            for i, record in enumerate(records):
                try:
                    found.append(self.reference.query_record(record))
                except Exception:  # noqa: BLE001 - a bad record never stops a run; decide drops it
                    found.append(None)
                    rows["ref"][i] = _FAILED
        for i, hit in enumerate(found):
            if hit is not None:
                rows[i] = (self._ref_number[hit.ref_id], hit.similarity, hit.kind == "exact", hit.probe == "turn",
                           hit.kind == "contained")
        return rows

    def decide(self, table: KeyTable) -> Decision:
        keys = table.extra.get(self.name)
        if not len(table):
            return Decision()
        if keys is None or len(keys) != len(table):  # never keep a record unchecked
            raise CurationError(f"decontamination keys cover {0 if keys is None else len(keys)} of {len(table)} "
                                "kept records", hint="re-run with --no-resume (shards of an older version?)")
        alive = np.asarray(table.alive, dtype=bool)
        drops: dict[int, GlobalDrop] = {}
        matched: Counter[str] = Counter()
        for row in np.flatnonzero(alive & (keys["ref"] >= 0)).tolist():
            ref_id, sim = self.ref_ids[int(keys["ref"][row])], float(keys["similarity"][row])
            drops[row] = GlobalDrop("eval_contamination", detail(ref_id, sim, bool(keys["exact"][row]),
                                                                 bool(keys["turn"][row]),
                                                                 bool(keys["contained"][row])), ref_id, sim)
            matched[ref_id] += 1
        for row in np.flatnonzero(alive & (keys["ref"] == _FAILED)).tolist():
            drops[row] = GlobalDrop("stage_error", "the decontamination query failed on this record "
                                    "(a bug: please report it with this record)")
        sections = {}
        if self.eval_files:
            from curation.dedup.eval_sets import eval_report

            sections["decontamination"] = {"eval_files": eval_report(self.eval_files, matched)}
        return Decision(drops=drops, report=sections)


def build(config: RunConfig) -> DecontaminateStage | None:
    dc = config.decontaminate
    return DecontaminateStage(dc) if dc.enabled and dc.paths else None
