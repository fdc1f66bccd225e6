"""Near dedup as a global stage: MinHash LSH candidates, verified, greedy centre clusters (no chains).

Every record it drops names a survivor it is itself similar to at or above the threshold (see
``curation.dedup.near.centre_clusters``); the similarity in rejects.jsonl is to that survivor.
The signatures are read in row chunks (``table.signatures`` may be a memmap of the run's work folder); when
a Ray session is up and the table has at least ``ray_min_rows`` rows, candidate generation and
verification run as Ray tasks (``curation.dedup.near_ray``), with the same result.
"""

from __future__ import annotations

import re
import sys
from typing import Any, ClassVar

import numpy as np
import xxhash

from curation.dedup.config import NearDedupConfig
from curation.dedup.near import ClusterResult, find_clusters
from curation.dedup.text import dedup_text, normalise_for_exact, user_turn_texts
from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable
from curation.records import is_preference, tree_id

REPORTED_CLUSTERS = 10
# Below this many rows the local path is faster than shipping chunks to Ray tasks (tests lower it).
RAY_MIN_ROWS = 500_000


_NUMBER = re.compile(r"\d+")
# LaTeX's function commands: "Compute $\sin 135^\circ$" and "Compute $\tan 135^\circ$" hold the same numbers and
# are two problems. Only the commands, not the bare words: "sin" is Spanish for "without".
_FUNCTION = re.compile(r"\\((?:arc)?(?:sin|cos|tan|cot|sec|csc)h?|log|ln|lg|exp|sqrt|lim|sum|prod|int|binom|gcd|det)"
                       r"(?![a-zA-Z])")


def _answers(record: dict[str, Any]) -> str:
    """A preference pair's chosen and rejected answers, normalised as for exact keys; "" for anything else."""
    if not is_preference(record):
        return ""
    return normalise_for_exact(dedup_text({"prompt": [], "chosen": record.get("chosen"),
                                           "rejected": record.get("rejected")}))


def guard_key(record: dict[str, Any], numbers: bool = True, pair_answers: bool = True) -> int:
    """What two near duplicates must share, as one 64-bit key: the numbers of their user turns
    (``numbers_key``) and, for preference pairs and questions asked of a passage, their answers; 0 when none
    applies."""
    number = numbers_key(record) if numbers else 0
    answers = _answers(record) if pair_answers else ""
    if not answers:
        answers = _passage_answer(record)
    if not answers:
        return number
    return xxhash.xxh3_64_intdigest(f"{number}\x00{answers}".encode("utf-8", "surrogatepass")) or 1


def _passage_answer(record: dict[str, Any]) -> str:
    """The answer of a question asked of a passage (SQuAD, RACE, DREAM: ``metadata.passage``) or of a path through
    a conversation tree (OpenAssistant: ``fields.tree_id``), normalised; "" for other records. The passage or the
    shared turns are most of such a record's text, so the questions of one passage and the sibling answers of one
    tree (52 of 543 paths of the real OA fixture) look like near copies of each other: only the same question
    (``metadata.asked``) with the same answer is one."""
    metadata = record.get("metadata")
    if not isinstance(metadata, dict):
        return ""
    if not (metadata.get("passage") or tree_id(record)):
        return ""
    messages = record.get("messages")
    reply = messages[-1] if isinstance(messages, list) and messages else None
    text = reply.get("content") if isinstance(reply, dict) and reply.get("role") == "assistant" else None
    asked = metadata.get("asked") or ""
    return f"passage\x00{asked}\x00{normalise_for_exact(text)}" if isinstance(text, str) else ""


def numbers_key(record: dict[str, Any]) -> int:
    """A 64-bit key of the numbers in a record's user turns (digit runs, as a multiset) and of the LaTeX
    functions beside them: near copies of one prompt hold the same numbers, and two prompts that differ only in
    them ("sin 135°" and "tan 45°" under one figure, "Compute 2+3" and "Compute 4+5", "\\sin 30^\\circ" and
    "\\cos 30^\\circ") are two problems with two answers. 0: no number."""
    text = "\n".join(t for t in user_turn_texts(record) if t)
    runs = _NUMBER.findall(text)
    if not runs:
        return 0
    parts = sorted(run.lstrip("0") or "0" for run in runs)
    if "\\" in text:
        parts += sorted(_FUNCTION.findall(text))
    return xxhash.xxh3_64_intdigest("\x00".join(parts).encode()) or 1


class NearDedupStage(GlobalStage):
    name: ClassVar[str] = "near_dedup"
    needs_keys: ClassVar[bool] = True

    def __init__(self, config: NearDedupConfig, ray_min_rows: int | None = None) -> None:
        self.config = config
        self.ray_min_rows = RAY_MIN_ROWS if ray_min_rows is None else ray_min_rows

    def keys(self, records: list[dict[str, Any]]) -> np.ndarray:
        """Per kept record, what its near duplicates must share (``guard_key``); zeros when both guards are off."""
        numbers, answers = self.config.same_numbers, self.config.same_pair_answers
        if not (numbers or answers):
            return np.zeros(len(records), dtype=np.uint64)
        return np.fromiter((guard_key(r, numbers, answers) for r in records), dtype=np.uint64, count=len(records))

    def decide(self, table: KeyTable) -> Decision:
        n = len(table)
        if n == 0 or table.signatures is None:
            return Decision()
        result = self._clusters(table)
        details: dict[float, str] = {}  # one detail string per printed similarity, shared by its drops
        drops = {}
        dups = np.flatnonzero(result.duplicate_of >= 0)
        for idx, survivor, sim in zip(dups.tolist(), result.duplicate_of[dups].tolist(),
                                      result.similarity[dups].tolist(), strict=True):
            detail = details.get(sim)
            if detail is None:
                detail = details[sim] = f"near duplicate (similarity {sim:.2f} to the kept record)"
            drops[idx] = GlobalDrop("near_duplicate", detail, survivor, sim)
        return Decision(drops=drops, cluster=result.cluster, clusters=_largest(result))

    def _clusters(self, table: KeyTable) -> ClusterResult:
        bands, rows = self.config.lsh_params()
        guard = table.extra.get(self.name) if self.config.same_numbers or self.config.same_pair_answers else None
        if guard is not None and len(guard) != len(table):  # keys of an older run's shards: compare without them
            guard = None
        kwargs = {"threshold": self.config.threshold, "bands": bands, "rows": rows, "keep": self.config.keep,
                  "lengths": table.lengths, "quality": table.quality, "active": table.alive, "guard": guard}
        if len(table) >= self.ray_min_rows and _ray_is_up():
            from curation.dedup.near_ray import find_clusters_on_ray

            return find_clusters_on_ray(table.signatures, **kwargs)  # type: ignore[arg-type]
        return find_clusters(table.signatures, **kwargs)  # type: ignore[arg-type]


def _ray_is_up() -> bool:
    ray = sys.modules.get("ray")  # never imported here: a run without Ray does not pay for the import
    return ray is not None and bool(ray.is_initialized())


def _largest(result: ClusterResult) -> list[dict[str, object]]:
    """The largest clusters for the report (ties: lowest id), with their kept record and members."""
    in_cluster = result.cluster >= 0
    if not in_cluster.any():
        return []
    sizes = np.bincount(result.cluster[in_cluster])
    ids = np.arange(len(sizes))
    clusters = []
    for cid in np.lexsort((ids, -sizes))[:REPORTED_CLUSTERS].tolist():
        idxs = np.flatnonzero(result.cluster == cid)
        kept = idxs[result.duplicate_of[idxs] < 0]
        keep = int(kept[0]) if len(kept) else int(idxs[0])
        sims = result.similarity[idxs[idxs != keep]]
        clusters.append({"id": cid, "size": len(idxs), "keep": keep, "members": idxs[:20].tolist(),
                         "min_similarity": round(float(sims.min()), 4) if len(sims) else None})
    return clusters
