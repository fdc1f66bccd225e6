"""Near dedup as a global stage: MinHash LSH candidates, verified, greedy centre clusters (no chains).

Every record it drops names a survivor it is itself similar to at or above the threshold (see
``curation.dedup.near.centre_clusters``); the similarity in rejects.jsonl is to that survivor.
The signatures are read in row chunks (``table.signatures`` may be a memmap of the run's work folder); when
a Ray session is up and the table has at least ``ray_min_rows`` rows, candidate generation and
verification run as Ray tasks (``curation.dedup.near_ray``), with the same result.
"""

from __future__ import annotations

import sys
from typing import ClassVar

import numpy as np

from curation.dedup.config import NearDedupConfig
from curation.dedup.near import ClusterResult, find_clusters
from curation.pipeline.global_stages.base import Decision, GlobalDrop, GlobalStage, KeyTable

REPORTED_CLUSTERS = 10
# Below this many rows the local path is faster than shipping chunks to Ray tasks (tests lower it).
RAY_MIN_ROWS = 500_000


class NearDedupStage(GlobalStage):
    name: ClassVar[str] = "near_dedup"

    def __init__(self, config: NearDedupConfig, ray_min_rows: int | None = None) -> None:
        self.config = config
        self.ray_min_rows = RAY_MIN_ROWS if ray_min_rows is None else ray_min_rows

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
        kwargs = {"threshold": self.config.threshold, "bands": bands, "rows": rows, "keep": self.config.keep,
                  "lengths": table.lengths, "quality": table.quality, "active": table.alive}
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
